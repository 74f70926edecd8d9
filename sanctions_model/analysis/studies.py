"""Studies: an analysis run end to end, returned as data for ``report/`` to render.

A study holds everything its report says (results, settings, warnings) and nothing about
Markdown or figures; the renderer never runs the model or opens a parameter file.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import InputError, suggest
from ..inputs.params import ParameterSet, load_params, scenario_names
from ..runs.designs import uncertainties
from ..runs.ensemble import Ensemble, at_each_end, run_ensemble
from ..runs.executors import check_workers, kept_workers
from ..runs.run import RunResult, check_days, simulate
from . import sensitivity as sa
from .article import ARTICLE_ASSUMPTIONS, HELD_OVER_MEMBERS, REFERENCE, most_consequential, resolve, where_to_vary
from .discover import Discovery
from .projection import SET_BY_MEMBERS, ConstrainedProjection, default_path, project, starting_states

#: The command line's method names and the functions behind them.
SENSITIVITY_METHODS: dict[str, Callable[..., pd.DataFrame]] = {
    "oat": sa.oat, "morris": sa.morris, "sobol": sa.sobol, "mc": sa.monte_carlo}
#: The command line's name of each :func:`~sanctions_model.analysis.sensitivity.analyze` method.
CLI_NAME = {"oat": "oat", "morris": "morris", "sobol": "sobol", "monte_carlo": "mc"}
#: Default sample size of each method.
DEFAULT_N = {"oat": 1, "morris": 20, "sobol": 256, "mc": 1000}


@dataclass(frozen=True)
class SensitivityStudy:
    """One sensitivity analysis: which assumptions decide the outcomes, and by how much.

    Attributes
    ----------
    method : str
        ``oat``, ``morris``, ``sobol`` or ``mc`` (rank correlations).
    result : DataFrame
        The indices, as :func:`sanctions_model.analysis.sensitivity.analyze` returns them.
    params : ParameterSet
        The scenario's parameters (the levers, and each assumption's description and range).
    names, outcomes : list of str
        The assumptions varied and the outcomes analysed.
    n : int
        The method's sample size.
    seed : int
    days : float [day]
    runs : int
        Model runs behind the indices.
    warnings : list of str
        Indices too uncertain to rank the assumptions.
    sweep : str, optional
        The sweep directory the indices were computed from (None: run for this study).
    parameter_hash : str, optional
        The hash of the sweep's parameters, from its manifest.
    note : str, optional
        What the report must say about where its descriptions and ranges come from.
    """

    method: str
    result: pd.DataFrame
    params: ParameterSet
    names: list[str]
    outcomes: list[str]
    n: int
    seed: int
    days: float
    runs: int
    warnings: list[str] = field(default_factory=list)
    sweep: str | None = None
    parameter_hash: str | None = None
    note: str | None = None

    @property
    def digest(self) -> str:
        """The hash of the parameters the runs used (the sweep's, as its manifest records it)."""
        return self.parameter_hash or self.params.digest()

    def per_outcome(self) -> dict[str, pd.DataFrame]:
        """The indices of each outcome as its own table."""
        if isinstance(self.result.columns, pd.MultiIndex):
            return {o: self.result[o] for o in self.outcomes}
        return {self.outcomes[0]: self.result}


def _caught(run: Callable[[], pd.DataFrame]) -> tuple[pd.DataFrame, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", sa.SensitivityWarning)
        result = run()
    return result, [str(w.message) for w in caught if issubclass(w.category, sa.SensitivityWarning)]


def sensitivity_study(method: str, params: ParameterSet, names: Sequence[str], outcomes: Sequence[str], n: int,
                      seed: int, days: float) -> SensitivityStudy:
    """Run one sensitivity method on the model (``sanctions-model sensitivity --method``).

    Parameters
    ----------
    method : str
        ``oat``, ``morris``, ``sobol`` or ``mc``.
    params : ParameterSet
        The scenario's parameters: the levers, and the ranges the assumptions vary over.
    names : list of str
        The assumptions to vary.
    outcomes : list of str
        Outcomes to analyse.
    n : int
        The method's sample size (see :data:`DEFAULT_N`).
    seed : int
        Seed of the sample and of the bootstrap.
    days : float [day]
        Horizon.

    Returns
    -------
    SensitivityStudy
    """
    if method not in SENSITIVITY_METHODS:
        raise InputError(f"unknown method '{method}'; one of {', '.join(SENSITIVITY_METHODS)}.")
    problem = sa.problem_from_params(params, names)
    f = sa.model_function(params, names, outcomes, days)
    result, wide = _caught(lambda: SENSITIVITY_METHODS[method](problem, f, n, seed=seed))
    return SensitivityStudy(method, result, params, list(names), list(outcomes), n, seed, days,
                            int(result.attrs["n_evaluations"]), wide)


def sweep_sensitivity_study(sweep: str | Path, outcomes: Sequence[str] | None = None, scenario: str | None = None,
                            method: str | None = None) -> SensitivityStudy:
    """Indices of a stored sweep (``sanctions-model sensitivity --from SWEEP_DIR``).

    Parameters
    ----------
    sweep : path
        A complete sweep directory.
    outcomes : list of str, optional
        Outcomes to analyse (default: ``analysis.sensitivity.default_outcomes`` of the sweep's horizon).
    scenario : str, optional
        Which of the sweep's scenarios (needed when it ran several).
    method : str, optional
        ``oat``, ``morris``, ``sobol`` or ``mc``; default: what the sweep's design supports.

    Returns
    -------
    SensitivityStudy
    """
    from ..runs.designs import Design
    from ..runs.sweep_result import open_sweep

    stored = open_sweep(sweep)
    analysis = {v: k for k, v in CLI_NAME.items()}.get(method, method) if method else None
    result, wide = _caught(lambda: sa.analyze_sweep(stored, outcomes, scenario, analysis))
    design = Design.from_dict(stored.settings["design"])
    label = str(result.attrs["scenario"])
    recorded = str(stored.settings["scenarios"][label])  # the digest of the parameters the sweep ran
    # descriptions, units and ranges for the report: the scenarios the label names, when they
    # rebuild the sweep's parameters exactly (a label from --across, --set or a file may not)
    known = {*scenario_names(), *scenario_names(dated=True)}
    parts = [s for s in label.split("+") if s in known]
    params = load_params(parts or None)
    note = None if params.digest() == recorded else (
        f"The sweep's parameters (hash {recorded}, from its manifest) are not those of "
        f"{' + '.join(parts) or 'the base'} alone (hash {params.digest()}): overrides or a scenario file "
        f"went into '{label}'. Descriptions and ranges are read from {' + '.join(parts) or 'the base'}.")
    left = int(result.attrs.get("failed_left_out", 0))
    if left:
        note = (f"{note} " if note else "") + (f"{left:,} of the sweep's runs under '{label}' failed; the rank "
                                               "correlations are of the runs that did not.")
    chosen = [outcomes] if isinstance(outcomes, str) else list(outcomes) if outcomes else \
        sa.default_outcomes(float(stored.settings["days"]))
    return SensitivityStudy(CLI_NAME[str(result.attrs["method"])], result, params, list(design.names), chosen,
                            design.n, design.seed, float(stored.settings["days"]), int(result.attrs["n_evaluations"]),
                            wide, str(stored.path), recorded, note)


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class ComparisonStudy:
    """Scenarios side by side: each at its central assumptions, and over the same sampled sets.

    Attributes
    ----------
    runs : list of RunResult
        Each scenario at the central value of every assumption.
    ensemble : Ensemble or None
        The same Latin-hypercube draws under each scenario (None when ``samples`` is 0).
    days : float [day]
    samples : int
    seed : int
    constrained : ConstrainedProjection or None
        The scenarios projected from each member of the constrained ensemble, None where there is
        none to project from.
    constrained_note : str
        Why ``constrained`` is None ("" when it is not).
    """

    runs: list[RunResult]
    ensemble: Ensemble | None
    days: float
    samples: int
    seed: int
    constrained: ConstrainedProjection | None = None
    constrained_note: str = ""

    @property
    def scenarios(self) -> list[str]:
        return [r.label for r in self.runs]


@kept_workers()  # its stages share one start of the worker processes
def comparison_study(scenarios: Sequence[str], *, days: float = 730, samples: int = 256, seed: int = 20250120,
                     ensemble_path: str | os.PathLike[str] | None | bool = None,
                     log: Callable[[str], None] = _quiet) -> ComparisonStudy:
    """Run each scenario at its central assumptions and over ``samples`` sampled sets.

    Parameters
    ----------
    scenarios : list of str
        Scenario names or files; each is read whole before any work.
    days : float [day]
        Horizon after the start date.
    samples : int
        Sampled assumption sets per scenario (the same under each; 0: the central runs only).
    seed : int
        Seed of the draws.
    ensemble_path : path, None or False
        The constrained ensemble whose members are also projected under each scenario (None: the
        default, ``params/constrained-ensemble.parquet``; False: none).
    log : callable
        Hears one line once every check has passed and the work starts.

    Returns
    -------
    ComparisonStudy
    """
    from ..limits import check_memory

    days = check_days(days)
    for name in scenarios:  # every scenario whole (names, values, restated ranges) before any work
        load_params(name)
    check_memory(float(samples) * len(uncertainties(load_params())) * len(scenarios),
                 f"{samples:,} sampled sets per scenario")
    log(f"running {len(scenarios)} scenarios, each at its central assumptions"
        + (f" and over {samples:,} sampled assumption sets" if samples else "") + " ...")
    runs = [simulate(name, days=days) for name in scenarios]
    # the runs' own labels and parameters, so that a scenario given as a path is the same everywhere
    ensemble = run_ensemble([(r.label, r.params) for r in runs], days, samples, seed) if samples > 0 else None
    if ensemble_path is not False:
        log("projecting the members of the constrained ensemble under each scenario ...")
    constrained, note = constrained_projection([(r.label, r.params) for r in runs], days, seed, None, ensemble_path,
                                               fans=samples > 0)  # fan charts are drawn only over sampled sets
    return ComparisonStudy(runs, ensemble, days, samples, seed, constrained, note)


#: Outcomes of the full study's one-at-a-time analysis (tornado charts), and of its Sobol' analysis.
OAT_OUTCOMES = ("p_ceasefire_horizon", "p_talks_100_days", "reserves_at_horizon")
SOBOL_OUTCOMES = ("p_ceasefire_horizon", "p_talks_100_days")
#: The trajectory whose Sobol' indices are reported over time, and the interval [day].
OVER_TIME = ("p_ceasefire", 30.0)


@dataclass(frozen=True)
class FullStudy:
    """The full analysis (``sanctions-model report``): scenarios, how sure, which assumptions decide,
    and the article's assumptions one by one.

    Attributes
    ----------
    runs : list of RunResult
        Every scenario at the central value of every assumption.
    ensemble : Ensemble
        The same ``samples`` Latin-hypercube draws of every uncertainty under each scenario.
    params : ParameterSet
        The reference scenario's parameters (:data:`~sanctions_model.analysis.article.REFERENCE`),
        under which the sensitivity analysis runs.
    names : list of str
        The uncertainties varied.
    oat, sobol : DataFrame
        One-at-a-time swings of :data:`OAT_OUTCOMES`; Sobol' indices of :data:`SOBOL_OUTCOMES`
        and of :data:`OVER_TIME`'s variable every 30 days (columns ``day_30``, ...).
    wide : list of str
        Outcomes whose Sobol' intervals are too wide to rank the assumptions.
    over_time : dict of day -> DataFrame
        The Sobol' indices of the variable at each day.
    ends : dict of assumption title -> DataFrame
        Shares with each of an article assumption's parameters held at each end of its range.
    scenarios : list of str
    days : float [day]
    samples, sobol_n, seed : int
    constrained : ConstrainedProjection or None
        The scenarios projected from each member of the constrained ensemble
        (``params/constrained-ensemble.parquet``), None where there is none to project from.
    constrained_note : str
        Why ``constrained`` is None ("" when it is not).
    from_record : ConstrainedProjection or None
        A diagnostic: the members' values under :data:`~sanctions_model.analysis.article.REFERENCE`
        from the scenario's own starting state (as the unconstrained sets start), which separates
        what the record's constraint on the assumptions does from what the members' states do.
    starts : DataFrame or None
        The scenario's starting state against the members' states on the cut date
        (:func:`~sanctions_model.analysis.projection.starting_states`).
    discoveries : dict of outcome -> DiscoveryStudy or str
        Scenario discovery over the members under :data:`~sanctions_model.analysis.article.REFERENCE`
        for each of :data:`DISCOVERY_OUTCOMES` (a better-than-even chance), or why there is none.
    member_ends : dict of assumption title -> DataFrame
        The weighted shares over the constrained members with each of an assumption's
        :data:`HELD_OVER_MEMBERS` most consequential parameters (by ``ends``) held at each end of its
        range from the members' cut date on (:func:`ends_over_members`); empty where there are none.
    member_ends_note : str
        Why ``member_ends`` is empty ("" when it is not).
    """

    runs: list[RunResult]
    ensemble: Ensemble
    params: ParameterSet
    names: list[str]
    oat: pd.DataFrame
    sobol: pd.DataFrame
    wide: list[str]
    over_time: dict[float, pd.DataFrame]
    ends: dict[str, pd.DataFrame]
    scenarios: list[str]
    days: float
    samples: int
    sobol_n: int
    seed: int
    constrained: ConstrainedProjection | None = None
    constrained_note: str = ""
    from_record: ConstrainedProjection | None = None
    starts: pd.DataFrame | None = None
    discoveries: dict[str, DiscoveryStudy | str] = field(default_factory=dict)
    member_ends: dict[str, pd.DataFrame] = field(default_factory=dict)
    member_ends_note: str = ""


#: The outcomes the full report's scenario discovery explains: a better-than-even chance of a ceasefire
#: by day 100 and within the horizon.
DISCOVERY_OUTCOMES = ("p_ceasefire_100_days", "p_ceasefire_horizon")


def constrained_projection(scenarios: Sequence[str | tuple[str, ParameterSet]], days: float, seed: int,
                           workers: int | None,
                           ensemble: str | os.PathLike[str] | None | bool = None, fans: bool = True
                           ) -> tuple[ConstrainedProjection | None, str]:
    """The scenarios projected from a constrained ensemble (None: the default file; False: none), or
    None and the reason; ``fans``: with the weighted percentiles of the fan charts' variables."""
    if ensemble is False:
        return None, "Not asked for (`--unconstrained`): the chances here are without the record's constraint."
    path = default_path() if ensemble is None or ensemble is True else Path(ensemble)
    if not path.is_file():
        return None, (f"There is no constrained ensemble (`{path}` is missing); `make constrain` writes the "
                      "default one. The chances here are without the record's constraint.")
    try:
        return project(scenarios, days, ensemble=path, seed=seed, workers=workers, fans=fans), ""
    except InputError as exc:
        return None, str(exc)


def ends_over_members(ends: dict[str, pd.DataFrame], scenarios: Sequence[str], days: float, seed: int,
                      workers: int | None, ensemble: str | os.PathLike[str]
                      ) -> tuple[dict[str, pd.DataFrame], str]:
    """Each article assumption's :data:`HELD_OVER_MEMBERS` most consequential parameters held at each
    end of their range over the constrained members, from the cut date on; or empty and the reason.

    ``ends`` (the sampled sets' shares with each parameter at each end, by assumption title) ranks
    the parameters. A member keeps its history up to the cut date, so for a parameter the record
    constrains this reads "if it were at that end from now on". A parameter a member's own state or
    frame replaces (:data:`~sanctions_model.analysis.projection.SET_BY_MEMBERS`, e.g. a starting
    value) is not held: it cannot move the projection. All the runs go to one pool.

    Parameters
    ----------
    ends : dict of assumption title -> DataFrame
        :func:`~sanctions_model.runs.ensemble.at_each_end` of each assumption's parameters over the
        sampled sets (``FullStudy.ends``), which ranks them.
    scenarios : list of str
        The study's scenarios (each assumption is varied under
        :func:`~sanctions_model.analysis.article.where_to_vary` of them).
    days : float [day]
    seed : int
        Seed of the fresh draws of the projection's own uncertainties.
    workers : int, optional
    ensemble : path
        The constrained ensemble file.

    Returns
    -------
    dict of title -> DataFrame
        Rows (parameter, ``low``/``high``), columns the weighted shares, 0-1.
    str
        Why the dict is empty ("" when it is not).
    """
    runs: list[tuple[str, ParameterSet]] = []
    keys: dict[str, tuple[str, str, str]] = {}
    titles = [item.title for item in ARTICLE_ASSUMPTIONS if item.title in ends]
    try:
        for item in ARTICLE_ASSUMPTIONS:
            if item.title not in ends:
                continue
            scenario = where_to_vary(item, scenarios)
            params = load_params(scenario)
            first = most_consequential(ends[item.title], resolve(item.parameters, list(params.parameters)))
            for name in [n for n in first[:HELD_OVER_MEMBERS] if n not in SET_BY_MEMBERS]:
                spec = params.parameters[name]
                for end, value in (("low", spec.low), ("high", spec.high)):
                    label = f"{item.title} | {name} | {end}"
                    keys[label] = (item.title, name, end)
                    runs.append((label, load_params(scenario, {name: value})))
        shares = project(runs, days, ensemble=ensemble, seed=seed, workers=workers, fans=False).shares() if runs \
            else pd.DataFrame()
    except InputError as exc:
        return {}, str(exc)
    out: dict[str, pd.DataFrame] = {}
    for title in titles:  # every assumption gets a table, empty where none of its first parameters is held
        rows = {(name, end): shares.loc[label] for label, (t, name, end) in keys.items() if t == title}
        frame = pd.DataFrame.from_dict(rows, orient="index", columns=shares.columns)
        frame.index = pd.MultiIndex.from_tuples(list(rows), names=["parameter", "end"])
        out[title] = frame
    return out, ""


def _check_full(scenarios: Sequence[str], samples: int, sobol_n: int) -> None:
    from ..limits import check_memory

    for name in scenarios:  # every scenario whole (names, values, restated ranges) before any work
        load_params(name)
    if REFERENCE not in scenarios:
        raise InputError(f"the report compares every scenario with '{REFERENCE}'; include it in the scenarios.")
    for flag, value in (("samples", samples), ("sobol_n", sobol_n)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 2:
            raise InputError(f"{flag} must be a whole number of at least 2, got {value!r}.")
    if sobol_n & (sobol_n - 1):
        raise InputError(f"sobol_n must be a power of 2 (Sobol' sequences need it), got {sobol_n}.")
    k = len(uncertainties(load_params(REFERENCE)))
    check_memory(float(samples) * k * len(scenarios), f"{samples:,} sampled sets of {k} assumptions per scenario")
    check_memory(float(sobol_n) * (k + 2) * k, f"a Sobol' analysis at n = {sobol_n:,}")


def check_full_study(scenarios: Sequence[str] | None = None, *, days: float = 730, samples: int = 1000,
                     sobol_n: int = 1024, workers: int | None = None) -> tuple[list[str], float, int | None]:
    """The full study's settings checked (scenarios, days, workers as it will use them), before any work."""
    from ..core.outcomes import GOAL_DAYS

    chosen = list(scenarios) if scenarios is not None else scenario_names()
    days = check_days(days)
    if days < GOAL_DAYS:  # its sensitivity analysis and summary read the chance of talks by day 100
        raise InputError(f"the full report reads the chance of talks within {GOAL_DAYS:g} days, so its horizon "
                         f"must be at least {GOAL_DAYS:g} days, got {days:g}; `compare` and `run` take shorter ones.")
    _check_full(chosen, samples, sobol_n)
    return chosen, days, check_workers(workers)


@kept_workers()  # its stages share one start of the worker processes
def full_study(scenarios: Sequence[str] | None = None, *, days: float = 730, samples: int = 1000,
               sobol_n: int = 1024, seed: int = 20250120, workers: int | None = None,
               ensemble_path: str | os.PathLike[str] | None | bool = None, log: Callable[[str], None] = _quiet
               ) -> FullStudy:
    """Run the full analysis; ``report.full.write_report`` renders it.

    Parameters
    ----------
    scenarios : list of str, optional
        Scenarios to compare (default: every file in ``params/scenarios``); must include
        :data:`~sanctions_model.analysis.article.REFERENCE`.
    days : float [day]
        Horizon after 2025-01-20.
    samples : int
        Latin-hypercube assumption sets per scenario (the "how sure" shares and fan charts).
    sobol_n : int
        Base samples of the Sobol' analysis, a power of 2; it costs ``sobol_n * (k + 2)``
        runs for k uncertainties.
    seed : int
        Seed of every sample (ensemble, Sobol' sequence, bootstrap).
    workers : int, optional
        Local processes (default: every core); the numbers do not depend on it.
    ensemble_path : path, None or False
        The constrained ensemble whose members are also projected under each scenario (None: the
        default, ``params/constrained-ensemble.parquet``; False: none).
    log : callable
        Receives one line per stage.

    Returns
    -------
    FullStudy
    """
    chosen, days, workers = check_full_study(scenarios, days=days, samples=samples, sobol_n=sobol_n,
                                             workers=workers)
    log(f"[1/6] {len(chosen)} scenarios at the central assumptions")
    runs = [simulate(name, days=days) for name in chosen]
    log(f"[2/6] {samples:,} sampled assumption sets x {len(chosen)} scenarios")
    ensemble = run_ensemble([(r.label, r.params) for r in runs], days, samples, seed, workers)
    params = load_params(REFERENCE)
    names = uncertainties(params)
    problem = sa.problem_from_params(params, names)
    log(f"[3/6] one at a time: {1 + 2 * len(names)} runs; Sobol': {sobol_n * (len(names) + 2):,} runs")
    oat = sa.oat(problem, sa.model_function(params, names, OAT_OUTCOMES, days, workers=workers), 1, seed=seed)
    variable, every = OVER_TIME
    f = sa.model_function(params, names, SOBOL_OUTCOMES, days, variable=variable, every_days=every, workers=workers)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", sa.SensitivityWarning)
        sobol = sa.sobol(problem, f, sobol_n, seed=seed)
    wide = [o for o in sobol.columns.get_level_values(0).unique()
            if any(issubclass(w.category, sa.SensitivityWarning) and f"'{o}'" in str(w.message) for w in caught)]
    over_time = {float(c.removeprefix("day_")): sobol[c] for c in sobol.columns.get_level_values(0).unique()
                 if c.startswith("day_")}
    log(f"[4/6] the article's assumptions: each parameter at both ends of its range, {samples:,} sets each")
    ends = {}
    for item in ARTICLE_ASSUMPTIONS:
        scenario = where_to_vary(item, chosen)
        ends[item.title] = at_each_end(load_params(scenario), resolve(item.parameters, names), days, samples, seed,
                                       workers)
    log("[5/6] the scenarios from each member of the constrained ensemble")
    constrained, note = constrained_projection(chosen, days, seed, workers, ensemble_path)
    from_record, starts = None, None
    if constrained is not None:  # why the two differ: the members' values from the base file's state, and the states
        from_record = project([(REFERENCE, params)], days, ensemble=constrained.path, seed=seed, workers=workers,
                              own_states=False, fans=False)
        starts = starting_states(params, constrained.path)
    member_ends: dict[str, pd.DataFrame] = {}
    member_ends_note = note
    if constrained is not None:
        try:  # too few members to report from: the summary says why; no further projections
            constrained.shares()
            log(f"      each article assumption's first {HELD_OVER_MEMBERS} parameters at both ends, over the members")
            member_ends, member_ends_note = ends_over_members(ends, chosen, days, seed, workers, constrained.path)
        except InputError:
            member_ends_note = "the constrained ensemble has too few members to report from; the summary says why"
    discoveries: dict[str, DiscoveryStudy | str] = {}
    if constrained is not None:  # under which assumptions the members give a ceasefire (no further runs)
        for outcome in DISCOVERY_OUTCOMES:
            try:
                discoveries[outcome] = ensemble_discovery(constrained, REFERENCE, outcome, seed=seed)
            except InputError as exc:  # e.g. in no member is it more likely than not
                discoveries[outcome] = str(exc)
    return FullStudy(runs, ensemble, params, names, oat, sobol, wide, over_time, ends, chosen, days, samples, sobol_n,
                     seed, constrained, note, from_record, starts, discoveries, member_ends,
                     member_ends_note)


@dataclass(frozen=True)
class DiscoveryStudy:
    """Scenario discovery on a stored sweep or on the constrained ensemble's members
    (``sanctions-model discover``).

    Attributes
    ----------
    discovery : Discovery
        PRIM's box and CART's leaves.
    source : str
        Where the rows come from, in words (for the report).
    outcome : str
        The outcome column the event is read from.
    cut : float
        The outcome's value the event is above (or below).
    above : bool
    rows : int
        Rows (sets or members) before any failed run is left out.
    failed : int
        Rows left out because their run failed or the outcome is undefined for them.
    seed : int
        Seed of CART's tree.
    days : float [day]
        The projection's horizon.
    path : str
        The sweep directory or ensemble file.
    """

    discovery: Discovery
    source: str
    outcome: str
    cut: float
    above: bool
    rows: int
    failed: int
    seed: int
    days: float
    path: str


#: Probability outcomes as noun phrases ({days}: the horizon).
EVENTS = {"p_talks_100_days": "talks by day 100", "p_talks_1_year": "talks within a year",
          "p_talks_horizon": "talks within {days} days", "p_ceasefire_100_days": "a ceasefire by day 100",
          "p_ceasefire_1_year": "a ceasefire within a year", "p_ceasefire_horizon": "a ceasefire within {days} days",
          "p_ceasefire_holds_1_year": "a ceasefire that holds a year"}


#: Crossing days whose NaN means "not within the horizon" (so: later than any day in it), as noun phrases.
DAY_EVENTS = {"days_to_reserves_exhausted": "the Fund's liquid reserves exhausted",
              "diagnostic_days_russia_prefers_ceasefire": "Russia preferring a ceasefire on the line",
              "diagnostic_days_ukraine_prefers_ceasefire": "Ukraine preferring a ceasefire on the line",
              "diagnostic_days_to_range_open": "an open bargaining range"}
#: Outcomes defined only where something happens (NaN elsewhere): no yes/no event for every set.
CONDITIONAL = ("expected_day_talks", "expected_day_ceasefire", "p_ceasefire_holds_1_year")


def event_words(outcome: str, cut: float, above: bool, days: float) -> str:
    """The event a discovery looks for, as a noun phrase: "a better-than-even chance of a ceasefire
    within 730 days", "a chance below 20% of talks by day 100", "the Fund's liquid reserves exhausted
    before day 365", "highest perceived strain on the war economy above 0.6 index 0-1"."""
    from ..core.outcomes import OUTCOMES

    if outcome in EVENTS:
        what = EVENTS[outcome].format(days=f"{days:g}")
        if cut == 0.5 and above:
            return f"a better-than-even chance of {what}"
        return f"a chance {'above' if above else 'below'} {100 * cut:g}% of {what}"
    if outcome in DAY_EVENTS:
        what = DAY_EVENTS[outcome]
        if above:
            return f"{what} only after day {cut:g} or not within {days:g} days"
        return f"{what} before day {cut:g}"
    unit, text = OUTCOMES[outcome]
    text = text.split(" (")[0]
    return f"{text[0].lower() + text[1:]} {'above' if above else 'below'} {cut:g} {unit}"


def check_event(outcome: str, days: float) -> None:
    """Refuse an outcome scenario discovery cannot turn into a yes/no event at this horizon [day]."""
    from ..core.outcomes import OUTCOMES

    if not isinstance(outcome, str) or outcome not in OUTCOMES:
        raise InputError(f"unknown outcome {outcome!r}.{suggest(outcome, OUTCOMES)}")
    if outcome in CONDITIONAL:
        raise InputError(f"outcome '{outcome}' is defined only where what it measures happens; scenario discovery "
                         "needs an outcome every set has (e.g. p_ceasefire_horizon).")
    if "100_days" in outcome and days < 100:
        raise InputError(f"outcome '{outcome}' needs a horizon of at least 100 days, got {days:g}.")
    if "horizon under a year" in OUTCOMES[outcome][1] and days < 365:
        raise InputError(f"outcome '{outcome}' is undefined over a horizon under a year ({days:g} days).")


def _event(frame: pd.DataFrame, outcome: str, cut: float, above: bool, where: str) -> tuple[pd.Series, pd.Series]:
    """The rows that ran and have the outcome, and whether the event happens in each (a crossing that does not
    come within the horizon is later than any day in it)."""
    import math

    if isinstance(cut, bool) or not isinstance(cut, (int, float)) or not math.isfinite(cut):
        raise InputError(f"the outcome's cut must be a finite number, got {cut!r}.")
    values = frame[outcome].astype(float)
    ran = frame["status"] == "ok" if "status" in frame else pd.Series(True, index=frame.index)
    if outcome in DAY_EVENTS:
        values = values.fillna(math.inf)
    ok = ran & values.notna()
    if not ok.any():
        raise InputError(f"{where}: no row has a value of '{outcome}' (every run failed, or the outcome is "
                         "undefined at this horizon).")
    return ok, (values > cut) if above else (values < cut)


def _describe(params: ParameterSet) -> dict[str, tuple[str, str]]:
    frame = params.to_frame()
    return {str(n): (str(r["unit"]), str(r["description"])) for n, r in frame.iterrows()}


def sweep_discovery(sweep: str | Path, outcome: str = "p_ceasefire_horizon", cut: float = 0.5, above: bool = True,
                    scenario: str | None = None, threshold: float = 0.8, seed: int = 20250120) -> DiscoveryStudy:
    """Scenario discovery on a stored sweep: the box of its varied parameters (assumptions and levers)
    in which the event happens.

    Parameters
    ----------
    sweep : path
        A complete sweep directory.
    outcome : str
        The outcome the event is read from (default: the chance of a ceasefire within the horizon).
    cut, above : float, bool
        The event: the outcome above (or below) ``cut`` (default: above 0.5, more likely than not).
    scenario : str, optional
        Which of the sweep's scenarios (needed when it ran several).
    threshold : float
        The density the box must reach (:func:`~sanctions_model.analysis.discover.discover`).
    seed : int
        Seed of CART's tree.

    Returns
    -------
    DiscoveryStudy
    """
    from ..runs.sweep_result import open_sweep
    from .discover import discover

    stored = open_sweep(sweep)
    check_event(outcome, float(stored.settings["days"]))
    if not stored.complete:
        raise InputError(f"{stored.path}: the sweep is not complete (some chunks are missing); run its command "
                         "again to finish it first.")
    scenario = stored.one_scenario(scenario)
    outcomes = stored.outcomes
    outcomes = outcomes[outcomes["scenario"] == scenario]
    joined = stored.samples.merge(outcomes, on="sample_id", validate="one_to_one")
    ok, happens = _event(joined, outcome, cut, above, str(stored.path))
    names = [c for c in stored.samples.columns if c != "sample_id"]
    inputs = joined.loc[ok, names]
    inputs = inputs.loc[:, inputs.nunique() > 1]
    if inputs.empty:
        ran = int(ok.sum())
        why = (f"it holds {ran} sample{'' if ran == 1 else 's'} that ran, so no parameter takes two values"
               if ran < 2 else "it varies no parameter")
        raise InputError(f"{stored.path}: {why}; there is nothing to explain the outcome by (a discovery needs a "
                         "sweep of many samples: hundreds, at the least).")
    days = float(stored.settings["days"])
    words = event_words(outcome, cut, above, days)
    found = discover(inputs, happens[ok].to_numpy(), outcome=words, threshold=threshold,
                     describe=_describe(load_params()), seed=seed)
    source = (f"the sweep `{stored.path}` ({len(joined):,} sets of its {len(names)} varied parameters, under "
              f"scenario {scenario})")
    return DiscoveryStudy(found, source, outcome, float(cut), above, len(joined), int((~ok).sum()), seed, days,
                          str(stored.path))


def ensemble_discovery(projection: ConstrainedProjection, scenario: str, outcome: str = "p_ceasefire_horizon",
                       cut: float = 0.5, above: bool = True, threshold: float = 0.8,
                       seed: int = 20250120) -> DiscoveryStudy:
    """Scenario discovery on a constrained ensemble's members projected under ``scenario``
    (:func:`~sanctions_model.analysis.projection.project`): the box of the members' assumptions in
    which the event happens, the members weighted (see :func:`~sanctions_model.analysis.discover.discover`).

    Parameters
    ----------
    projection : ConstrainedProjection
        With ``scenario`` among its scenarios.
    scenario, outcome, cut, above, threshold, seed
        As :func:`sweep_discovery`.

    Returns
    -------
    DiscoveryStudy
    """
    from .discover import discover

    if scenario not in projection.inputs:
        raise InputError(f"scenario '{scenario}' was not projected.{suggest(scenario, projection.inputs)}")
    check_event(outcome, projection.days)
    frame = projection.outcomes[projection.outcomes["scenario"] == scenario].reset_index(drop=True)
    ok, happens = _event(frame, outcome, cut, above, str(projection.path))
    inputs = projection.inputs[scenario].reset_index(drop=True)[ok]
    words = event_words(outcome, cut, above, projection.days)
    found = discover(inputs, happens[ok].to_numpy(), outcome=words, threshold=threshold,
                     describe=_describe(load_params()), weights=frame.loc[ok, "weight"].to_numpy(), seed=seed)
    source = (f"the {len(frame):,} members of the constrained ensemble `{projection.path.name}` (on the record to "
              f"{projection.as_of}), projected under {scenario} from their own states, each weighted by how well it "
              "reproduced the record")
    return DiscoveryStudy(found, source, outcome, float(cut), above, len(frame), int((~ok).sum()), seed,
                          projection.days, projection.path.name)
