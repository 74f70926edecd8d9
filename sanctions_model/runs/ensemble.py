"""Ensembles: the same Latin-hypercube draws of every uncertainty, run under each scenario.

An ensemble answers "how sure": the share of plausible assumption sets in which each
outcome happens, and the spread of trajectories over time (fan charts). The draws are the
same for every scenario (common random numbers), so a difference between two scenarios is
the policy's, not the sampling's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import InputError, suggest
from ..inputs.params import ParameterSet, check_labelled, load_params
from .designs import Design
from .evaluate import Evaluation, batches, concat, evaluate_batch
from .executors import check_workers, map_in_processes
from .run import check_days

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: What an ensemble reports for each scenario: the probability of each event over the sampled
#: sets. For an event the model gives as a probability (talks, a ceasefire), it is the mean of
#: the sets' probabilities: the chance of the event when the assumptions are as uncertain as
#: their ranges. For a yes/no event (reserves exhausted) it is the share of sets in which it
#: happens. Either way a value 0-1, whose sampling error over ``n`` sets the Wilson interval gives
#: conservatively: a quantity in [0, 1] varies at most as much as a yes/no one of the same mean.
SHARES: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "talks within 100 days": lambda df: df["p_talks_100_days"],
    "talks within horizon": lambda df: df["p_talks_horizon"],
    "ceasefire within 1 year": lambda df: df["p_ceasefire_1_year"],
    "ceasefire within horizon": lambda df: df["p_ceasefire_horizon"],
    "reserves exhausted": lambda df: df["days_to_reserves_exhausted"].notna(),
}
#: Variables kept over time for fan charts, and the percentiles kept.
FAN_VARIABLES = ("p_ceasefire", "bargaining_range", "strain", "reserves", "territory")
PERCENTILES = (5, 25, 50, 75, 95)
#: Rows integrated in one batch (bounds memory: a batch holds every state at every day).
BATCH_ROWS = 2000
#: Days between kept fan-chart points.
FAN_EVERY_DAYS = 7.0


def _ok(outcomes: pd.DataFrame) -> pd.DataFrame:
    """The rows of a tidy outcome table whose run solved (all of them when it has no ``status``)."""
    return outcomes[outcomes["status"] == "ok"] if "status" in outcomes else outcomes


def share_row(outcomes: pd.DataFrame) -> dict[str, float]:
    """Share of the rows (sampled sets) of ``outcomes`` with each outcome of :data:`SHARES`, 0-1
    (NaN when there are no rows)."""
    return {col: float(f(outcomes).mean()) if len(outcomes) else math.nan for col, f in SHARES.items()}


def wilson_interval(k: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval (0-1) of ``k`` successes in ``n`` trials (NaN, NaN when n is 0).

    ``k`` may be a sum of chances rather than a count (the mean chance over ``n`` sets times ``n``):
    the score interval's formula, written out here, takes any share ``k / n`` in [0, 1], where
    :func:`scipy.stats.binomtest`'s ``proportion_ci(method="wilson")``, which it equals for a whole
    ``k`` (tests/test_report_claims.py), takes whole counts only.
    """
    if not 0 < confidence < 1:  # NaN fails too
        raise InputError(f"confidence must be a level between 0 and 1 (0.95 for 95%), got {confidence!r}.")
    if not n >= 0 or not -1e-9 * n <= k <= n * (1 + 1e-9):
        raise InputError(f"a share needs 0 <= k <= n, got k = {k!r} of n = {n!r}.")
    if n == 0:
        return math.nan, math.nan
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + confidence / 2))
    p, z2n = min(max(k / n, 0.0), 1.0), z * z / n
    centre = (p + z2n / 2) / (1 + z2n)
    half = z * math.sqrt(p * (1 - p) / n + z2n / (4 * n)) / (1 + z2n)
    return (0.0 if p == 0 else max(centre - half, 0.0)), (1.0 if p == 1 else min(centre + half, 1.0))


def share_table(outcomes: pd.DataFrame, scenarios: Sequence[str], interval: bool = False,
                confidence: float = 0.95, counts: bool = False) -> pd.DataFrame:
    """Shares of :data:`SHARES` per scenario from a tidy outcome table (one row per sample and scenario).

    ``outcomes`` needs a ``scenario`` column and the outcome columns :data:`SHARES` reads;
    every row counts (drop failed samples first). Wide (scenario x share, with a column ``n``
    if ``counts``) by default; with ``interval``, tidy: one row per scenario and share with
    ``n``, ``share``, ``low`` and ``high`` (the Wilson interval at ``confidence``).
    """
    groups = dict(tuple(outcomes.groupby("scenario", sort=False)))
    empty = outcomes.iloc[:0]
    if not interval:
        rows = {}
        for name in scenarios:
            df = groups.get(name, empty)
            rows[name] = {**share_row(df), **({"n": len(df)} if counts else {})}
        frame = pd.DataFrame.from_dict(rows, orient="index")
        if counts:
            frame["n"] = frame["n"].astype("int64")
        return frame.drop(columns=_undefined(frame))
    records = []
    undefined = _undefined(pd.DataFrame.from_dict({name: share_row(groups.get(name, empty)) for name in scenarios},
                                                  orient="index"))
    for name in scenarios:
        df = groups.get(name, empty)
        for share, f in SHARES.items():
            if share in undefined:
                continue
            value = float(f(df).astype(float).mean()) if len(df) else math.nan
            low, high = (wilson_interval(value * len(df), len(df), confidence) if math.isfinite(value)
                         else (math.nan, math.nan))
            records.append({"scenario": name, "outcome": share, "n": len(df), "share": value, "low": low,
                            "high": high})
    return pd.DataFrame.from_records(records, columns=["scenario", "outcome", "n", "share", "low", "high"])


def _undefined(frame: pd.DataFrame) -> list[str]:
    """The columns of :data:`SHARES` no scenario defines: a chance within a year, over a horizon
    shorter than a year."""
    return [col for col in SHARES if col in frame and len(frame) and frame[col].isna().all()]


def percentile_table(series: np.ndarray, days: np.ndarray) -> pd.DataFrame:
    """Percentiles :data:`PERCENTILES` over samples of ``series`` (samples x days), by day.

    Columns ``p5`` ... ``p95``; samples that are NaN (failed) are left out.
    """
    return pd.DataFrame(np.nanpercentile(series, PERCENTILES, axis=0).T, index=days,
                        columns=[f"p{q}" for q in PERCENTILES])


@dataclass(repr=False)
class Ensemble:
    """Results of :func:`run_ensemble`.

    Attributes
    ----------
    inputs : DataFrame (sample x uncertain parameter)
        The sampled values, the same under every scenario.
    outcomes : DataFrame
        Tidy, as :attr:`SweepResult.outcomes <sanctions_model.SweepResult.outcomes>`: one row
        per sampled set and scenario, columns ``sample_id``, ``scenario``, ``status`` (``ok``, or
        ``failed`` for a set the solver could not integrate, with NaN outcomes), ``message``
        and every outcome of :data:`sanctions_model.core.outcomes.OUTCOMES`. Shares count the
        sets that solved. :meth:`outcomes_of` gives one scenario's rows indexed by ``sample_id``.
    fans : dict of scenario -> dict of variable -> DataFrame (day x ``p5`` ... ``p95``)
        Percentiles over the sampled sets every :data:`FAN_EVERY_DAYS` days.
    days : float [day]
    seed : int
    start_date : str
        ISO date of day 0.
    """

    inputs: pd.DataFrame
    outcomes: pd.DataFrame
    fans: dict[str, dict[str, pd.DataFrame]]
    days: float
    seed: int
    start_date: str = "2025-01-20"

    @property
    def n(self) -> int:
        """Sampled sets per scenario."""
        return len(self.inputs)

    @property
    def scenarios(self) -> list[str]:
        """Scenario labels, in the order they ran."""
        return list(self.fans)

    def outcomes_of(self, scenario: str) -> pd.DataFrame:
        """The outcomes of one scenario, one row per sampled set.

        Parameters
        ----------
        scenario : str

        Returns
        -------
        pandas.DataFrame
            Indexed by ``sample_id`` (the row of :attr:`inputs`): ``status``, ``message`` and one
            column per outcome.
        """
        self._check(scenario)
        rows = self.outcomes[self.outcomes["scenario"] == scenario]
        return rows.drop(columns="scenario").set_index("sample_id")

    def shares(self, interval: bool = False, confidence: float = 0.95) -> pd.DataFrame:
        """The chance of each outcome of :data:`SHARES` over the sampled sets (the mean of the sets'
        probabilities; for reserves exhausted, the share of sets), optionally with intervals.

        Parameters
        ----------
        interval : bool
            False (default): a wide table of shares. True: a tidy table with each share's
            Wilson interval, the sampling error of estimating the share from :attr:`n` sets.
        confidence : float
            Confidence level of the intervals (default 0.95).

        Returns
        -------
        pandas.DataFrame
            Default: scenario (index) x outcome of :data:`SHARES`, shares 0-1. With
            ``interval=True``: one row per scenario and outcome, columns ``scenario``,
            ``outcome``, ``n``, ``share``, ``low``, ``high`` (0-1).
        """
        return share_table(_ok(self.outcomes), self.scenarios, interval=interval, confidence=confidence)

    def plot(self, scenario: str) -> Figure:
        """Fan charts of the chance of a ceasefire, the bargaining range, strain, reserves and territory for one
        scenario.

        Parameters
        ----------
        scenario : str

        Returns
        -------
        matplotlib.figure.Figure
        """
        from ..report.figures import fan_figure

        self._check(scenario)
        return fan_figure(self.fans[scenario], None, None, self.n, start=pd.Timestamp(self.start_date),
                          title=f"{scenario}: the range over {self.n:,} sampled sets of assumptions")

    def _check(self, scenario: str) -> None:
        if scenario not in self.fans:
            raise InputError(f"scenario '{scenario}' is not in this ensemble.{suggest(scenario, self.fans)}")

    def solved(self, scenario: str) -> int:
        """How many of the sampled sets solved under ``scenario`` (the count its shares are of).

        Parameters
        ----------
        scenario : str

        Returns
        -------
        int
            :attr:`n`, less the sets the solver could not integrate.
        """
        self._check(scenario)
        rows = self.outcomes[self.outcomes["scenario"] == scenario]
        return int((rows["status"] == "ok").sum()) if "status" in rows else len(rows)

    def _table(self) -> pd.DataFrame:
        from .describe import share_with_interval

        shares = self.shares()
        return pd.DataFrame({col: [share_with_interval(shares.loc[name, col], self.solved(name))
                                   for name in shares.index] for col in shares.columns}, index=shares.index)

    def _head(self) -> str:
        return (f"{self.n:,} sampled assumption sets per scenario, seed {self.seed}, {self.days:g} days "
                f"from {self.start_date}")

    def __repr__(self) -> str:
        shares = self.shares()
        lines = [f"Ensemble: {self._head()}; the chance of each outcome over the sets (reserves exhausted: "
                 "the share of sets):"]
        lines += [f"  {name}: " + ", ".join(f"{col} {100 * v:.1f}%" for col, v in shares.loc[name].items())
                  for name in self.scenarios]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return (f"<p><b>Ensemble</b>: {self._head()} (the chance of each outcome over the sets, 95% interval; "
                f"reserves exhausted: the share of sets)</p>{self._table().to_html()}")

    def _repr_markdown_(self) -> str:
        from .describe import markdown_table

        return f"**Ensemble**: {self._head()}\n\n{markdown_table(self._table())}\n"

    def happens(self, scenario: str, share: str) -> pd.Series:
        """The probability of an outcome in each sampled set (1 or 0 for a yes/no outcome).

        Parameters
        ----------
        scenario : str
        share : str
            A key of :data:`SHARES`.

        Returns
        -------
        pandas.Series of float 0-1, one per sampled set.
        """
        if share not in SHARES:
            raise InputError(f"unknown share '{share}'.{suggest(share, SHARES)}")
        return SHARES[share](self.outcomes_of(scenario)).astype(float)


def run_ensemble(scenarios: Sequence[str | tuple[str, ParameterSet]], days: float, n: int, seed: int,
                 workers: int | None = None) -> Ensemble:
    """Run ``n`` Latin-hypercube assumption sets under each scenario (the same draws for each).

    Parameters
    ----------
    scenarios : list of str or (label, ParameterSet)
        Scenario names, or labelled parameter sets. Every uncertainty (non-lever parameter
        with a range) is drawn uniformly over its range; each scenario's levers stay as it
        sets them.
    days : float [day]
        Horizon after the start date.
    n : int
        Assumption sets per scenario.
    seed : int
        Seed of the draws.
    workers : int, optional
        Local processes (default None: what ``sanctions_model.execution`` says, else every
        core; 1: this process); the results do not depend on it.

    Returns
    -------
    Ensemble
        Inputs, outcomes per set, fan-chart percentiles; ``.shares()`` and ``.plot()``.
    """
    days = check_days(days)
    if isinstance(scenarios, str):  # one scenario by name, as simulate() takes it
        scenarios = [scenarios]
    if not scenarios:
        raise InputError("run_ensemble needs at least one scenario.")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"n must be a whole number of at least 1, got {n!r}.")
    workers = check_workers(workers)
    labelled = check_labelled([(item, load_params(item)) if isinstance(item, str) else item for item in scenarios],
                              "run_ensemble")
    # the same draws under every scenario (the same seed: the same points of the unit hypercube,
    # each scaled to the scenario's own ranges, which a dated scenario may restate)
    drawn = {label: draws(params, n, seed) for label, params in labelled}
    names, x = drawn[labelled[0][0]]
    at = fan_days(days)
    work = {label: batches(params.values(), *drawn[label], days, rows=BATCH_ROWS, keep=FAN_VARIABLES, at=at)
            for label, params in labelled}
    results = map_in_processes(evaluate_batch, [b for parts in work.values() for b in parts], workers)
    frames, fans, i = [], {}, 0
    for label, parts in work.items():
        result = concat(results[i:i + len(parts)])
        i += len(parts)
        frames.append(outcome_frame(result, label))
        fans[label] = {var: percentile_table(result.trajectories[var], result.days) for var in FAN_VARIABLES}
    outcomes = pd.concat(frames, ignore_index=True)
    return Ensemble(pd.DataFrame(x, columns=names), outcomes, fans, days, seed, labelled[0][1].start_date.isoformat())


def draws(params: ParameterSet, n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """``n`` Latin-hypercube draws of every uncertainty of ``params``: the names, and the values (n, k)."""
    design = Design.build("lhs", params, n, seed, chunk_size=max(n, 1))
    return list(design.names), design.chunk(0)


def fan_days(days: float) -> np.ndarray:
    """Days at which fan charts are kept: every :data:`FAN_EVERY_DAYS` from 0, and the horizon."""
    return np.union1d(np.arange(0.0, days, FAN_EVERY_DAYS), [float(days)])


def outcome_frame(result: Evaluation, scenario: str) -> pd.DataFrame:
    """An evaluation's outcomes as the tidy table ensembles and sweeps share: ``sample_id``,
    ``scenario``, ``status``, ``message`` and one column per outcome."""
    return pd.DataFrame({"sample_id": np.arange(result.n, dtype=np.int64), "scenario": scenario,
                         "status": result.status.astype(str), "message": result.message.astype(str),
                         **result.outcomes})


def at_each_end(params: ParameterSet, names: Sequence[str], days: float, n: int, seed: int,
                workers: int | None = None) -> pd.DataFrame:
    """Shares of :data:`SHARES` with each parameter held at its low, then its high end.

    Every other uncertainty keeps its sampled values (the draws of :func:`run_ensemble` with
    the same ``n`` and ``seed``), so the difference between the two ends is the parameter's
    own effect, averaged over everything else.

    Parameters
    ----------
    params : ParameterSet
        The scenario's parameters (its levers stay as set).
    names : list of str
        Parameters to hold at each end of their range.
    days : float [day]
    n : int
        Sampled sets.
    seed : int
    workers : int, optional
        Local processes (default None: what ``sanctions_model.execution`` says, else every
        core; 1: this process).

    Returns
    -------
    pandas.DataFrame
        Rows (parameter, ``low``/``high``), columns the shares, 0-1.
    """
    days = check_days(days)
    names_drawn, x = draws(params, n, seed)
    keys = [(name, end) for name in names for end in ("low", "high")]
    if not keys:
        return pd.DataFrame(columns=list(SHARES), index=pd.MultiIndex.from_tuples([], names=["parameter", "end"]))
    base = params.values()
    # every held parameter gets a column (a lever is not drawn: its column holds its value)
    columns = [*names_drawn, *(name for name in dict.fromkeys(names) if name not in names_drawn)]
    x = np.hstack([x, np.tile([base[name] for name in columns[len(names_drawn):]], (n, 1))])
    stacked = np.tile(x, (len(keys), 1))
    for i, (name, end) in enumerate(keys):
        spec = params.parameters[name]
        stacked[i * n:(i + 1) * n, columns.index(name)] = spec.low if end == "low" else spec.high
    results = map_in_processes(evaluate_batch, batches(base, columns, stacked, days, rows=BATCH_ROWS),
                               check_workers(workers))
    table = outcome_frame(concat(results), "")
    rows = {key: share_row(_ok(table.iloc[i * n:(i + 1) * n])) for i, key in enumerate(keys)}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index = pd.MultiIndex.from_tuples(keys, names=["parameter", "end"])
    return frame
