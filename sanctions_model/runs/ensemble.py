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

from ..core.outcomes import compute
from ..core.solve import integrate
from ..errors import InputError, suggest
from ..inputs.params import ParameterSet, load_params
from .designs import latin_hypercube, uncertainties
from .executors import check_workers, map_in_processes
from .run import check_days, trajectory_values

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Outcome shares an ensemble reports, each a yes/no per sampled set.
SHARES: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "Russia willing within 100 days": lambda df: df["russia_willing_within_100_days"],
    "talks within 100 days": lambda df: df["talks_within_100_days"],
    "Russia willing within horizon": lambda df: df["days_to_russia_willing"].notna(),
    "talks within horizon": lambda df: df["talks_within_horizon"],
    "reserves exhausted": lambda df: df["days_to_reserves_exhausted"].notna(),
}
#: Variables kept over time for fan charts, and the percentiles kept.
FAN_VARIABLES = ("russia_willingness", "ukraine_willingness", "strain", "reserves", "territory")
PERCENTILES = (5, 25, 50, 75, 95)
#: Rows integrated in one batch (bounds memory: a batch holds every state at every day).
BATCH_ROWS = 2000
#: Days between kept fan-chart points.
FAN_EVERY_DAYS = 7.0


def share_row(outcomes: pd.DataFrame) -> dict[str, float]:
    """Share of the rows (sampled sets) of ``outcomes`` with each outcome of :data:`SHARES`, 0-1
    (NaN when there are no rows)."""
    return {col: float(f(outcomes).mean()) if len(outcomes) else math.nan for col, f in SHARES.items()}


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval (0-1) of ``k`` successes in ``n`` trials (NaN, NaN when n is 0).

    The same interval as the reports print (:func:`scipy.stats.binomtest`'s ``proportion_ci``
    with ``method="wilson"``).
    """
    if n == 0:
        return math.nan, math.nan
    from scipy.stats import binomtest

    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


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
        return frame
    records = []
    for name in scenarios:
        df = groups.get(name, empty)
        for share, f in SHARES.items():
            k = int(f(df).astype(bool).sum()) if len(df) else 0
            low, high = wilson_interval(k, len(df), confidence)
            records.append({"scenario": name, "outcome": share, "n": len(df),
                            "share": k / len(df) if len(df) else math.nan, "low": low, "high": high})
    return pd.DataFrame.from_records(records, columns=["scenario", "outcome", "n", "share", "low", "high"])


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
        per sampled set and scenario, columns ``sample_id``, ``scenario`` and every outcome
        of :data:`sanctions_model.core.outcomes.OUTCOMES`. :meth:`outcomes_of` gives one
        scenario's rows indexed by ``sample_id``.
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
            Indexed by ``sample_id`` (the row of :attr:`inputs`), one column per outcome.
        """
        self._check(scenario)
        rows = self.outcomes[self.outcomes["scenario"] == scenario]
        return rows.drop(columns="scenario").set_index("sample_id")

    def shares(self, interval: bool = False, confidence: float = 0.95) -> pd.DataFrame:
        """Share of sampled sets with each outcome of :data:`SHARES`, optionally with intervals.

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
        return share_table(self.outcomes, self.scenarios, interval=interval, confidence=confidence)

    def plot(self, scenario: str) -> Figure:
        """Fan charts of willingness, strain, reserves and territory for one scenario.

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

    def _table(self) -> pd.DataFrame:
        from ..report.markdown import share_with_interval

        return self.shares().map(lambda v: share_with_interval(v, self.n))

    def _head(self) -> str:
        return (f"{self.n:,} sampled assumption sets per scenario, seed {self.seed}, {self.days:g} days "
                f"from {self.start_date}")

    def __repr__(self) -> str:
        shares = self.shares()
        lines = [f"Ensemble: {self._head()}; share of sets with each outcome:"]
        lines += [f"  {name}: " + ", ".join(f"{col} {100 * v:.1f}%" for col, v in shares.loc[name].items())
                  for name in self.scenarios]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return (f"<p><b>Ensemble</b>: {self._head()} (share of sets with each outcome, 95% interval)</p>"
                f"{self._table().to_html()}")

    def _repr_markdown_(self) -> str:
        from ..report.markdown import markdown_table

        return f"**Ensemble**: {self._head()}\n\n{markdown_table(self._table())}\n"

    def happens(self, scenario: str, share: str) -> pd.Series:
        """Whether an outcome happens in each sampled set.

        Parameters
        ----------
        scenario : str
        share : str
            A key of :data:`SHARES`.

        Returns
        -------
        pandas.Series of bool, one per sampled set.
        """
        if share not in SHARES:
            raise InputError(f"unknown share '{share}'.{suggest(share, SHARES)}")
        return SHARES[share](self.outcomes_of(scenario)).astype(bool)


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
    if not scenarios:
        raise InputError("run_ensemble needs at least one scenario.")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"n must be a whole number of at least 1, got {n!r}.")
    workers = check_workers(workers)
    labelled = [(item, load_params(item)) if isinstance(item, str) else item for item in scenarios]
    tasks, inputs = [], None
    for label, params in labelled:
        values = latin_hypercube(params, n, seed)
        if inputs is None:  # the draws are the same under every scenario
            inputs = pd.DataFrame({name: values[name] for name in uncertainties(params)})
        tasks += [_Chunk(label, {k: v[a:a + BATCH_ROWS] for k, v in values.items()}, days, True)
                  for a in range(0, n, BATCH_ROWS)]
    results = map_in_processes(_run_chunk, tasks, workers)
    frames, fans = [], {}
    for label, _ in labelled:
        mine = [r for t, r in zip(tasks, results) if t.label == label]
        frame = pd.concat([r[0] for r in mine], ignore_index=True)
        frame.insert(0, "scenario", label)
        frame.insert(0, "sample_id", np.arange(len(frame), dtype=np.int64))
        frames.append(frame)
        days_kept = mine[0][2]
        fans[label] = {var: percentile_table(np.concatenate([r[1][var] for r in mine]), days_kept)
                       for var in FAN_VARIABLES}
    assert inputs is not None
    outcomes = pd.concat(frames, ignore_index=True)
    return Ensemble(inputs, outcomes, fans, days, seed, labelled[0][1].start_date.isoformat())


@dataclass(frozen=True)
class _Chunk:
    """Rows of an ensemble to integrate in one batch: all a worker process needs."""

    label: str
    values: dict[str, np.ndarray]
    days: float
    fans: bool


def _run_chunk(task: _Chunk) -> tuple[pd.DataFrame, dict[str, np.ndarray], np.ndarray]:
    """Outcomes of a chunk, and (if asked) the fan-chart variables every FAN_EVERY_DAYS days."""
    sol = integrate(task.values, task.days)
    outcomes = pd.DataFrame(compute(sol))
    if not task.fans:
        return outcomes, {}, np.empty(0)
    cols = np.flatnonzero(np.isclose(np.mod(sol.t, FAN_EVERY_DAYS), 0.0) | (sol.t == sol.t[-1]))
    return outcomes, trajectory_values(sol, FAN_VARIABLES, cols), sol.t[cols]


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
    values = latin_hypercube(params, n, seed)
    keys = [(name, end) for name in names for end in ("low", "high")]
    if not keys:
        return pd.DataFrame(columns=list(SHARES), index=pd.MultiIndex.from_tuples([], names=["parameter", "end"]))
    stacked = {k: np.tile(v, len(keys)) for k, v in values.items()}
    for i, (name, end) in enumerate(keys):
        spec = params.parameters[name]
        stacked[name][i * n:(i + 1) * n] = spec.low if end == "low" else spec.high
    tasks = [_Chunk("", {k: v[a:a + BATCH_ROWS] for k, v in stacked.items()}, days, False)
             for a in range(0, n * len(keys), BATCH_ROWS)]
    table = pd.concat([r[0] for r in map_in_processes(_run_chunk, tasks, check_workers(workers))],
                      ignore_index=True)
    rows = {key: share_row(table.iloc[i * n:(i + 1) * n]) for i, key in enumerate(keys)}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index = pd.MultiIndex.from_tuples(keys, names=["parameter", "end"])
    return frame
