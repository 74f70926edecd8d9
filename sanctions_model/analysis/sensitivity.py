"""Sensitivity analysis backed by SALib: which assumptions decide an outcome, and by how much.

Four methods share one signature, ``method(problem, f, n, *, seed=...)``:

- :func:`oat`: one at a time, each input at its low and high with the others at base (a
  tornado chart's numbers);
- :func:`morris`: Morris elementary effects, cheap screening of many inputs;
- :func:`sobol`: first-order and total Sobol' indices with bootstrap confidence intervals;
- :func:`monte_carlo`: a Latin hypercube over the inputs, with each input's rank
  correlation to each outcome (:func:`monte_carlo_sample` gives the outcome distributions).

``problem`` follows SALib (``{"names": [...], "bounds": [[low, high], ...]}``, optionally
``"base": [...]`` for :func:`oat`); :func:`problem_from_params` builds it from
``params/``. ``f`` is vectorised: it takes an array (n, k) and returns (n,) or (n, m) for m
outcomes (a DataFrame's column names become the outcome names). Every result is a DataFrame
indexed by input name; ``result.attrs`` records the method, the seed and the number of
evaluations of ``f``. The same seed gives the same numbers.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import qmc, spearmanr

from ..errors import InputError, suggest
from ..inputs.params import ParameterSet
from ..runs.evaluate import Evaluation, batches, concat, evaluate_batch
from ..runs.executors import check_workers, map_in_processes
from .alignment import matched


class SensitivityWarning(UserWarning):
    """The sample was too small for the indices to rank the inputs."""


def problem_from_params(params: ParameterSet, names: Sequence[str] | None = None) -> dict:
    """SALib's problem over some parameters, from their ranges in ``params/``.

    Parameters
    ----------
    params : ParameterSet
        Gives each parameter's range and base value.
    names : list of str, optional
        Parameters to vary; default every uncertainty (non-lever parameters with a range).

    Returns
    -------
    dict
        ``num_vars``, ``names``, ``bounds`` ([low, high] in each parameter's unit) and
        ``base`` (values, used by :func:`oat`).
    """
    from ..runs.designs import uncertainties

    names = list(names) if names is not None else uncertainties(params)
    for name in names:
        if name not in params:
            raise InputError(f"unknown parameter '{name}'")
    specs = [params.parameters[n] for n in names]
    return {"num_vars": len(names), "names": names, "bounds": [[p.low, p.high] for p in specs],
            "base": [p.value for p in specs]}


def _check(problem: Mapping, n: int) -> tuple[list[str], np.ndarray]:
    if not isinstance(problem, Mapping) or "names" not in problem or "bounds" not in problem:
        raise InputError("problem must be a dict with 'names' and 'bounds' (SALib's convention).")
    names = list(problem["names"])
    bounds = np.asarray(problem["bounds"], dtype=float)
    if bounds.shape != (len(names), 2) or not np.isfinite(bounds).all() or (bounds[:, 0] > bounds[:, 1]).any():
        raise InputError("problem bounds must be finite [low, high] pairs, one per name, with low <= high.")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"n must be a whole number of at least 1, got {n!r}.")
    from ..limits import check_memory

    check_memory(float(n) * (len(names) + 2) * len(names), f"a sample of n = {n:,} over {len(names)} inputs")
    point = [name for name, (low, high) in zip(names, bounds) if low == high]
    if point:
        raise InputError(f"'{point[0]}' cannot vary: its range [{bounds[names.index(point[0])][0]:g}, "
                         f"{bounds[names.index(point[0])][1]:g}] is a single point.")
    return names, bounds


def _salib_problem(names: list[str], bounds: np.ndarray) -> dict:
    """The problem as SALib's samplers and analysers take it (no extra keys)."""
    return {"num_vars": len(names), "names": names, "bounds": bounds.tolist()}


def _evaluate(f: Callable, x: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Call ``f`` and return outputs as (n, m) with outcome names."""
    return _outputs(f(x), x.shape[0])


def _aligned(x: object, y: object, names: list[str]) -> tuple[object, object]:
    """``x`` and ``y`` as ``analyze`` reads them: a DataFrame ``x`` by its columns' names (in the
    problem's order; other columns, a ``sample_id`` say, are left aside), and a DataFrame or Series
    ``y`` by its index, matched to a DataFrame ``x``'s; refused where they do not match, rather than
    paired by position."""
    if isinstance(x, pd.DataFrame):
        missing = [name for name in names if name not in x.columns]
        if missing or x.columns.has_duplicates:
            raise InputError(f"x is a DataFrame without a column for each of the problem's inputs (missing: "
                             f"{', '.join(missing[:5]) or 'none'}; repeated columns: "
                             f"{'yes' if x.columns.has_duplicates else 'no'}); name its columns as problem['names'].")
        if isinstance(y, (pd.DataFrame, pd.Series)):
            y = matched(y, x.index, "y's index is not x's rows; give y indexed as x is (or plain arrays in one order).")
        x = x[names]
    return x, y


def _outputs(y: object, rows: int) -> tuple[np.ndarray, list[str]]:
    """Model outputs ``y`` for ``rows`` input rows as (rows, m) with outcome names; refused when
    a run failed or an outcome is undefined somewhere."""
    y_frame = y if isinstance(y, pd.DataFrame) else None
    values: np.ndarray
    if isinstance(y, pd.DataFrame):
        names = [str(c) for c in y.columns]
        values = y.to_numpy(dtype=float)
    elif isinstance(y, pd.Series):
        names = [str(y.name) if y.name is not None else "y"]
        values = y.to_numpy(dtype=float)[:, None]
    else:
        try:
            values = np.asarray(y, dtype=float)
        except (TypeError, ValueError):
            raise InputError(f"the outputs must be numbers (an array or a DataFrame), got {type(y).__name__}."
                             ) from None
        if values.ndim == 1:
            values = values[:, None]
        names = ["y"] if values.ndim == 2 and values.shape[1] == 1 else [f"y{i}" for i in range(values.shape[-1])]
    if values.ndim != 2 or values.shape[0] != rows or values.shape[1] == 0:
        raise InputError(f"the outputs have shape {values.shape} for {rows} input rows: one row per input row, "
                         "and at least one outcome.")
    y = values
    undefined = ~np.isfinite(y)
    failed = getattr(y_frame, "attrs", {}).get("failed") if y_frame is not None else None
    if failed:
        first = min(failed)
        raise InputError(
            f"{len(failed):,} of {y.shape[0]:,} runs failed (the solver could not integrate them; the first, row "
            f"{first}: {failed[first]}); sensitivity indices need every run. Narrow the ranges of the parameters "
            "those rows push to their extremes (a sweep records which samples failed, and goes on), or ask for "
            "rank correlations of the runs that did not fail (method 'monte_carlo' on a sweep).")
    if undefined.any():  # SALib would count them as zeros or drop them: indices of nothing, or "no effect"
        m = int(np.flatnonzero(undefined.any(axis=0))[0])
        raise InputError(
            f"outcome '{names[m]}' is undefined (NaN or infinite) in {int(undefined[:, m].sum()):,} of {y.shape[0]:,} "
            "runs (for a model outcome: the event it is measured at does not happen in those runs); sensitivity "
            "indices need a value in every run. Analyse a defined outcome instead: a probability within the "
            "horizon (a chance by day 100 or within a year needs a horizon that long), a yes/no event, or a day "
            "(censored at the horizon + 1 when it does not come).")
    return y, names


def _frame(per_outcome: dict[str, pd.DataFrame], attrs: dict) -> pd.DataFrame:
    """One outcome: plain columns; several: columns (outcome, statistic)."""
    if len(per_outcome) == 1:
        frame = next(iter(per_outcome.values()))
    else:
        frame = pd.concat(per_outcome, axis=1)
    frame.index.name = "input"
    frame.attrs.update(attrs)
    return frame


#: Methods :func:`analyze` knows, and the sweep design each needs.
ANALYSES = {"oat": "oat", "morris": "morris", "sobol": "saltelli", "monte_carlo": "any"}
#: The fewest sets rank correlations are computed from (``monte_carlo``).
MIN_RANK_ROWS = 10


def analyze(method: str, problem: Mapping, x: np.ndarray | pd.DataFrame, y: object, *, seed: int | None = None,
            num_levels: int = 4, num_resamples: int = 200, conf_level: float = 0.95) -> pd.DataFrame:
    """Sensitivity indices from inputs ``x`` and outputs ``y`` already computed (in memory, or
    read from a sweep: :func:`analyze_sweep`).

    Parameters
    ----------
    method : str
        ``oat`` (``x`` from the one-at-a-time rule: the base row, then each input at its low
        and high), ``morris`` (``x`` from SALib's Morris sampler), ``sobol`` (``x`` from
        SALib's Saltelli/Sobol' sampler without second order) or ``monte_carlo`` (any ``x``).
    problem : dict
        SALib's convention: ``{"names": [...], "bounds": [[low, high], ...]}``.
    x : array (rows, k), or DataFrame
        The inputs, in the order of ``problem["names"]`` (a DataFrame's columns are read by those names).
    y : array (rows,) or (rows, m), or DataFrame or Series
        The outputs (a DataFrame's columns name the outcomes); every value must be defined. With a
        DataFrame ``x``, a DataFrame or Series ``y`` is matched to its rows by index.
    seed : int, optional
        Seed of the bootstrap (morris, sobol).
    num_levels : int
        Grid levels of the Morris design ``x`` was drawn with.
    num_resamples : int
        Bootstrap resamples of the Sobol' intervals.
    conf_level : float
        Confidence level of the Sobol' intervals (0-1).

    Returns
    -------
    pandas.DataFrame
        As the method's own function (:func:`oat`, :func:`morris`, :func:`sobol`,
        :func:`monte_carlo`) returns it.
    """
    if method not in ANALYSES:
        raise InputError(f"unknown method '{method}'.{suggest(method, ANALYSES)} Methods: {', '.join(ANALYSES)}.")
    names, bounds = _check(problem, 1)
    given, y = _aligned(x, y, names)
    try:
        x = np.atleast_2d(np.asarray(given, dtype=float))
    except (TypeError, ValueError) as exc:
        raise InputError(f"x must be an array of numbers (rows x inputs): {exc}") from None
    if x.size == 0:
        raise InputError("x must hold at least one row of finite inputs.")
    if not np.isfinite(x).all():
        row = int(np.flatnonzero(~np.isfinite(x).all(axis=1))[0]) + 1
        raise InputError(f"x must hold at least one row of finite inputs; row {row} holds NaN or infinity.")
    if x.shape[1] != len(names):
        raise InputError(f"x has {x.shape[1]} columns for {len(names)} inputs in the problem.")
    yy, outcomes = _outputs(y, x.shape[0])
    prob = _salib_problem(names, bounds)
    per: dict[str, pd.DataFrame] = {}
    attrs: dict[str, object] = {"method": method, "seed": seed, "n_evaluations": x.shape[0]}
    k = len(names)
    if method == "oat":
        if x.shape[0] != 1 + 2 * k:
            raise InputError(f"an OAT design over {k} inputs has {1 + 2 * k} rows, x has {x.shape[0]}.")
        for m, out in enumerate(outcomes):
            low, high = yy[1::2, m], yy[2::2, m]
            per[out] = pd.DataFrame({"low": low, "high": high, "base": yy[0, m], "swing": np.abs(high - low)},
                                    index=pd.Index(names))
        if len(per) == 1:
            per = {k_: v.sort_values("swing", ascending=False) for k_, v in per.items()}
    elif method == "morris":
        from SALib.analyze import morris as salib_morris

        if x.shape[0] % (k + 1):
            raise InputError(f"a Morris design over {k} inputs has a multiple of {k + 1} rows, x has {x.shape[0]}.")
        moved = np.diff(x.reshape(-1, k + 1, k), axis=1) != 0  # (trajectory, step, input)
        if not (moved.sum(axis=2) == 1).all() or not (moved.sum(axis=1) == 1).all():
            bad = int(np.flatnonzero(~((moved.sum(axis=2) == 1).all(axis=1) & (moved.sum(axis=1) == 1).all(axis=1)))[0])
            raise InputError(f"x is not a Morris design: in trajectory {bad + 1} (rows {bad * (k + 1) + 1} to "
                             f"{(bad + 1) * (k + 1)}) each step must move one input and each input must move once; "
                             "draw x with SALib's morris sampler (or a sweep with --design morris).")
        for m, out in enumerate(outcomes):
            res = salib_morris.analyze(prob, x, yy[:, m], num_levels=num_levels, seed=seed)
            per[out] = pd.DataFrame({key: np.asarray(res[key], dtype=float)
                                     for key in ("mu", "mu_star", "sigma", "mu_star_conf")}, index=pd.Index(names))
        attrs["trajectories"] = x.shape[0] // (k + 1)
    elif method == "sobol":
        from SALib.analyze import sobol as salib_sobol

        if x.shape[0] % (k + 2):
            raise InputError(f"a Saltelli design over {k} inputs (first and total order) has a multiple of {k + 2} "
                             f"rows, x has {x.shape[0]}.")
        n = x.shape[0] // (k + 2)
        blocks = x.reshape(n, k + 2, k)  # per block: A, AB_1 .. AB_k (A with input i from B), B
        a_rows, b_rows, ab = blocks[:, :1, :], blocks[:, -1:, :], blocks[:, 1:-1, :]
        own = np.eye(k, dtype=bool)[None]  # AB_i's input i
        if not ((ab == np.where(own, b_rows, a_rows)).all(axis=(1, 2))).all():
            bad = int(np.flatnonzero(~(ab == np.where(own, b_rows, a_rows)).all(axis=(1, 2)))[0])
            raise InputError(f"x is not a Saltelli design: in block {bad + 1} (rows {bad * (k + 2) + 1} to "
                             f"{(bad + 1) * (k + 2)}) row 1 + i must be the first row with input i from the last "
                             "row; draw x with SALib's sobol sampler (calc_second_order=False, or a sweep with "
                             "--design saltelli).")
        for m, out in enumerate(outcomes):
            col = yy[:, m]
            if np.nanstd(col) == 0:
                per[out] = pd.DataFrame(0.0, index=pd.Index(names), columns=["S1", "S1_conf", "ST", "ST_conf"])
                continue
            res = salib_sobol.analyze(prob, col, calc_second_order=False, num_resamples=num_resamples,
                                      conf_level=conf_level, seed=seed)
            frame = pd.DataFrame({key: np.asarray(res[key], dtype=float) for key in ("S1", "S1_conf", "ST", "ST_conf")},
                                 index=pd.Index(names))
            if frame["ST_conf"].max() > 0.5 * max(frame["ST"].max(), 1e-12):
                warnings.warn(f"Sobol' indices of '{out}' from {x.shape[0]} evaluations (n = {n}) have confidence "
                              "intervals too wide to rank the inputs; increase n.", SensitivityWarning, stacklevel=2)
            per[out] = frame
        attrs["base_samples"] = n
    else:
        if x.shape[0] < MIN_RANK_ROWS:  # one set ranks nothing, and two give every input a correlation of +-1
            raise InputError(f"rank correlations need at least {MIN_RANK_ROWS} sets to say anything, got {x.shape[0]}.")
        for m, out in enumerate(outcomes):
            rho = []
            for j in range(k):
                if np.std(x[:, j]) == 0 or np.nanstd(yy[:, m]) == 0:
                    rho.append(0.0)
                else:
                    rho.append(float(spearmanr(x[:, j], yy[:, m], nan_policy="omit").statistic))
            per[out] = pd.DataFrame({"spearman": rho, "abs": np.abs(rho)}, index=pd.Index(names))
    return _frame(per, attrs)


#: The sensitivity method a sweep's design supports: its own for a SALib design, rank
#: correlations for the others.
METHOD_OF_DESIGN = {"saltelli": "sobol", "morris": "morris", "oat": "oat", "lhs": "monte_carlo",
                    "sobol": "monte_carlo", "grid": "monte_carlo"}


def analyze_sweep(sweep: object, outcomes: Sequence[str] | None = None, scenario: str | None = None,
                  method: str | None = None) -> pd.DataFrame:
    """Sensitivity indices of a stored sweep: a ``saltelli`` sweep gives Sobol' indices, ``morris``
    elementary effects, ``oat`` swings, and any other design rank correlations.

    Parameters
    ----------
    sweep : SweepResult or path
        A complete sweep directory (:func:`sanctions_model.run_sweep`).
    outcomes : list of str, or str, optional
        Outcomes to analyse (default: those of ``sanctions-model sensitivity``), with the
        conventions of :func:`model_function` (yes/no as 0 or 1, a crossing that does not come
        at the horizon + 1).
    scenario : str, optional
        Which of the sweep's scenarios (needed when it ran several).
    method : str, optional
        Default: the one the design supports (``METHOD_OF_DESIGN``); ``monte_carlo`` works on
        any design.

    Returns
    -------
    pandas.DataFrame
        As :func:`analyze`; ``.attrs`` adds ``sweep``, ``scenario`` and ``design``.
    """
    from ..runs.designs import Design
    from ..runs.evaluate import Evaluation
    from ..runs.sweep_result import SweepResult, open_sweep

    result = sweep if isinstance(sweep, SweepResult) else open_sweep(sweep)  # type: ignore[arg-type]
    if not result.complete:
        raise InputError(f"{result.path}: the sweep is not complete (some chunks are missing); run its command "
                         "again to finish it, then analyse it.")
    design = Design.from_dict(result.settings["design"])
    chosen = method or METHOD_OF_DESIGN[design.kind]
    if chosen not in ANALYSES:
        raise InputError(f"unknown method '{chosen}'.{suggest(chosen, ANALYSES)} Methods: {', '.join(ANALYSES)}.")
    if ANALYSES[chosen] not in ("any", design.kind):
        raise InputError(f"{result.path}: a '{design.kind}' design cannot give {chosen} indices; they need a "
                         f"'{ANALYSES[chosen]}' design (sanctions-model sweep --design {ANALYSES[chosen]}), or ask for "
                         "rank correlations (method 'monte_carlo'; --method mc on the command line).")
    scenario = result.one_scenario(scenario)
    from ..core.outcomes import OUTCOMES

    outcomes = [outcomes] if isinstance(outcomes, str) else list(outcomes) if outcomes else \
        default_outcomes(float(result.settings["days"]))
    for out in outcomes:
        if not isinstance(out, str) or out not in OUTCOMES:
            raise InputError(f"unknown outcome '{out}'.{suggest(out, OUTCOMES)}")
    samples = result.samples.sort_values("sample_id")
    rows = result.outcomes
    rows = rows[rows["scenario"] == scenario].set_index("sample_id").reindex(samples["sample_id"])
    x = samples[list(design.names)].to_numpy()
    ok = (rows["status"] == "ok").to_numpy()
    left_out = 0
    if chosen == "monte_carlo" and not ok.all():  # rank correlations need no design: the runs that ran will do
        if ok.sum() < 3:
            raise InputError(f"{result.path}: {int(ok.sum())} of {len(ok):,} runs under {scenario} did not fail; "
                             "rank correlations need at least 3.")
        left_out = int((~ok).sum())
        x, rows, ok = x[ok], rows[ok], ok[ok]
    evaluation = Evaluation({out: rows[out].to_numpy() for out in outcomes}, ok,
                            rows["message"].to_numpy(dtype=object))
    y = sensitivity_table(evaluation, outcomes, float(result.settings["days"]))
    table = analyze(chosen, design.problem(), x, y, seed=design.seed, num_levels=design.num_levels)
    table.attrs.update({"sweep": str(result.path), "scenario": scenario, "design": design.kind,
                        "failed_left_out": left_out})
    return table


#: Outcomes :func:`analyze_sweep` and ``sanctions-model sensitivity`` analyse by default
#: (:func:`default_outcomes` leaves out those the horizon does not reach).
DEFAULT_OUTCOMES = ("p_talks_100_days", "p_ceasefire_1_year", "p_ceasefire_horizon", "reserves_at_horizon",
                    "peak_strain")


def default_outcomes(days: float) -> list[str]:
    """:data:`DEFAULT_OUTCOMES` that a horizon of ``days`` defines: a chance by day 100 needs 100 days,
    one within a year 365."""
    reach = {"p_talks_100_days": 100.0, "p_ceasefire_1_year": 365.0}
    return [out for out in DEFAULT_OUTCOMES if days >= reach.get(out, 0.0)]


def oat(problem: Mapping, f: Callable, n: int = 1, *, seed: int | None = None) -> pd.DataFrame:
    """One at a time: each input at its low and its high, the others at base.

    Parameters
    ----------
    problem : dict
        SALib's convention: ``{"names": [...], "bounds": [[low, high], ...]}`` (see
        :func:`problem_from_params`).
    f : callable
        Vectorised model: an array (rows, k) in, an array (rows,) or (rows, m) or a
        DataFrame out (its column names become the outcome names).
    n : int
        Accepted for a common signature; the design is deterministic, 1 + 2k rows.
    seed : int, optional
        Accepted for a common signature; unused.

    Returns
    -------
    pandas.DataFrame
        Indexed by input: ``low`` and ``high`` (the outcome with the input at that end, in
        the outcome's unit), ``base`` and ``swing`` = abs(high - low); sorted by swing for
        one outcome, columns (outcome, statistic) for several. Base values are
        ``problem["base"]`` or the middle of the bounds. ``.attrs["n_evaluations"]`` counts
        the model runs.
    """
    names, bounds = _check(problem, n)
    base = np.asarray(problem.get("base", bounds.mean(axis=1)), dtype=float)
    k = len(names)
    x = np.repeat(base[None, :], 1 + 2 * k, axis=0)
    for j in range(k):
        x[1 + 2 * j, j], x[2 + 2 * j, j] = bounds[j]
    result = analyze("oat", problem, x, f(x))
    result.attrs["seed"] = seed
    return result


def morris(problem: Mapping, f: Callable, n: int, *, seed: int | None = None, num_levels: int = 4) -> pd.DataFrame:
    """Morris elementary effects (SALib): screening many inputs cheaply.

    Parameters
    ----------
    problem : dict
        SALib's convention: ``{"names": [...], "bounds": [[low, high], ...]}`` (see
        :func:`problem_from_params`).
    f : callable
        Vectorised model: an array (rows, k) in, an array (rows,) or (rows, m) or a
        DataFrame out (its column names become the outcome names).
    n : int
        Trajectories; the model runs n (k + 1) times.
    seed : int, optional
        Seed of the trajectories and of the bootstrap.
    num_levels : int
        Grid levels of the Morris design.

    Returns
    -------
    pandas.DataFrame
        Indexed by input: ``mu``, ``mu_star``, ``sigma`` (in the outcome's unit over the
        input's range) and ``mu_star_conf`` (95% bootstrap half-width of mu_star).
    """
    from SALib.sample import morris as sample

    names, bounds = _check(problem, n)
    x = sample.sample(_salib_problem(names, bounds), n, num_levels=num_levels, seed=seed)
    return analyze("morris", problem, x, f(x), seed=seed, num_levels=num_levels)


def sobol(problem: Mapping, f: Callable, n: int, *, seed: int | None = None, num_resamples: int = 200,
          conf_level: float = 0.95) -> pd.DataFrame:
    """First-order and total Sobol' indices (SALib, Saltelli's scheme).

    Parameters
    ----------
    problem : dict
        SALib's convention: ``{"names": [...], "bounds": [[low, high], ...]}`` (see
        :func:`problem_from_params`).
    f : callable
        Vectorised model: an array (rows, k) in, an array (rows,) or (rows, m) or a
        DataFrame out (its column names become the outcome names).
    n : int
        Base samples, a power of 2; the model runs n (k + 2) times.
    seed : int, optional
        Seed of the Sobol' sequence's scrambling and of the bootstrap.
    num_resamples : int
        Bootstrap resamples for the intervals.
    conf_level : float
        Confidence level of the intervals (0-1).

    Returns
    -------
    pandas.DataFrame
        Indexed by input: ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (shares of variance, 0-1;
        ``_conf`` is the half-width of the interval). An outcome that never varies gets
        zeros.

    Warns
    -----
    SensitivityWarning
        When the intervals are too wide to rank the inputs: the widest total-index interval
        exceeds half the largest total index.
    """
    from SALib.sample import sobol as sample

    names, bounds = _check(problem, n)
    if n & (n - 1):
        raise InputError(f"n must be a power of 2 for Sobol' indices (the Sobol' sequence needs it), got {n}; "
                         f"the nearest are {1 << (n.bit_length() - 1)} and {1 << n.bit_length()}.")
    x = sample.sample(_salib_problem(names, bounds), n, calc_second_order=False, seed=seed)
    return analyze("sobol", problem, x, f(x), seed=seed, num_resamples=num_resamples, conf_level=conf_level)


def monte_carlo_sample(problem: Mapping, f: Callable, n: int, *, seed: int | None = None
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n`` Latin-hypercube input sets, uniform over the bounds, and ``f`` at each.

    Parameters
    ----------
    problem : dict
        SALib's convention: ``{"names": [...], "bounds": [[low, high], ...]}`` (see
        :func:`problem_from_params`).
    f : callable
        Vectorised model: an array (rows, k) in, an array (rows,) or (rows, m) or a
        DataFrame out (its column names become the outcome names).
    n : int
        Input sets.
    seed : int, optional
        Seed of the hypercube.

    Returns
    -------
    inputs, outputs : pandas.DataFrame
        One row per set: the inputs (in their units), and the outcomes.
    """
    names, bounds = _check(problem, n)
    unit = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(seed)).random(n)
    x = bounds[:, 0] + unit * (bounds[:, 1] - bounds[:, 0])
    y, outcomes = _evaluate(f, x)
    return pd.DataFrame(x, columns=names), pd.DataFrame(y, columns=outcomes)


def monte_carlo(problem: Mapping, f: Callable, n: int, *, seed: int | None = None) -> pd.DataFrame:
    """Rank correlation of each input with each outcome over a Latin hypercube of ``n`` sets.

    Parameters
    ----------
    problem : dict
        SALib's convention: ``{"names": [...], "bounds": [[low, high], ...]}`` (see
        :func:`problem_from_params`).
    f : callable
        Vectorised model: an array (rows, k) in, an array (rows,) or (rows, m) or a
        DataFrame out (its column names become the outcome names).
    n : int
        Input sets.
    seed : int, optional
        Seed of the hypercube; :func:`monte_carlo_sample` with the same seed draws the same
        sets and returns the outcome distributions themselves.

    Returns
    -------
    pandas.DataFrame
        Indexed by input: ``spearman`` (-1 to 1) and ``abs``.
    """
    inputs, outputs = monte_carlo_sample(problem, f, n, seed=seed)
    return analyze("monte_carlo", problem, inputs.to_numpy(), outputs, seed=seed)


#: Rows of ``x`` integrated in one batch by the model functions below (bounds memory: a
#: batch holds every state at every output day).
CHUNK_ROWS = 2000


def model_function(
    params: ParameterSet,
    names: Sequence[str],
    outcomes: Sequence[str] = ("p_talks_100_days", "p_ceasefire_horizon"),
    days: float = 730,
    *,
    variable: str | None = None,
    every_days: float = 30.0,
    workers: int | None = None,
) -> Callable[[np.ndarray], pd.DataFrame]:
    """The model as a vectorised ``f(x) -> DataFrame`` for the methods above.

    Parameters
    ----------
    params : ParameterSet
        Values of every parameter not in ``names`` (the levers, for a scenario).
    names : list of str
        The parameters the columns of ``x`` give, in order.
    outcomes : list of str
        Outcome columns (see :data:`sanctions_model.core.outcomes.OUTCOMES`).
    days : float [day]
        Horizon.
    variable : str, optional
        A stock or flow to return over time as well.
    every_days : float [day]
        Interval of ``variable``'s columns.
    workers : int, optional
        Local processes the chunks of ``x`` run on (default None: what
        ``sanctions_model.execution`` says, else every core; 1: this process). Chunks are the
        same whatever the number, so are the results (to rounding).

    Returns
    -------
    callable
        ``f(x)`` with ``x`` an array (rows, len(names)); returns a DataFrame, one row per
        run, one column per outcome (and per date of ``variable``).

    Notes
    -----
    ``x`` (n, k) gives values of ``names`` (in that order) over ``params``; each row is one
    run, integrated in batches of :data:`CHUNK_ROWS`. Outcomes are columns of
    :func:`simulate_batch`, with two conventions for sensitivity:

    - probabilities (the decision core's outcomes) are used as they are, smooth in every input;
    - yes/no outcomes are 0 or 1, so their mean over a sample is a probability;
    - a crossing day that does not happen within the horizon (NaN in a run) is set to the
      horizon plus one day: "not by the horizon" ranks after every crossing that happens,
      and its exact value cannot be known from the run (the indices of a censored outcome
      describe the model up to the horizon only).

    With ``variable`` (a stock or flow), the function also returns that variable every
    ``every_days`` days, as columns ``day_30``, ``day_60``, ... (same runs, no extra cost):
    any method then gives its indices at each of those dates.
    """
    from ..core.model import FLOWS, STATES
    from ..core.outcomes import OUTCOMES
    from ..runs.run import check_days

    days = check_days(days)
    outcomes = [outcomes] if isinstance(outcomes, str) else list(outcomes)
    for out in outcomes:
        if not isinstance(out, str) or out not in OUTCOMES:
            raise InputError(f"unknown outcome '{out}'. Outcomes: {', '.join(OUTCOMES)}.")
    for name in names:
        if name not in params:
            raise InputError(f"unknown parameter '{name}'{suggest(name, params)}")
    if variable is not None and variable not in STATES and variable not in FLOWS:
        raise InputError(f"unknown trajectory variable '{variable}'.{suggest(variable, [*STATES, *FLOWS])}")
    if isinstance(every_days, bool) or not isinstance(every_days, (int, float)) or not (
            every_days >= 1 and float(every_days).is_integer()):
        raise InputError(f"every_days must be a whole number of days >= 1, got {every_days!r}.")
    workers = check_workers(workers)
    kept = tuple(np.arange(every_days, days + 1e-9, every_days).tolist())
    base = params.values()
    outs = tuple(outcomes)

    def f(x: np.ndarray) -> pd.DataFrame:
        work = batches(base, names, x, days, rows=CHUNK_ROWS, keep=(variable,) if variable else (), at=kept)
        return sensitivity_table(concat(map_in_processes(evaluate_batch, work, workers)), outs, days, variable)

    return f


def sensitivity_table(result: Evaluation, outcomes: Sequence[str], days: float, variable: str | None = None
                      ) -> pd.DataFrame:
    """Outcomes (and a variable over time) with the sensitivity conventions of :func:`model_function`.

    A run that failed keeps NaN in every column, and ``.attrs["failed"]`` gives each failed
    row's message, so that the analysis refuses the sample and says why.
    """
    from ..core.outcomes import OUTCOMES

    table = pd.DataFrame({out: result.outcomes[out] for out in outcomes})
    for out in outcomes:
        unit = OUTCOMES[out][0]
        if unit == "bool":
            table[out] = table[out].astype(float)
        elif unit == "day":
            table[out] = table[out].fillna(days + 1.0)
    if variable is not None:
        series = pd.DataFrame(result.trajectories[variable], columns=[f"day_{int(d)}" for d in result.days])
        table = pd.concat([table, series], axis=1)
    table.loc[~result.ok, :] = np.nan
    if not result.ok.all():
        table.attrs["failed"] = {int(i): str(result.message[i]) for i in np.flatnonzero(~result.ok)}
    return table


def trajectory_function(
    params: ParameterSet,
    names: Sequence[str],
    variable: str,
    every_days: float = 30.0,
    days: float = 730,
) -> Callable[[np.ndarray], pd.DataFrame]:
    """The model as ``f(x) -> DataFrame`` of one trajectory variable every ``every_days``.

    Parameters
    ----------
    params : ParameterSet
    names : list of str
        The parameters the columns of ``x`` give, in order.
    variable : str
        A stock or flow (see :data:`sanctions_model.core.model.STATES` and ``FLOWS``).
    every_days : float [day]
        Interval of the output columns.
    days : float [day]
        Horizon.

    Returns
    -------
    callable
        ``f(x)`` returning a DataFrame with columns ``day_30``, ``day_60``, ... in the
        variable's unit; any method run on it gives indices over time.
    """
    return model_function(params, names, (), days, variable=variable, every_days=every_days)
