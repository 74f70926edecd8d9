"""Projections from a constrained ensemble (issue 16, item 2): each kept member continues from its
own state on the projection's start, under a scenario, and every chance and share is averaged with
the members' weights. No joined state, no jump.

What a member carries into the projection:

- its **state**: every stock on the cut date (the hazards' totals and the cumulative counts
  restart at 0, so that chances count from the projection's start: ``model.continued_state``),
  and the strain its recruitment is anchored to;
- its **frame** (:data:`FRAME`): the parameters the equations read as the run's reference, not
  only as its start (a force's losses are gated against its starting size, the front's room is
  measured from the starting territory, and the pace of advance is the pace at the reference
  balance of forces, which the state carries as a stock). A projection from the base file
  measures these from 2025-01-20; a member measures them from its own history, so that the
  battlefield's rates do not jump on the cut date;
- its **values of the assumptions the history shares with the projection**: every drawn
  uncertainty except those the historical scenario restates for 2022 (its ``[[change]]``
  entries), the drivers whose recorded path the history follows (``schedules.DRIVERS``), the
  projection scenario's own changes and the levers.

The projection's own uncertainties that the history cannot see (the future oil price, exchange
rate and budget, each scenario's assumptions about 2025 onward) are drawn afresh, a Latin
hypercube over their ranges, one draw per member (the same draws under every scenario). A driver
whose recorded path ends elsewhere than the projection's assumption for it (Russia's casualties and
recruitment, the oil price) moves at the cut date as the scenario assumes; nothing else does.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.model import STATE_NAMES
from ..core.schedules import DRIVERS
from ..errors import InputError
from ..inputs import ensemble_file
from ..inputs.params import ParameterSet, load_params, params_dir
from ..runs.designs import Design, overlay, uncertainties
from ..runs.ensemble import FAN_VARIABLES, PERCENTILES, SHARES, fan_days, outcome_frame
from ..runs.evaluate import Evaluation, concat, evaluate
from ..runs.executors import map_in_processes
from ..runs.run import check_days
from .constrain import MIN_EFFECTIVE, SCENARIO, effective_size, weighted_quantiles

#: Members projected in one batch.
BATCH_ROWS = 2000
#: The default seed of the fresh draws of a projection's own uncertainties.
SEED = 20250120


def default_path() -> Path:
    """``params/constrained-ensemble.parquet``."""
    return params_dir() / ensemble_file.DEFAULT_NAME


#: Parameters a member carries from its history as the frame its battlefield is measured in (see the
#: module): a force's starting size (the gate of its losses), the starting territory (the front's
#: room) and the pace of advance at the reference balance.
FRAME = ("forces.russia_initial", "forces.ukraine_initial", "forces.territory_initial", "forces.advance_initial")


#: Parameters a projection from the members' own states cannot move, because each member's history
#: sets them: the starting values read only by ``model.initial_state`` (the member's state on the cut
#: date replaces them) and the :data:`FRAME` (the member's own values). A lever's ``.initial`` (e.g.
#: ``sanctions.initial``) is not among them: its schedule ramps from it.
SET_BY_MEMBERS = frozenset({"evasion.initial", "fiscal.reserves_initial", "fiscal.reserves_gold_share",
                            "macro.inflation_initial", "macro.inflation_observed_initial", "macro.key_rate_initial",
                            "forces.kursk_initial", *FRAME})


def carried(names: Sequence[str], history: ParameterSet, params: ParameterSet, overrides: bool = True) -> list[str]:
    """The drawn uncertainties a member carries into a projection under ``params`` (see the module),
    besides its :data:`FRAME`; without ``overrides``, also those a value set by hand replaces."""
    own = ({p for sc in history.applied for p, _, _ in sc.changes} | {p for sc in params.applied for p, _, _ in
                                                                         sc.changes} | set(DRIVERS) | set(FRAME)
           | (set(params.overrides) if overrides else set()))
    return [n for n in names if n not in own and n in params.parameters and params.parameters[n].group
            not in params.levers]


@dataclass(frozen=True)
class ProjectionTask:
    """One batch of members under one scenario: values, starting states and the horizon."""

    base: tuple[tuple[str, float], ...]
    names: tuple[str, ...]
    x: np.ndarray
    start: np.ndarray | None
    reference: np.ndarray | None
    days: float
    fans: bool = True


def project_batch(task: ProjectionTask) -> Evaluation:
    """Integrate one batch of members from their own states, or from the scenario's starting state
    where ``task.start`` is None (a worker's job)."""
    return evaluate(overlay(dict(task.base), task.names, task.x), task.days, start=task.start,
                    reference=None if task.reference is None else {"strain": task.reference},
                    keep=FAN_VARIABLES if task.fans else (), at=fan_days(task.days) if task.fans else None)


def weighted_percentile_table(series: np.ndarray, weights: np.ndarray, days: np.ndarray) -> pd.DataFrame:
    """Weighted percentiles :data:`~sanctions_model.runs.ensemble.PERCENTILES` over members of ``series``
    (members x days), by day; members with NaN (failed) left out."""
    rows = []
    for j in range(series.shape[1]):
        column = series[:, j]
        ok = np.isfinite(column)
        rows.append(weighted_quantiles(column[ok], weights[ok], [q / 100 for q in PERCENTILES]) if ok.any()
                    else (np.nan,) * len(PERCENTILES))
    return pd.DataFrame(rows, index=days, columns=[f"p{q}" for q in PERCENTILES])


def member_values(file: ensemble_file.EnsembleFile, history: ParameterSet, params: ParameterSet,
                  seed: int, frame: bool = True) -> tuple[list[str], np.ndarray]:
    """Every member's values under the projection's parameters ``params``: the names overlaid on
    ``params``, and the values (members, names) (see the module). Without ``frame``, the members
    keep the projection's own :data:`FRAME` (for a run from the scenario's starting state)."""
    members = file.members
    m = len(members)
    keep = carried(file.names, history, params)
    drawn = set(uncertainties(params))
    # the design's dimensions do not depend on the values set by hand, so that setting one leaves every other
    # fresh draw of every member as it was
    unset = carried(file.names, history, params, overrides=False)
    own = (*unset, *FRAME) if frame else unset  # without the frame, it is drawn as the unconstrained sets draw it
    design = Design.build("lhs", params, m, seed, fix=[n for n in own if n in drawn], chunk_size=max(m, 1))
    fresh = design.chunk(0)
    for j, name in enumerate(design.names):  # a value set by hand (--set) holds for every member, as in the run
        if name in params.overrides:
            fresh[:, j] = params[name]
    parts, names = [fresh, members[keep].to_numpy(dtype=float)], [*design.names, *keep]
    if frame:
        parts.append(np.stack([members[n].to_numpy(dtype=float) if n in members else np.full(m, float(history[n]))
                               for n in FRAME], axis=1))
        names += FRAME
    return names, np.hstack(parts)


@dataclass
class ConstrainedProjection:
    """Projections of a constrained ensemble's members under scenarios, with their weights.

    Attributes
    ----------
    outcomes : pandas.DataFrame
        One row per member and scenario: ``member``, ``scenario``, ``weight``, ``status`` and
        every outcome.
    weights : numpy.ndarray
        The members' weights (sum 1).
    days : float
    as_of : str
        The ensemble's cut date: the projection's day 0.
    path : pathlib.Path
        The ensemble file.
    fans : dict of scenario -> dict of variable -> DataFrame (day x ``p5`` ... ``p95``)
        Weighted percentiles of :data:`~sanctions_model.runs.ensemble.FAN_VARIABLES` over the
        members, every ``FAN_EVERY_DAYS`` days (empty when not kept).
    inputs : dict of scenario -> DataFrame (members x names)
        Every member's values of the parameters that differ between members, as the scenario ran
        them (what scenario discovery explains the outcomes by).
    """

    outcomes: pd.DataFrame
    weights: np.ndarray
    days: float
    as_of: str
    path: Path
    fans: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)
    inputs: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def effective_size(self) -> float:
        """How many equally weighted members the weights are worth (``constrain.effective_size``)."""
        return effective_size(self.weights)

    def effective_sizes(self) -> pd.Series:
        """The effective size of the members that could be integrated, per scenario (what each scenario's
        shares are averaged over)."""
        ok = self.outcomes[self.outcomes["status"] == "ok"]
        return pd.Series({name: effective_size(ok.loc[ok["scenario"] == name, "weight"].to_numpy())
                          for name in self.outcomes["scenario"].unique()}, dtype=float)

    def shares(self) -> pd.DataFrame:
        """Weighted :data:`~sanctions_model.runs.ensemble.SHARES` per scenario, 0-1 (scenario x share).

        A failed member's weight is left out and the rest renormalised.

        Raises
        ------
        InputError
            If the ensemble's effective size is below :data:`MIN_EFFECTIVE`.
        """
        rows = {}
        for name, df in self.outcomes.groupby("scenario", sort=False):
            ok = df[df["status"] == "ok"]
            w = ok["weight"].to_numpy()
            if not len(ok):
                raise InputError(f"{self.path}: under '{name}' none of the constrained ensemble's {len(df):,} members "
                                 "could be integrated (see the outcomes' status); no share is reported.")
            size = effective_size(w)
            if size < MIN_EFFECTIVE:
                raise InputError(f"{self.path}: under '{name}' the constrained ensemble's members that could be "
                                 f"integrated ({len(ok):,} of {len(df):,}) are worth {size:.0f} equally weighted "
                                 f"members, fewer than the {MIN_EFFECTIVE} shares are reported from; constrain a "
                                 "larger prior (sanctions-model constrain -n).")
            rows[name] = {share: float((w * f(ok).astype(float).to_numpy()).sum() / w.sum()) if w.sum() > 0
                          else math.nan for share, f in SHARES.items()}
        frame = pd.DataFrame.from_dict(rows, orient="index")
        return frame.drop(columns=[c for c in frame if frame[c].isna().all()])


def project(scenarios: Sequence[str | tuple[str, ParameterSet]], days: float = 730, *,
            ensemble: str | os.PathLike[str] | None = None, seed: int = SEED,
            workers: int | None = None, own_states: bool = True, fans: bool = True) -> ConstrainedProjection:
    """Project every member of a constrained ensemble under each scenario, from its own state.

    Parameters
    ----------
    scenarios : list of str or (label, ParameterSet)
        Scenario names or files, or labelled parameter sets (``--set`` overrides, composed
        scenarios); projections from the ensemble's cut date: a scenario that starts on another
        date is refused.
    days : float [day]
        Horizon after the ensemble's cut date.
    ensemble : path, optional
        The ensemble file (default ``params/constrained-ensemble.parquet``).
    seed : int
        Seed of the fresh draws of the projection's own uncertainties.
    workers : int, optional
        Local processes (default: as ``execution()`` says, else every core).
    own_states : bool
        True (the projection): each member continues from its own state and frame. False (a
        diagnostic that separates the record's constraint on the assumptions from the members'
        states): each member's values from the scenario's own starting state, as the unconstrained
        sets start (the record of 2025-01-20 where there is one, else the base file's assumption,
        drawn over its range where it is uncertain).
    fans : bool
        Keep :data:`~sanctions_model.runs.ensemble.FAN_VARIABLES` over time and give their weighted
        percentiles (``ConstrainedProjection.fans``).

    Returns
    -------
    ConstrainedProjection
    """
    days = check_days(days)
    if not scenarios:
        raise InputError("project needs at least one scenario.")
    file = ensemble_file.read(default_path() if ensemble is None else ensemble)
    members = file.members
    m = len(members)
    if m == 0:
        raise InputError(f"{file.path}: the ensemble keeps no member; constrain a larger prior or a looser fit.")
    history = load_params(file.meta.get("scenario", SCENARIO), calibration=False)
    start = file.states[list(STATE_NAMES)].to_numpy().T  # (N_STATES, m)
    weights = members["weight"].to_numpy(dtype=float)
    weights = weights / weights.sum()
    reference = members["reference.strain"].to_numpy(dtype=float)
    work: dict[str, list[ProjectionTask]] = {}
    inputs: dict[str, pd.DataFrame] = {}
    for item in scenarios:
        if isinstance(item, (str, Path)):
            scenario, params = str(item), load_params(item, calibration=False)
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], ParameterSet):
            scenario, params = str(item[0]), item[1]
        else:
            raise InputError(f"project: each scenario is a name, a path or a (label, ParameterSet) pair, got "
                             f"{type(item).__name__} {item!r}.")
        if params.start_date.isoformat() != file.meta.get("as_of"):
            raise InputError(f"scenario '{scenario}' starts on {params.start_date}, the ensemble {file.path} on "
                             f"{file.meta.get('as_of')}: a projection continues each member from the ensemble's "
                             "cut date, so the two must agree.")
        names, x = member_values(file, history, params, seed, frame=own_states)
        base = tuple((k, float(v)) for k, v in params.values().items())
        varied = pd.DataFrame(x, columns=names)
        inputs[scenario] = varied.loc[:, varied.nunique() > 1]
        rows = -(-m // -(-m // BATCH_ROWS))  # batches of equal size, none above BATCH_ROWS
        work[scenario] = [ProjectionTask(base, tuple(names), x[i:i + rows],
                                         start[:, i:i + rows] if own_states else None,
                                         reference[i:i + rows] if own_states else None, days, fans)
                          for i in range(0, m, rows)]
    # every scenario's batches on one pool of workers (starting a pool per scenario cost more than the runs)
    results = map_in_processes(project_batch, [t for tasks in work.values() for t in tasks], workers,
                               desc="constrained members")
    frames, bands, i = [], {}, 0
    for scenario, tasks in work.items():
        result = concat(results[i:i + len(tasks)])
        frame = outcome_frame(result, scenario).rename(columns={"sample_id": "member"})
        i += len(tasks)
        frame.insert(2, "weight", weights)
        frames.append(frame)
        if fans:
            bands[scenario] = {var: weighted_percentile_table(result.trajectories[var], weights, result.days)
                               for var in FAN_VARIABLES}
    return ConstrainedProjection(pd.concat(frames, ignore_index=True), weights, days, str(file.meta.get("as_of")),
                                 file.path, bands, inputs)


#: Stocks whose starting values :func:`starting_states` compares: the economy's and the decision
#: core's, where the members' states and the recorded state differ most.
COMPARED_STOCKS = ("reserves", "key_rate", "inflation", "strain", "russia_forces", "russia_cost", "ukraine_cost")


def starting_states(params: ParameterSet, ensemble: str | os.PathLike[str] | None = None,
                    stocks: Sequence[str] = COMPARED_STOCKS) -> pd.DataFrame:
    """Where the projections start: a scenario's own starting state (the record of 2025-01-20 where
    there is one, else the base file's assumption) against the constrained members' states on the cut
    date (weighted 5th, 50th and 95th percentiles).

    Returns
    -------
    DataFrame
        Index: the stocks; columns ``unit``, ``start``, ``p5``, ``p50``, ``p95``.
    """
    from ..core.model import initial_state
    from ..core.system import STOCKS
    from .constrain import weighted_quantiles

    file = ensemble_file.read(default_path() if ensemble is None else ensemble)
    weights = file.members["weight"].to_numpy(dtype=float)
    state, _ = initial_state({k: np.array([v]) for k, v in params.values().items()})
    units = {s.name: s.unit for s in STOCKS}
    rows = {}
    for name in stocks:
        p5, p50, p95 = weighted_quantiles(file.states[name].to_numpy(dtype=float), weights, (0.05, 0.5, 0.95))
        rows[name] = {"unit": units[name], "start": float(np.ravel(state[STATE_NAMES.index(name)])[0]),
                      "p5": p5, "p50": p50, "p95": p95}
    return pd.DataFrame.from_dict(rows, orient="index")

