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

from .designs import latin_hypercube, uncertainties
from .errors import InputError, suggest
from .outcomes import compute
from .parallel import check_workers, map_in_processes
from .params import ParameterSet, load_params
from .run import check_days, trajectory_values
from .solve import integrate

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


def percentile_table(series: np.ndarray, days: np.ndarray) -> pd.DataFrame:
    """Percentiles :data:`PERCENTILES` over samples of ``series`` (samples x days), by day.

    Columns ``p5`` ... ``p95``; samples that are NaN (failed) are left out.
    """
    return pd.DataFrame(np.nanpercentile(series, PERCENTILES, axis=0).T, index=days,
                        columns=[f"p{q}" for q in PERCENTILES])


@dataclass
class Ensemble:
    """Results of :func:`run_ensemble`.

    Attributes
    ----------
    inputs : DataFrame (sample x uncertain parameter)
        The sampled values, the same under every scenario.
    outcomes : dict of scenario -> DataFrame (sample x outcome)
        Every outcome of :data:`sanctions_model.outcomes.OUTCOMES` for every sampled set.
    fans : dict of scenario -> dict of variable -> DataFrame (day x ``p5`` ... ``p95``)
        Percentiles over the sampled sets every :data:`FAN_EVERY_DAYS` days.
    days : float [day]
    seed : int
    start_date : str
        ISO date of day 0.
    """

    inputs: pd.DataFrame
    outcomes: dict[str, pd.DataFrame]
    fans: dict[str, dict[str, pd.DataFrame]]
    days: float
    seed: int
    start_date: str = "2025-01-20"

    @property
    def n(self) -> int:
        """Sampled sets per scenario."""
        return len(self.inputs)

    def shares(self) -> pd.DataFrame:
        """Share of sampled sets with each outcome.

        Returns
        -------
        pandas.DataFrame
            Scenario x outcome of :data:`SHARES`, shares 0-1.
        """
        return pd.DataFrame.from_dict({name: share_row(df) for name, df in self.outcomes.items()}, orient="index")

    def plot(self, scenario: str) -> Figure:
        """Fan charts of willingness, strain, reserves and territory for one scenario.

        Parameters
        ----------
        scenario : str

        Returns
        -------
        matplotlib.figure.Figure
        """
        from .report.figures import fan_figure

        if scenario not in self.fans:
            raise InputError(f"scenario '{scenario}' is not in this ensemble.{suggest(scenario, self.fans)}")
        return fan_figure(self.fans[scenario], None, None, self.n, start=pd.Timestamp(self.start_date),
                          title=f"{scenario}: the range over {self.n:,} sampled sets of assumptions")

    def _table(self) -> pd.DataFrame:
        from .report.markdown import share_with_interval

        return self.shares().map(lambda v: share_with_interval(v, self.n))

    def _repr_html_(self) -> str:
        return (f"<p><b>Ensemble</b>: {self.n:,} sampled assumption sets per scenario, seed {self.seed}, "
                f"{self.days:g} days (share of sets with each outcome, 95% interval)</p>{self._table().to_html()}")

    def _repr_markdown_(self) -> str:
        from .report.markdown import markdown_table

        return (f"**Ensemble**: {self.n:,} sampled assumption sets per scenario, seed {self.seed}, "
                f"{self.days:g} days\n\n{markdown_table(self._table())}\n")

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
        return SHARES[share](self.outcomes[scenario]).astype(bool)


def run_ensemble(scenarios: Sequence[str | tuple[str, ParameterSet]], days: float, n: int, seed: int,
                 workers: int | None = 1) -> Ensemble:
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
        Local processes (None: every core; 1, the default: this process); the results do
        not depend on it.

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
    outcomes, fans = {}, {}
    for label, _ in labelled:
        mine = [r for t, r in zip(tasks, results) if t.label == label]
        outcomes[label] = pd.concat([r[0] for r in mine], ignore_index=True)
        days_kept = mine[0][2]
        fans[label] = {var: percentile_table(np.concatenate([r[1][var] for r in mine]), days_kept)
                       for var in FAN_VARIABLES}
    assert inputs is not None
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
                workers: int | None = 1) -> pd.DataFrame:
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
        Local processes (None: every core; 1, the default: this process).

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
