"""The one evaluator every batch of runs goes through: sweeps, ensembles, sensitivity
functions, the full report and the calibration's Jacobian.

It overlays sampled values on a scenario's parameters, integrates the batch with one solver
policy (:data:`POLICY`), reads the outcomes and the kept trajectories, and isolates members
that fail: a batch that raises is split in halves until each failing member is alone, and
that member gets NaN outcomes, status ``failed`` and the solver's message, while every
other member keeps its numbers. One bad assumption set never costs the other 99,999.

Nothing here knows where it runs (``executors.py``) or where results go (the caller keeps
them in memory, or ``sweep.py`` writes them to its store).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.model import N_STATES, REFERENCES
from ..core.outcomes import OUTCOMES, compute, trajectory_values
from ..errors import InputError, SolverError
from .designs import overlay

if TYPE_CHECKING:
    from ..core.solve import BatchSolution


def integrate(values: Mapping[str, Any], days: float, **options: Any) -> BatchSolution:
    """The solver, :func:`sanctions_model.core.solve.integrate`, imported on first use: a driver that imports
    this module only to send batches to its workers (a sweep's) never loads it, nor SciPy's integrators (0.3
    to 0.5 s of its start). Every batch here, and every run of ``run.py``, is integrated through this name."""
    from ..core.solve import integrate as solve

    return solve(values, days, **options)


@dataclass(frozen=True)
class SolverPolicy:
    """How every batch is integrated.

    Attributes
    ----------
    rtol : float
        Relative tolerance. 1e-5 is looser than a single run's 1e-6 (``simulate``), chosen so
        that every member still agrees with ``simulate()`` far inside 1e-3 relative and 0.5 day
        (checked member by member in tests/test_sweep.py; measured 4e-3 day and 3e-5 relative
        at worst).
    step : float [day]
        Output interval on which crossing days are located (on the cubic through these points
        and the kept trajectory days): 2 days halves the memory of 1 day and moves no crossing
        measurably, the solver's tolerance dominates.
    method : str
        The explicit method; stiff members fall back to Radau (``core/solve.py``).
    stepping : str
        ``"member"``: each member its own step size (``core/stepper.py``), so that a member's
        numbers do not depend on the batch it is in; ``"batch"``: one step size for the whole batch
        (SciPy's solver).
    """

    rtol: float = 1e-5
    step: float = 2.0
    method: str = "RK45"
    stepping: str = "member"

    def grid(self, days: float, at: np.ndarray) -> np.ndarray:
        """Output days: every ``step`` from 0, the kept days ``at`` and the horizon."""
        return np.union1d(np.union1d(np.arange(0.0, days, self.step), at), [float(days)])


#: The policy of every batch.
POLICY = SolverPolicy()

#: Errors that mark a member as failed rather than stopping the batch.
FAILURES = (SolverError, FloatingPointError, ValueError, ZeroDivisionError, OverflowError)


@dataclass(frozen=True)
class Evaluation:
    """Outcomes and kept trajectories of a batch of ``n`` members.

    Attributes
    ----------
    outcomes : dict of outcome -> array (n,)
        As :data:`sanctions_model.core.outcomes.OUTCOMES`; NaN (False for yes/no outcomes)
        where a member failed.
    ok : bool array (n,)
        False for the members that failed.
    message : object array (n,)
        The solver's message for a failed member, ``""`` for the others.
    days : array (n_kept,) [day]
        The days at which trajectories were kept.
    trajectories : dict of variable -> array (n, n_kept)
        Each kept stock or flow, NaN where a member failed.
    final : array (N_STATES, n)
        Every stock on the last day (each in its unit, ``core/system.py``), NaN where a member
        failed: the state a run continued from that day starts in.
    reference : dict of name -> array (n,)
        The reference values the run read at its start (the strain Russia's recruitment is
        anchored to), NaN where a member failed: a continued run keeps them.
    """

    outcomes: dict[str, np.ndarray]
    ok: np.ndarray
    message: np.ndarray
    days: np.ndarray = field(default_factory=lambda: np.empty(0))
    trajectories: dict[str, np.ndarray] = field(default_factory=dict)
    final: np.ndarray = field(default_factory=lambda: np.empty((N_STATES, 0)))
    reference: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.ok.size)

    @property
    def status(self) -> np.ndarray:
        """``"ok"`` or ``"failed"`` per member (object array), as the sweep store writes it."""
        return np.where(self.ok, "ok", "failed").astype(object)


def failed(n: int, message: str, keep: Sequence[str] = (), at: np.ndarray | None = None) -> Evaluation:
    """The evaluation of ``n`` members that could not be computed: NaN outcomes and ``message``."""
    at = np.empty(0) if at is None else np.asarray(at, dtype=float)
    outcomes = {k: (np.zeros(n, dtype=bool) if unit == "bool" else np.full(n, np.nan))
                for k, (unit, _) in OUTCOMES.items()}
    return Evaluation(outcomes, np.zeros(n, dtype=bool), np.full(n, message[:500], dtype=object), at,
                      {name: np.full((n, at.size), np.nan) for name in keep}, np.full((N_STATES, n), np.nan),
                      {name: np.full(n, np.nan) for name in REFERENCES})


def concat(parts: Sequence[Evaluation]) -> Evaluation:
    """Evaluations of consecutive slices of a batch joined into one (same kept days and variables)."""
    first = parts[0]
    return Evaluation({k: np.concatenate([p.outcomes[k] for p in parts]) for k in first.outcomes},
                      np.concatenate([p.ok for p in parts]), np.concatenate([p.message for p in parts]),
                      first.days, {k: np.concatenate([p.trajectories[k] for p in parts]) for k in first.trajectories},
                      np.concatenate([p.final for p in parts], axis=1),
                      {k: np.concatenate([p.reference[k] for p in parts]) for k in first.reference})


def evaluate(values: Mapping[str, np.ndarray], days: float, *, keep: Sequence[str] = (),
             at: np.ndarray | None = None, policy: SolverPolicy = POLICY, start: np.ndarray | None = None,
             reference: Mapping[str, np.ndarray] | None = None, outcomes: bool = True) -> Evaluation:
    """Integrate a batch and read its outcomes (and ``keep`` at days ``at``), isolating failures.

    Parameters
    ----------
    values : mapping of every parameter to an array (n,)
        The batch, as :func:`sanctions_model.runs.designs.overlay` builds it.
    days : float [day]
        Horizon.
    keep : list of str
        Stocks or flows to keep over time.
    at : array [day], optional
        Days to keep them at (between 0 and ``days``).
    policy : SolverPolicy
        Default :data:`POLICY`.
    start : array (N_STATES, n), optional
        Every member's stocks on day 0 (a run continued from another's state; see
        :func:`sanctions_model.core.solve.integrate`).
    reference : dict of name -> array (n,), optional
        With ``start``: the reference values of the run continued (``Evaluation.reference``).
    outcomes : bool
        Read the outcomes (default); False leaves ``Evaluation.outcomes`` empty, for a caller that
        needs only trajectories and the final state.

    Returns
    -------
    Evaluation

    Raises
    ------
    InputError
        If a day in ``at`` lies outside 0 to ``days`` (or is NaN).
    """
    at = np.empty(0) if at is None or not keep else np.asarray(at, dtype=float)
    if not ((at >= 0.0) & (at <= days)).all():  # NaN too
        raise InputError(f"days to keep trajectories at must lie between 0 and {days:g}; got "
                         f"{', '.join(f'{d:g}' for d in at[~((at >= 0.0) & (at <= days))][:5])}")
    from ..core.solve import as_batch  # with the solver, on first use (see integrate)

    values = as_batch(values)  # scalars and arrays of one length, every one of length n
    n = len(next(iter(values.values())))
    try:
        with np.errstate(all="ignore"):
            # without outcomes, only the kept days are output (the solver's steps are the same)
            grid = policy.grid(days, at) if outcomes else np.union1d(at, [0.0, float(days)])
            sol = integrate(values, days, grid=grid, rtol=policy.rtol, method=policy.method, stepping=policy.stepping,
                            start=start, reference=reference)
            read = compute(sol) if outcomes else {}
            series = trajectory_values(sol, keep, np.flatnonzero(np.isin(sol.t, at))) if keep else {}
        return Evaluation(read, np.ones(n, dtype=bool), np.full(n, "", dtype=object), at, series,
                          sol.y[:, :, -1].copy(), {k: np.array(v, dtype=float) for k, v in sol.ref.items()})
    except FAILURES as exc:
        if n <= 1:
            gave_up = failed(n, str(exc) or type(exc).__name__, keep, at)
            return gave_up if outcomes else Evaluation({}, gave_up.ok, gave_up.message, at, gave_up.trajectories,
                                                       gave_up.final, gave_up.reference)
        half = n // 2
        return concat([evaluate({k: v[part] for k, v in values.items()}, days, keep=keep, at=at, policy=policy,
                                start=None if start is None else start[:, part],
                                reference=None if reference is None else {k: v[part] for k, v in reference.items()},
                                outcomes=outcomes)
                       for part in (slice(0, half), slice(half, n))])


@dataclass(frozen=True)
class Batch:
    """Rows of a design to evaluate together: everything a worker process needs (a few kB).

    ``x`` (rows, k) gives the values of ``names`` over the scenario's parameters ``base``.
    """

    base: Mapping[str, float]
    names: tuple[str, ...]
    x: np.ndarray
    days: float
    keep: tuple[str, ...] = ()
    at: tuple[float, ...] = ()


def evaluate_batch(batch: Batch) -> Evaluation:
    """:func:`evaluate` of a :class:`Batch` (the function executors send to workers)."""
    return evaluate(overlay(batch.base, batch.names, batch.x), batch.days, keep=batch.keep,
                    at=np.asarray(batch.at, dtype=float))


def batches(base: Mapping[str, float], names: Sequence[str], x: np.ndarray, days: float, *, rows: int,
            keep: Sequence[str] = (), at: Sequence[float] | np.ndarray = ()) -> list[Batch]:
    """``x`` cut into :class:`Batch` es of at most ``rows`` rows (a batch holds every state at every
    output day, so ``rows`` bounds memory)."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    base = {k: float(v) for k, v in base.items()}
    return [Batch(base, tuple(names), x[i:i + rows], float(days), tuple(keep), tuple(float(d) for d in at))
            for i in range(0, x.shape[0], rows)]
