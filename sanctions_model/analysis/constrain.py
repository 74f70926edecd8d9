"""Constrained ensembles (issue 16; ``docs/ensembles.md``): many parameter sets drawn from the
prior, each run through the history, kept where they are consistent with the record and
weighted by the chance they give the recorded events. After FaIR v2 (Leach et al. 2021; Smith
et al. 2024), which keeps the members of a large prior ensemble consistent with observed warming.

The method, step by step:

1. **Prior.** Latin hypercubes (one per batch of ``rows`` members, seeded by the seed and the
   batch's number) over every uncertainty of the historical scenario (``history_2022_2025``) at
   its own ranges (its starting state on 2022-02-24 is restated there, with ranges of its own),
   without the single-point calibration: nothing fitted informs the prior.
2. **History.** Every member runs from 2022-02-24 to the cut date (2025-01-20 by default,
   ``as_of`` earlier) on the recorded path of the levers and drivers, through the one evaluator,
   a batch at a time on local cores or a Dask cluster.
3. **Series.** For each of the back-test's target series (:data:`backtesting.TARGETS`, tolerances
   set before any ensemble was run) the member's errors over the series' recorded figures up to
   the cut date, each divided by the series' tolerance, are summarised by their root mean square;
   the member's *score* is the root mean square of those over the series (each series counts
   once, however many figures it has). A member is *consistent with the record* when its score
   is at most ``accept`` (default :data:`ACCEPT_SCORE`), as FaIR keeps the members whose
   warming is within an RMS error of the observed.
4. **Events.** Each consistent member is weighted by the chance it gives what happened: direct
   talks by 2022-05-31 (``p_talks`` then), and no ceasefire up to the cut date
   (``1 - p_ceasefire`` then). These are likelihoods, not thresholds: the decision core is
   stochastic, so a member that made a ceasefire likely by 2025 is discounted, not discarded.
5. **Size.** The effective sample size of the weights, ``(sum w)^2 / sum w^2``, says how many
   equally weighted members the ensemble is worth; below :data:`MIN_EFFECTIVE` no share and no
   verdict on a parameter is reported.

Nothing here reads or writes files (``inputs/ensemble_file.py`` owns the ensemble's file) or
renders anything (``report/constrain.py``).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._version import __version__
from ..core.model import ACCOUNTING_RUB_PER_USD, STATE_NAMES
from ..core.system import DAYS_PER_YEAR
from ..errors import InputError
from ..inputs.history import load_history
from ..inputs.params import ParameterSet, load_params
from ..runs.designs import Design, check_seed, overlay
from ..runs.evaluate import evaluate
from ..runs.executors import map_in_processes
from .backtesting import END, SCENARIO, TARGETS, comparisons, period_start

#: The default largest score of a member consistent with the record: its errors average at most 1.5
#: times the back-test's tolerances over the series. Chosen after a pilot (4,000 prior members, seed
#: 20220224): no member of the uniform prior over 119 uncertainties scored 1 or less (the best 1.09),
#: 0.3% scored at most 1.25 (about 280 of 100,000, fewer than :data:`MIN_EFFECTIVE`) and 2.2% at most
#: 1.5. It trades closeness to the record against the ensemble's size; ``accept`` varies it.
ACCEPT_SCORE = 1.5
#: The fewest effective members a share is reported from. A weighted share's sampling error is
#: about ``sqrt(p (1 - p) / ESS)``: at 400 it is at most 2.5 points, so a share printed to the whole
#: point has a 95% margin of at most 5 points. Fewer, and the margin outgrows what the reports print.
MIN_EFFECTIVE = 400
#: Members of the prior evaluated in one batch (a batch holds every stock on every kept day of the
#: history: about 70 MB per 1,000 members, and the kept series as much again).
BATCH_ROWS = 1000
#: The recorded events and the day they are read on: talks had started by the end of spring 2022
#: (data: Istanbul talks, 2022-03); no ceasefire was agreed before the cut date.
TALKS_BY = pd.Timestamp("2022-05-31")
#: Days of a figure's period that may fall before the cut for it to count as out of sample.
HINDCAST_OVERLAP_DAYS = 31.0
#: The default prior size (issue 16): at least 100,000 members.
DEFAULT_PRIOR = 100_000
DEFAULT_SEED = 20220224

#: What the scorer keeps of each member's run, on :func:`kept_days`.
KEPT = ("oil_revenue", "balance", "reserves", "rub_per_usd", "headline_inflation", "key_rate", "urals_price",
        "export_volume", "evasion", "territory", "p_talks", "p_ceasefire")


@dataclass(frozen=True)
class Figures:
    """The recorded figures an ensemble is scored on, as plain arrays (they travel to workers).

    One entry per figure: its target series (an index into :data:`backtesting.TARGETS`), the
    record's series name, the day it is read on (``end``, days from the scenario's start) and the
    first day of the period it averages (``start``; equal to ``end`` for a figure read at a point),
    the recorded value, its date and its period (``data/history.csv``).
    """

    target: tuple[int, ...]
    series: tuple[str, ...]
    start: tuple[float, ...]
    end: tuple[float, ...]
    recorded: tuple[float, ...]
    dates: tuple[str, ...]
    periods: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.series)


def figures(start_date: dt.date, days: float, history: pd.DataFrame | None = None) -> Figures:
    """The target series' recorded figures a run from ``start_date`` over ``days`` can be scored on:
    those dated from the target's first date, inside the run and (for a period's average) whose
    period ends by the run's last day."""
    history = load_history() if history is None else history
    first = pd.Timestamp(start_date)
    last = first + pd.Timedelta(days=days)
    comps = comparisons(ACCOUNTING_RUB_PER_USD)
    out: dict[str, list] = {k: [] for k in ("target", "series", "start", "end", "recorded", "dates", "periods")}
    for t, (_, series, since, _, _) in enumerate(TARGETS):
        rows = history[(history["series"] == series) & (history["date"] >= pd.Timestamp(since))]
        for rec in rows.itertuples():
            if not first <= rec.date <= last:
                continue
            begin = max(period_start(rec.date, rec.period), first) if comps[series].how == "mean" else rec.date
            out["target"].append(t)
            out["series"].append(series)
            out["start"].append(float((begin - first).days))
            out["end"].append(float((rec.date - first).days))
            out["recorded"].append(float(rec.value))
            out["dates"].append(str(rec.date.date()))
            out["periods"].append(str(rec.period))
    return Figures(**{k: tuple(v) for k, v in out.items()})


#: Days between the points a period's average is taken over (trapezoids; every figure's first and
#: last day are kept besides): within a twentieth of a tolerance of the back-test's daily average
#: (tests/test_constrain.py), at half the cost of every other day.
KEPT_EVERY_DAYS = 4.0


def kept_days(days: float, figs: Figures, *also: float) -> np.ndarray:
    """Days the scorer keeps: every :data:`KEPT_EVERY_DAYS` from 0, every figure's first and last
    day, the days ``also`` (an event's) and the last day."""
    return np.union1d(np.union1d(np.arange(0.0, days, KEPT_EVERY_DAYS), np.union1d(figs.start, figs.end)),
                      [*(d for d in also if d <= days), float(days)])


def _window_mean(t: np.ndarray, x: np.ndarray, a: float, b: float) -> np.ndarray:
    """Average of each row of ``x`` (n, len(t)) over days ``[a, b]`` (trapezoids; its value at ``a`` if b == a)."""
    if b <= a:
        return x[:, int(np.searchsorted(t, a))]
    inside = (t >= a) & (t <= b)
    return np.trapezoid(x[:, inside], t[inside], axis=1) / (b - a)


def model_figures(t: np.ndarray, kept: dict[str, np.ndarray], figs: Figures, rub_per_usd: float) -> np.ndarray:
    """The model's value of each figure for every member, in the record's unit, shape (n, figures).

    Read as the back-test reads them (:func:`backtesting.compare`): a period's average or a
    day's value, the budget at the accounting rate, the Fund at the day's rate, the territory
    gained as the change over the period.
    """
    comps = comparisons(rub_per_usd)
    derived = {"deficit": -kept["balance"],
               "reserves_budget": kept["reserves"] * kept["rub_per_usd"] / ACCOUNTING_RUB_PER_USD}
    n = next(iter(kept.values())).shape[0]
    out = np.empty((n, len(figs)))
    for j, (series, a, b) in enumerate(zip(figs.series, figs.start, figs.end)):
        comp = comps[series]
        if comp.column == "territory_gain":  # [% of Ukraine per year]: the change over the period, per year
            ia, ib = np.searchsorted(t, a), np.searchsorted(t, b)
            change = kept["territory"][:, ib] - kept["territory"][:, ia]
            out[:, j] = 100.0 * DAYS_PER_YEAR * change / max(b - a, 1.0)
            continue
        x = derived.get(comp.column, kept.get(comp.column))
        assert x is not None, comp.column
        value = _window_mean(t, x, a, b) if comp.how == "mean" else x[:, int(np.searchsorted(t, b))]
        out[:, j] = value if comp.scale is float else comp.scale(value)  # type: ignore[arg-type]  # elementwise
    return out


@dataclass(frozen=True)
class HistoryTask:
    """One batch of the prior: everything a worker needs (a few kilobytes)."""

    design: dict
    index: int
    base: tuple[tuple[str, float], ...]
    days: float
    figures: Figures
    talks_day: float | None
    #: Explicit rows (values of the design's names) instead of the design's chunk ``index``.
    x: np.ndarray | None = None


@dataclass(frozen=True)
class Scored:
    """One batch's members run through the history: what the constraint needs, and no trajectory."""

    ok: np.ndarray  # (n,) bool
    message: np.ndarray  # (n,) object
    model: np.ndarray  # (n, figures)
    p_talks: np.ndarray  # (n,) chance of talks by TALKS_BY (NaN when the cut is earlier)
    p_ceasefire: np.ndarray  # (n,) chance of a ceasefire by the cut date
    final: np.ndarray  # (N_STATES, n) every stock on the cut date
    reference: np.ndarray  # (n,) the strain recruitment is anchored to (read on 2022-02-24)


def score_batch(task: HistoryTask) -> Scored:
    """Run one batch of the prior through the history and read its figures (a worker's job)."""
    design = Design.from_dict(task.design)
    x = design.chunk(task.index) if task.x is None else task.x
    base = dict(task.base)
    at = kept_days(task.days, task.figures, *(() if task.talks_day is None else (task.talks_day,)))
    result = evaluate(overlay(base, design.names, x), task.days, keep=KEPT, at=at, outcomes=False)
    model = model_figures(result.days, result.trajectories, task.figures, ACCOUNTING_RUB_PER_USD)
    talks = (result.trajectories["p_talks"][:, int(np.searchsorted(result.days, task.talks_day))]
             if task.talks_day is not None else np.full(len(x), np.nan))
    return Scored(result.ok, result.message, model, talks,
                  result.trajectories["p_ceasefire"][:, -1], result.final, result.reference["strain"])


@dataclass
class ConstrainedEnsemble:
    """A prior ensemble run through the history, its members' consistency with the record and weights.

    Attributes
    ----------
    names : tuple of str
        The uncertainties drawn (the historical scenario's), in the columns' order.
    prior : numpy.ndarray (n_prior, k)
        Every member's values, in each parameter's unit.
    lows, highs : numpy.ndarray (k,)
        The prior's ranges (uniform).
    rms : pandas.DataFrame (n_prior, series)
        Each member's RMS error per target series, in units of the series' tolerance (NaN where a
        member failed; only series with a figure before the cut).
    score : numpy.ndarray (n_prior,)
        The RMS of ``rms`` over the series (NaN where a member failed).
    accept : float
        The largest score kept.
    accepted : numpy.ndarray (n_prior,) bool
        Integrated without failure and scoring at most ``accept``.
    likelihood : numpy.ndarray (n_prior,)
        The chance each member gives the recorded events.
    weights : numpy.ndarray (n_prior,)
        ``accepted * likelihood``, normalised to sum to 1 (all 0 when nothing is accepted).
    final : numpy.ndarray (N_STATES, n_prior)
        Every member's stocks on the cut date (``core/system.py`` order and units).
    reference : numpy.ndarray (n_prior,)
        The strain each member's recruitment is anchored to (read at its start), which a
        projection from the member keeps.
    """

    names: tuple[str, ...]
    prior: np.ndarray
    lows: np.ndarray
    highs: np.ndarray
    rms: pd.DataFrame
    score: np.ndarray
    accept: float
    accepted: np.ndarray
    likelihood: np.ndarray
    weights: np.ndarray
    final: np.ndarray
    reference: np.ndarray
    p_talks: np.ndarray
    p_ceasefire: np.ndarray
    failed: int
    as_of: dt.date
    start_date: dt.date
    seed: int
    scenario: str = SCENARIO
    version: str = __version__
    seconds: float = math.nan
    figures: int = 0
    #: For a cut before 2025-01-20, every target figure recorded after it that the ensemble was not
    #: given, against the kept members' weighted 5-95% band of it (:func:`out_of_sample`).
    hindcast: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def n_prior(self) -> int:
        return int(self.prior.shape[0])

    @property
    def n_accepted(self) -> int:
        return int(self.accepted.sum())

    @property
    def effective_size(self) -> float:
        """How many equally weighted members the weighted ensemble is worth (:func:`effective_size`)."""
        return effective_size(self.weights)

    @property
    def enough(self) -> bool:
        """Whether the ensemble is large enough to report shares from (:data:`MIN_EFFECTIVE`)."""
        return self.effective_size >= MIN_EFFECTIVE

    def __repr__(self) -> str:
        return (f"<ConstrainedEnsemble: {self.n_accepted:,} of {self.n_prior:,} prior members consistent with the "
                f"record to {self.as_of}, effective size {self.effective_size:,.0f}; .prior_posterior(), "
                f".members()>")

    def members(self) -> pd.DataFrame:
        """The accepted members.

        Returns
        -------
        pandas.DataFrame
            One row per kept member: ``member`` (its row in the prior), ``weight``, ``likelihood``,
            ``score``, its value of every drawn parameter, ``state.NAME`` for every stock on the cut
            date and ``reference.strain``.
        """
        keep = np.flatnonzero(self.accepted)
        frame = pd.DataFrame(self.prior[keep], columns=list(self.names))
        states = pd.DataFrame(self.final[:, keep].T, columns=[f"state.{s}" for s in STATE_NAMES])
        states["reference.strain"] = self.reference[keep]
        head = pd.DataFrame({"member": keep, "weight": self.weights[keep], "likelihood": self.likelihood[keep],
                             "score": self.score[keep]})
        return pd.concat([head, frame, states], axis=1)

    def metadata(self, command: str) -> dict[str, object]:
        """What produced the ensemble, for its file (``inputs/ensemble_file.py``).

        Parameters
        ----------
        command : str
            The command line that produced it.

        Returns
        -------
        dict
            Version, commit, command, date, scenario, start and cut dates, seed, counts, threshold,
            effective size, the prior's names and ranges, the series, and the out-of-sample table.
        """
        from ..provenance import git_commit

        return {"version": self.version, "commit": git_commit(), "command": command,
                "created": dt.date.today().isoformat(), "scenario": self.scenario,
                "start_date": self.start_date.isoformat(), "as_of": self.as_of.isoformat(), "seed": self.seed,
                "prior_members": self.n_prior, "accepted": self.n_accepted, "failed": self.failed,
                "accept": self.accept, "effective_size": self.effective_size, "min_effective": MIN_EFFECTIVE,
                "names": list(self.names), "lows": [float(v) for v in self.lows],
                "highs": [float(v) for v in self.highs], "series": list(self.rms.columns),
                "figures": self.figures, "seconds": self.seconds,
                "hindcast": self.hindcast.to_dict(orient="records")}

    def prior_posterior(self) -> pd.DataFrame:
        """Every parameter's prior against its constrained distribution.

        Returns
        -------
        pandas.DataFrame
            As :func:`prior_posterior` (module function), at this ensemble's effective size.
        """
        return prior_posterior(self.names, self.lows, self.highs, self.prior, self.weights, self.effective_size)


def prior_posterior(names: Sequence[str], lows: np.ndarray, highs: np.ndarray, values: np.ndarray,
                    weights: np.ndarray, effective_size: float) -> pd.DataFrame:
    """Each parameter's uniform prior over ``[low, high]`` against the weighted distribution of ``values``.

    Parameters
    ----------
    names : list of str
    lows, highs : arrays (k,)
        The prior's ranges.
    values : array (members, k)
        The members' values (only those with a positive weight count).
    weights : array (members,)
    effective_size : float
        The ensemble's effective size: below :data:`MIN_EFFECTIVE` every verdict is "too few
        members to say" (the quantiles' sampling error is as large as the effects they would show).

    Returns
    -------
    pandas.DataFrame
        Indexed by parameter: the prior's range, the posterior's weighted 5th, 50th and 95th
        percentiles, ``narrowing`` (the posterior's 5-95% width over the prior's: 1 is as wide
        as assumed) and ``shift`` (the posterior median's move from the prior's, as a share of the
        range), and ``verdict``: "constrained" where the record narrows the range to at most
        :data:`CONSTRAINED_WIDTH` of the prior's or moves its median by at least
        :data:`CONSTRAINED_SHIFT` of the range, else "as wide as assumed".
    """
    rows = []
    for j, name in enumerate(names):
        lo, hi = float(lows[j]), float(highs[j])
        q5, q50, q95 = weighted_quantiles(values[:, j], weights, (0.05, 0.5, 0.95))
        width = hi - lo
        narrowing = (q95 - q5) / (0.9 * width) if width > 0 else math.nan
        shift = (q50 - 0.5 * (lo + hi)) / width if width > 0 else math.nan
        verdict = ("too few members to say" if effective_size < MIN_EFFECTIVE
                   else "constrained" if (narrowing <= CONSTRAINED_WIDTH or abs(shift) >= CONSTRAINED_SHIFT)
                   else "as wide as assumed")
        rows.append({"parameter": name, "low": lo, "high": hi, "p5": q5, "median": q50, "p95": q95,
                     "narrowing": narrowing, "shift": shift, "verdict": verdict})
    return pd.DataFrame(rows).set_index("parameter")


#: A posterior 5-95% width at most this share of the prior's (uniform) 5-95% width counts as
#: constrained: with an effective size of 400, a parameter the record leaves alone comes out at
#: 0.9-1.1 of its prior width (sampling error of the quantiles), so 0.75 is a real narrowing.
CONSTRAINED_WIDTH = 0.75
#: A posterior median moved by at least this share of the range counts as constrained (the sampling
#: error of a median at an effective size of 400 is about 1.5% of a uniform range).
CONSTRAINED_SHIFT = 0.1


def effective_size(weights: np.ndarray) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` of ``weights`` (0 when every weight is 0)."""
    w = np.asarray(weights, dtype=float)
    total = float((w * w).sum())
    return float(w.sum() ** 2 / total) if total > 0 else 0.0


def weighted_quantiles(x: np.ndarray, w: np.ndarray, q: Sequence[float]) -> tuple[float, ...]:
    """Quantiles ``q`` of ``x`` under weights ``w`` (NaN if every weight is 0): the inverse of the
    weighted distribution function, interpolated at the weights' midpoints."""
    keep = w > 0
    if not keep.any():
        return tuple(math.nan for _ in q)
    order = np.argsort(x[keep])
    xs, ws = x[keep][order], w[keep][order]
    cum = (np.cumsum(ws) - 0.5 * ws) / ws.sum()
    return tuple(float(v) for v in np.interp(q, cum, xs))


def check_accept(accept: object) -> float:
    """The acceptance threshold as a positive finite float, or InputError."""
    if isinstance(accept, bool) or not isinstance(accept, (int, float, np.integer, np.floating)):
        raise InputError(f"--accept must be a number (the largest score kept), got {accept!r}.")
    if not math.isfinite(float(accept)) or float(accept) <= 0:
        raise InputError(f"--accept must be a positive, finite number (the largest score kept), got {accept!r}.")
    return float(accept)


def check_as_of(as_of: object, start: dt.date) -> dt.date:
    """The cut date as a date between the scenario's start and 2025-01-20, or InputError."""
    try:
        date = pd.Timestamp(as_of).date()
    except (ValueError, TypeError):
        raise InputError(f"--as-of must be a date (YYYY-MM-DD), got {as_of!r}.") from None
    if pd.isna(date):
        raise InputError(f"--as-of must be a date (YYYY-MM-DD), got {as_of!r}.")
    first = max(TALKS_BY.date(), start + dt.timedelta(days=90))
    if not first <= date <= END.date():
        raise InputError(f"--as-of must be between {first} (the spring 2022 talks, an event the ensemble is "
                         f"weighted by, are over) and {END.date()} (the last recorded day the model may use), "
                         f"got {date}.")
    return date


def constrain(n: int = DEFAULT_PRIOR, seed: int = DEFAULT_SEED, *, as_of: object = END.date(),
              accept: float = ACCEPT_SCORE, params: ParameterSet | None = None, workers: int | None = None,
              rows: int = BATCH_ROWS) -> ConstrainedEnsemble:
    """Draw a prior ensemble, run it through the history and constrain it with the record.

    Parameters
    ----------
    n : int
        Prior members (default 100,000).
    seed : int
        Seed of the prior's Latin hypercubes; the same seed and ``rows`` give the same ensemble.
    as_of : date or str
        The cut date: the history runs to it and only figures recorded by then constrain it
        (default 2025-01-20, the projection's start).
    accept : float
        The largest score of a member kept (default :data:`ACCEPT_SCORE`; see the module's docstring).
    params : ParameterSet, optional
        The historical scenario's parameters (default ``history_2022_2025`` without the calibration).
    workers : int, optional
        Local processes (default: as ``execution()`` says, else every core); inside
        ``execution(scheduler=...)`` the batches run on that Dask cluster.
    rows : int
        Members per batch.

    Returns
    -------
    ConstrainedEnsemble
    """
    import time

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"-n (prior members) must be a whole number of at least 1, got {n!r}.")
    seed = check_seed(seed)
    accept = check_accept(accept)
    params = load_params(SCENARIO, calibration=False) if params is None else params
    start = params.start_date
    cut = check_as_of(as_of, start)
    days = float((cut - start).days)
    figs = figures(start, days)
    design = Design.build("lhs", params, int(n), seed, chunk_size=int(rows))
    talks_day = float((TALKS_BY.date() - start).days)
    base = tuple((k, float(v)) for k, v in params.values().items())
    tasks = [HistoryTask(design.to_dict(), i, base, days, figs, talks_day) for i in range(design.n_chunks)]
    began = time.perf_counter()
    parts = map_in_processes(score_batch, tasks, workers, desc="history batches")
    seconds = time.perf_counter() - began
    ok = np.concatenate([p.ok for p in parts])
    model = np.concatenate([p.model for p in parts])
    final = np.concatenate([p.final for p in parts], axis=1)
    reference = np.concatenate([p.reference for p in parts])
    talks = np.concatenate([p.p_talks for p in parts])
    ceasefire = np.concatenate([p.p_ceasefire for p in parts])
    prior = np.concatenate([design.chunk(i) for i in range(design.n_chunks)])
    rms = series_rms(model, figs)
    score = np.sqrt(np.mean(rms.to_numpy() ** 2, axis=1)) if rms.shape[1] else np.where(ok, 0.0, np.nan)
    accepted = ok & (score <= accept)
    likelihood = np.where(np.isnan(talks), 1.0, talks) * (1.0 - ceasefire)
    likelihood = np.where(ok, likelihood, 0.0)
    raw = np.where(accepted, likelihood, 0.0)
    weights = raw / raw.sum() if raw.sum() > 0 else raw
    hindcast = pd.DataFrame()
    if cut < END.date() and accepted.any():
        hindcast = out_of_sample(design, base, start, figs, prior[accepted], weights[accepted], workers, rows)
    return ConstrainedEnsemble(design.names, prior, np.array(design.lows), np.array(design.highs), rms, score,
                               accept, accepted, likelihood, weights, final, reference, talks, ceasefire,
                               int((~ok).sum()), cut, start, seed, seconds=seconds, figures=len(figs),
                               hindcast=hindcast)


def series_rms(model: np.ndarray, figs: Figures) -> pd.DataFrame:
    """Each member's RMS error per target series, in units of the series' tolerance (n, series)."""
    target = np.asarray(figs.target)
    recorded = np.asarray(figs.recorded)
    columns = {}
    for t, (name, _, _, tol, kind) in enumerate(TARGETS):
        j = np.flatnonzero(target == t)
        if not j.size:
            continue
        error = model[:, j] - recorded[j]
        if kind == "relative":
            error = error / np.abs(recorded[j])
        columns[name] = np.sqrt(np.mean((error / tol) ** 2, axis=1))
    return pd.DataFrame(columns)


def write_ensemble(ensemble: ConstrainedEnsemble, path: str | os.PathLike[str], command: str,
                   force: bool = False) -> Path:
    """Write the accepted members and what produced them to ``path`` (``inputs/ensemble_file.py``)."""
    from ..inputs import ensemble_file

    return ensemble_file.write(ensemble.members(), ensemble.metadata(command), path, force=force)


def out_of_sample(design: Design, base: tuple[tuple[str, float], ...], start: dt.date, given: Figures,
                  kept: np.ndarray, weights: np.ndarray, workers: int | None, rows: int) -> pd.DataFrame:
    """The kept members' band for every target figure recorded after the cut, which they were not given.

    A member's projection from its state on the cut date along the recorded path is its run through
    the whole history (the model is deterministic given the member), so the kept members are run
    to 2025-01-20 and read as the scorer reads any figure.

    Returns
    -------
    pandas.DataFrame
        One row per figure after the cut: ``target``, ``series``, ``date``, ``period``,
        ``recorded``, the weighted ``p5``, ``p50`` and ``p95`` of the members' values, and
        ``covered`` (the recorded value within the 5-95% band).
    """
    days = float((END.date() - start).days)
    every = figures(start, days)
    seen = set(zip(given.series, given.dates, given.periods))
    cut = max(given.end) if len(given) else 0.0
    # figures after the cut, but not those averaging over a period mostly before it (twelve months'
    # inflation read in February): at most a month of their period may fall before the cut
    new = [j for j, key in enumerate(zip(every.series, every.dates, every.periods))
           if key not in seen and every.start[j] >= cut - HINDCAST_OVERLAP_DAYS]
    tasks = [HistoryTask(design.to_dict(), 0, base, days, every, None, kept[i:i + rows])
             for i in range(0, len(kept), rows)]
    model = np.concatenate([p.model for p in map_in_processes(score_batch, tasks, workers, desc="hindcast batches")])
    out = []
    for j in new:
        ok = np.isfinite(model[:, j])
        p5, p50, p95 = weighted_quantiles(model[ok, j], weights[ok], (0.05, 0.5, 0.95))
        recorded = every.recorded[j]
        out.append({"target": TARGETS[every.target[j]][0], "series": every.series[j], "date": every.dates[j],
                    "period": every.periods[j], "recorded": recorded, "p5": p5, "p50": p50, "p95": p95,
                    "covered": bool(p5 <= recorded <= p95)})
    return pd.DataFrame(out)
