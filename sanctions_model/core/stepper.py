"""An explicit Runge-Kutta pair that steps every member of a batch with its own step size, compiled.

SciPy's solvers advance a whole batch (the state ``(N_STATES, n)`` flattened) with one step
size, chosen on the batch's root-mean-square error: one member at a kink holds every other
to its steps, and a member's numbers move with the company it is batched with. Here each
member is integrated on its own, exactly as SciPy's ``RK45`` (or ``RK23``) would integrate it
alone, with that solver's own tableau, dense output, step-size control and first-step rule
(Hairer, Norsett & Wanner, *Solving Ordinary Differential Equations I*, II.4): one member after
another, through the model's right-hand side compiled by Numba from its own source
(:mod:`sanctions_model.core.jit`, where the loop itself is). A member's numbers therefore do
not depend on the batch it is in, and a batch costs each member only the evaluations it needs
itself (over the history a member needs about 1,100 evaluations; over a 730-day projection
about 190).

Each member stops at each of its own breakpoints (its segments' ends) and restarts there with
the derivative on the new side, carrying its step size over. Between two breakpoints every lever
and driver is linear in time, so each one's value at the segment's start and its rate are worked
out once, for every member and segment (:func:`segment_schedules`), before the loop. A member
whose right-hand side is not finite at a state a stage tried shortens its step (by
:data:`MIN_FACTOR`) and tries again; one that still cannot go on after :data:`MAX_UNDEFINED`
tries, or is undefined at an accepted state, or whose fastest mode makes it stiff (checked as in
``solve.py``), leaves the explicit method at its last accepted state, for the caller to finish
with an implicit one.

No library offers this: SciPy's solvers, and the ODE solvers built on them, control one step
size per system.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.integrate import RK23, RK45, OdeSolver

from ..errors import SolverError
from . import jit_cache
from .model import STATE_SCALE
from .schedules import Schedule

#: The tableaux this module can step with (each a SciPy ``RungeKutta`` class, first same as last).
METHODS: dict[str, type[OdeSolver]] = {"RK45": RK45, "RK23": RK23}

#: SciPy's step-size control (``scipy/integrate/_ivp/rk.py``): safety factor and the bounds on a
#: step's change after an accepted or rejected step.
SAFETY, MIN_FACTOR, MAX_FACTOR = 0.9, 0.2, 10.0
#: Steps in a row a member may shorten because a trial state left the model undefined (each by
#: ``MIN_FACTOR``: a factor of 1e-7 in all) before it leaves the explicit method.
MAX_UNDEFINED = 10
#: What :func:`step_members`' compiled loop reports of each member (``core/jit.step_each``).
FINISHED, LEFT, STALLED, TINY_STEP, NON_FINITE_OUTPUT = 0, 1, 2, 3, 4


@dataclass
class Left:
    """Members that left the explicit method (stiff, or undefined where they were): their positions
    in the batch, and each one's segment, time [day] and state (``(N_STATES, m)``) where it left."""

    members: np.ndarray
    segment: np.ndarray
    t: np.ndarray
    y: np.ndarray


class _Tableau:
    """A SciPy Runge-Kutta pair as this module uses it: stage ``i`` of ``0..s`` evaluates the model
    at ``t + c[i] h`` and ``y + h * w[i] . K``; stage ``s`` is the new state (first same as last)."""

    def __init__(self, method: type[OdeSolver]) -> None:
        s = method.n_stages
        self.s = s
        self.w = np.zeros((s + 1, s))
        a = np.asarray(method.A)
        self.w[1:s, :a.shape[1]] = a[1:s]
        self.w[s] = method.B
        self.c = np.append(np.asarray(method.C, dtype=float), 1.0)
        self.c[0] = 0.0
        self.e = np.asarray(method.E, dtype=float)
        self.p = np.asarray(method.P, dtype=float)
        self.exponent = -1.0 / (method.error_estimator_order + 1)
        self.order = method.error_estimator_order


def segment_schedules(schedule: Schedule, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every schedule's value at the start of each member's every segment, and its rate there, shape
    ``(n, K, S)`` (``S`` the schedules of ``schedule.keys``; ``edges`` ``(n, K)`` each member's segment
    ends): between two of a member's breakpoints every lever and driver is linear in time. Worked out
    by the compiled :func:`~sanctions_model.core.jit.segment_starts`, ramp by ramp as
    ``schedule.at`` would at each segment's start."""
    from . import jit

    full = schedule.full
    n = edges.shape[0]
    ramps = (full.change.shape[0], full.change.shape[1], n)
    change, start, phase = (np.ascontiguousarray(np.broadcast_to(x, ramps), dtype=float)
                            for x in (full.change, full.start, full.phase))
    base = np.ascontiguousarray(np.broadcast_to(full.base, (full.base.shape[0], n)), dtype=float)
    return jit.segment_starts(base, change, start, phase, np.ascontiguousarray(edges, dtype=float))


def step_members(
    p: Mapping[str, np.ndarray],
    ref: Mapping[str, np.ndarray],
    schedule: Schedule,
    y0: np.ndarray,
    edges: np.ndarray,
    grid: np.ndarray,
    out: np.ndarray,
    *,
    method: str = "RK45",
    rtol: float,
    atol: np.ndarray,
    check_every: int = 1_000,
    stiff_calls: float = 5_000.0,
    stability: float = 3.0,
    max_calls: int = 50_000,
    non_finite: str = "a state became non-finite",
) -> tuple[Left, np.ndarray]:
    """Integrate every member from its first edge to its last (the horizon), each with its own step size.

    Parameters
    ----------
    p : dict of arrays (n,)
        The batch's parameters (``solve.as_batch``).
    ref : dict of arrays (n,)
        The reference values read at the start (``model.initial_state``).
    schedule : Schedule
        The batch's levers and drivers, compiled once (``schedules.Schedule``).
    y0 : array (N_STATES, n)
        The state at the first edge.
    edges : array (n, K) [day]
        Each member's segments' ends, rising along its row: the start, its breakpoints, the horizon
        (the same for every member), then ``inf`` to fill the row.
    grid : array [day]
        The output days; ``out[:, i, k]`` gets member ``i`` at every ``grid[k]`` after the start
        that its steps cover.
    out : array (N_STATES, n, grid.size)
        Written in place.
    method : str
        ``"RK45"`` or ``"RK23"``.
    rtol : float
    atol : array (N_STATES,)
    check_every, stiff_calls, stability : number
        A member that has spent ``check_every`` evaluations in its segment since it was last looked at
        leaves when finishing the segment at steps of ``stability / radius`` (``radius`` its Jacobian's
        largest eigenvalue, by finite differences) would cost more than ``stiff_calls``.
    max_calls : int
        Evaluations a member may spend in one segment.
    non_finite : str
        What the error says of a non-finite state on the output grid.

    Returns
    -------
    Left
        The members that left the explicit method (none, usually); every other member's output
        is written and ends at the horizon.
    array (n,) of int
        The evaluations of the right-hand side each member cost (its stiffness looks' included).

    Raises
    ------
    SolverError
        If a member needs more than ``max_calls`` evaluations in a segment, a step below the
        spacing of floating-point times, or a state on the output grid is not finite.
    """
    from . import jit

    tab = _Tableau(METHODS[method])
    n_states, n = y0.shape
    if n == 0:
        return Left(np.empty(0, dtype=int), np.empty(0, dtype=int), np.empty(0), np.empty((n_states, 0))), \
            np.zeros(0, dtype=int)
    records = jit.member_records(p, n)
    names = records.dtype.names or ()
    fields = np.array([names.index(value) for value, _ in schedule.keys], dtype=np.int64)
    rate_fields = np.array([names.index(rate) for _, rate in schedule.keys], dtype=np.int64)
    start_values, rates = segment_schedules(schedule, edges)
    values = records.view(np.float64).reshape(n, len(names))
    status, segment, t_left, y_left, evaluations, failed = jit.step_each(
        np.ascontiguousarray(y0, dtype=float), records, values, jit.reference_records(ref, n),
        np.ascontiguousarray(edges, dtype=float), fields, rate_fields, start_values, rates, grid, out, tab.w, tab.c,
        tab.e, tab.p, float(tab.exponent), int(tab.order), float(rtol), np.asarray(atol, dtype=float),
        STATE_SCALE,
        int(check_every), float(stiff_calls), float(stability), int(max_calls), SAFETY, MIN_FACTOR, MAX_FACTOR,
        MAX_UNDEFINED)
    jit_cache.mark_loaded()  # the compiled code is on disk for this interpreter and core/ (once a process)
    i = int(failed[0])
    if i >= 0:
        a, b = edges[i, segment[i]], edges[i, segment[i] + 1]
        if status[i] == STALLED:
            raise SolverError(f"more than {max_calls} evaluations between day {a:g} and {b:g} ({method}, member by "
                              "member): the parameters stall the solver")
        if status[i] == TINY_STEP:
            raise SolverError(f"solver failed between day {a:g} and {b:g}: Required step size is less than spacing "
                              "between numbers.")
        raise SolverError(non_finite)
    gone = np.flatnonzero(status == LEFT)
    return Left(gone, segment[gone], t_left[gone], y_left[:, gone]), evaluations
