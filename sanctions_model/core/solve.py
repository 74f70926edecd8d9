"""Integration of a batch of parameter sets with SciPy's ODE solvers.

The batch is the second axis of the state (``(N_STATES, n)``, flattened for SciPy), so
one solver call advances every member at once; a single run is a batch of one.
Integration restarts at every lever breakpoint, so that steps and ramp corners fall on
segment ends and cost the adaptive solver no accuracy.

Stiff members. An explicit method (the default, RK45) advances the whole batch with one
step size, which its stiffest member limits. Every :data:`STIFF_CHECK_CALLS` evaluations in
a segment the solver looks at each member's Jacobian where it has got to (by finite
differences, one batched evaluation per stock): a member whose fastest mode would hold the
explicit method to more than :data:`STIFF_CALLS` evaluations before the segment's end leaves
the batch there and is integrated to the end of the run with the implicit
:data:`FALLBACK_METHOD` (Radau, on a block-diagonal sparse Jacobian, so that any number of
stiff members cost a few evaluations per Jacobian); the others carry on as before. A member
whose rate of change is undefined at a state the explicit method tried (it stepped a stock
that should stay positive below zero) does the same. Only a member the implicit method
cannot integrate either raises :class:`SolverError`. ``BatchSolution.fallback`` says which
members fell back.

By default (``stepping="member"``) RK45 and RK23 step every member with its own step size
instead, one member after another through the right-hand side compiled by Numba from the same
source (:mod:`sanctions_model.core.stepper`, :mod:`sanctions_model.core.jit`), the same stiffness
test deciding which members leave, and the members that leave continue on the implicit method
from where each left;
``stepping="batch"`` keeps one step size for the batch, as described above.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sparse
from scipy.integrate import BDF, DOP853, LSODA, RK23, RK45, OdeSolver, Radau

from ..errors import SolverError
from .model import N_STATES, STATE_SCALE, continued_state, derivatives, initial_state
from .schedules import Schedule, breakpoints, compiled, member_edges
from .stepper import METHODS as STEPPED
from .stepper import step_members

DEFAULT_RTOL = 1e-6
DEFAULT_ATOL_FACTOR = 1e-8  # absolute tolerance = factor * typical magnitude of the stock
#: Evaluations an explicit method spends in a segment between two looks for stiff members
#: (a look costs N_STATES + 1 evaluations).
STIFF_CHECK_CALLS = 1_000
#: A member is stiff when an explicit method, its step held to ``STABILITY_LIMIT / |lambda|``
#: by the member's fastest mode ``lambda``, would need more evaluations than this to finish
#: the segment. (A run that is not stiff takes a few hundred to a few thousand a segment.)
STIFF_CALLS = 5_000
#: ``|lambda| h`` at which an explicit method becomes unstable on a decaying mode (about 3.3
#: for RK45, 2.5 for RK23, 6 for DOP853).
STABILITY_LIMIT = 3.0
#: Evaluations any one solver run may spend in a segment: a guard against a run that stalls
#: without being stiff (an explicit run), or that even the implicit method cannot advance.
MAX_RHS_CALLS = 50_000
#: The implicit method stiff members fall back to.
FALLBACK_METHOD = "Radau"
#: What :class:`SolverError` says of a state that became NaN or infinite on the output grid.
NON_FINITE = "a state became non-finite; the parameters are probably extreme"

EXPLICIT: dict[str, type[OdeSolver]] = {"RK45": RK45, "RK23": RK23, "DOP853": DOP853}
IMPLICIT: dict[str, type[OdeSolver]] = {"Radau": Radau, "BDF": BDF, "LSODA": LSODA}


@dataclass(frozen=True)
class BatchSolution:
    """States of a batch on an output grid.

    Attributes
    ----------
    t : array (n_t,) [day]
    y : array (N_STATES, n, n_t)
    ref : dict of arrays (n,), reference values read at the start
    params : dict of arrays (n,)
    fallback : bool array (n,), True for the members integrated in part with the implicit
        :data:`FALLBACK_METHOD` because they were stiff
    evaluations : int array (n,), the right-hand-side evaluations each member cost on the explicit
        method, where each member was stepped on its own (``stepping="member"``; None otherwise)
    """

    t: np.ndarray
    y: np.ndarray
    ref: dict[str, np.ndarray]
    params: dict[str, np.ndarray]
    fallback: np.ndarray | None = None
    evaluations: np.ndarray | None = None


def as_batch(values: Mapping[str, object]) -> dict[str, np.ndarray]:
    """Parameter mapping as float arrays of one common length ``n`` (scalars broadcast)."""
    arrays = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in values.items()}
    n = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    return {k: np.broadcast_to(a, n).copy() for k, a in arrays.items()}


class _Undefined(Exception):
    """Raised inside an explicit run: some members' rates of change are not finite."""

    def __init__(self, columns: np.ndarray) -> None:
        super().__init__()
        self.columns = columns


class _Segment:
    """One segment ``[a, b]`` of the run: the model restricted to some members, and the output."""

    def __init__(self, p: Mapping[str, np.ndarray], ref: Mapping[str, np.ndarray], schedule: Schedule, a: float,
                 b: float, grid: np.ndarray, out: np.ndarray, rtol: float, atol_factor: float) -> None:
        self.p, self.ref, self.schedule, self.a, self.b = p, ref, schedule, a, b
        self.t_hi = b - 1e-9 * max(b - a, 1.0)  # evaluate levers on this segment's side of b
        self.grid, self.out, self.rtol, self.atol_factor = grid, out, rtol, atol_factor

    def model(self, members: np.ndarray) -> Callable[[float, np.ndarray], np.ndarray]:
        """``dy/dt`` of ``members`` (shape ``(N_STATES, m)``) at ``t``, clipped to the segment."""
        # the batch's levers and drivers, compiled once (schedules.Schedule), restricted to this
        # segment and these members
        every = members.size == self.out.shape[1]
        p = self.p if every else {k: v[members] for k, v in self.p.items()}
        ref = self.ref if every else {k: v[members] for k, v in self.ref.items()}
        p = compiled(p, schedule=self.schedule.restricted(None if every else members, self.a, self.t_hi))
        t_hi = self.t_hi

        def f(t: float, y: np.ndarray) -> np.ndarray:
            return derivatives(min(t, t_hi), y, p, ref)

        return f

    def record(self, members: np.ndarray, solver: OdeSolver) -> None:
        """Store the output-grid points the solver's last step covered."""
        lo, hi = solver.t_old, solver.t
        k = np.flatnonzero((self.grid > lo) & (self.grid <= hi))
        if k.size:
            values = solver.dense_output()(self.grid[k]).reshape(N_STATES, members.size, k.size)
            if not np.isfinite(values).all():  # checked as written, while in cache
                raise SolverError(NON_FINITE)
            if members.size == self.out.shape[1]:  # every member (the usual case): a plain slice
                self.out[:, :, k[0]:k[-1] + 1] = values
            else:
                self.out[:, members[:, None], k[None, :]] = values

    def solver(self, method: type[OdeSolver], f: Callable[[float, np.ndarray], np.ndarray], t0: float,
               y0: np.ndarray, calls: list[int], explicit: bool, first_step: float | None = None) -> OdeSolver:
        m = y0.shape[1]

        def rhs(t: float, flat: np.ndarray) -> np.ndarray:
            calls[0] += 1
            if calls[0] > MAX_RHS_CALLS:
                raise SolverError(f"more than {MAX_RHS_CALLS} evaluations between day {self.a:g} and {self.b:g} "
                                  f"({method.__name__}): the parameters stall the solver")
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # checked here
                d = f(t, flat.reshape(N_STATES, m))
            bad = ~np.isfinite(d).all(axis=0)
            if bad.any():
                if explicit:
                    raise _Undefined(np.flatnonzero(bad))
                raise SolverError(f"the model is undefined at day {t:.1f} (a non-finite rate of change); "
                                  "the parameters are probably extreme")
            return d.reshape(-1)

        atol = np.repeat(STATE_SCALE * self.atol_factor, m)
        options: dict[str, object] = {}
        if method in (Radau, BDF):  # members are independent: a block-diagonal Jacobian
            options["jac_sparsity"] = sparse.kron(np.ones((N_STATES, N_STATES)), sparse.identity(m), format="csc")
        if first_step is not None and 0 < first_step:
            options["first_step"] = min(first_step, self.b - t0)
        return method(rhs, t0, y0.reshape(-1), self.b, rtol=self.rtol, atol=atol, **options)

    def implicit(self, method: type[OdeSolver], members: np.ndarray, t0: float, y0: np.ndarray) -> np.ndarray:
        """Integrate ``members`` from ``t0`` (state ``y0``) to ``b`` with an implicit method; the state at ``b``."""
        calls = [0]
        solver = self.solver(method, self.model(members), t0, y0, calls, explicit=False)
        while solver.status == "running":
            message = solver.step()
            if solver.status == "failed":
                raise SolverError(f"solver failed between day {self.a:g} and {self.b:g}: {message}")
            self.record(members, solver)
        return solver.y.reshape(N_STATES, -1)

    def explicit(self, method: type[OdeSolver], members: np.ndarray, y0: np.ndarray, first_step: float | None = None
                 ) -> tuple[np.ndarray, list[tuple[np.ndarray, float, np.ndarray]], float | None]:
        """Integrate ``members`` from ``a`` to ``b`` with an explicit method, setting stiff members aside.

        ``first_step`` [day] is the step the previous segment ended with (None: SciPy chooses).
        Returns the state at ``b`` (columns of the members set aside are left as they were
        at ``a``), the members set aside, each group with the day and state it left at, and
        the step the solver would have taken next had the segment not ended (for the next one).
        """
        y_end = y0.copy()
        aside: list[tuple[np.ndarray, float, np.ndarray]] = []
        running = np.arange(members.size)  # positions in ``members``
        t, y = self.a, y0
        natural = first_step
        while running.size:
            calls = [0]
            f = self.model(members[running])
            try:
                solver = self.solver(method, f, t, y, calls, explicit=True, first_step=natural)
            except _Undefined as exc:  # undefined at the start: the implicit method will say so
                aside.append((running[exc.columns], t, y[:, exc.columns]))
                keep = np.setdiff1d(np.arange(running.size), exc.columns)
                running, y = running[keep], y[:, keep]
                continue
            checked = 0
            leave = np.empty(0, dtype=int)
            while solver.status == "running":
                natural = solver.h_abs  # the step it proposes (the last one is cut short at b)
                try:
                    message = solver.step()
                except _Undefined as exc:  # the last accepted state is still the solver's
                    leave = exc.columns
                    break
                if solver.status == "failed":
                    raise SolverError(f"solver failed between day {self.a:g} and {self.b:g}: {message}")
                self.record(members[running], solver)
                if solver.status == "running" and calls[0] - checked >= STIFF_CHECK_CALLS:
                    checked = calls[0]
                    radius = spectral_radius(f, solver.t, solver.y.reshape(N_STATES, -1))
                    # evaluations to the segment's end at steps of STABILITY_LIMIT / radius
                    cost = solver.n_stages * radius * (self.b - solver.t) / STABILITY_LIMIT
                    leave = np.flatnonzero(cost > STIFF_CALLS)
                    if leave.size:
                        break
            t, y = solver.t, solver.y.reshape(N_STATES, -1)
            if solver.status == "finished":
                y_end[:, running] = y
                break
            aside.append((running[leave], t, y[:, leave]))
            keep = np.setdiff1d(np.arange(running.size), leave)
            running, y = running[keep], y[:, keep]
        return y_end, aside, natural


def spectral_radius(f: Callable[[float, np.ndarray], np.ndarray], t: float, y: np.ndarray) -> np.ndarray:
    """Largest ``|eigenvalue|`` [1/day] of each member's Jacobian ``d(dy/dt)/dy`` at ``(t, y)``, shape ``(m,)``.

    Forward differences, one batched evaluation per stock (the members are independent);
    a member whose Jacobian is not finite gets ``inf``.
    """
    m = y.shape[1]
    jac = np.empty((m, N_STATES, N_STATES))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        f0 = f(t, y)
        for j in range(N_STATES):
            step = np.sqrt(np.finfo(float).eps) * np.maximum(np.abs(y[j]), STATE_SCALE[j])
            moved = y.copy()
            moved[j] += step
            jac[:, :, j] = ((f(t, moved) - f0) / step).T
    finite = np.isfinite(jac).all(axis=(1, 2))
    radius = np.full(m, np.inf)
    if finite.any():
        radius[finite] = np.abs(np.linalg.eigvals(jac[finite])).max(axis=1)
    return radius


def integrate(
    params: Mapping[str, object],
    days: float,
    *,
    step: float = 1.0,
    grid: np.ndarray | None = None,
    rtol: float = DEFAULT_RTOL,
    atol_factor: float = DEFAULT_ATOL_FACTOR,
    method: str = "RK45",
    stepping: str = "member",
    start: np.ndarray | None = None,
    reference: Mapping[str, np.ndarray] | None = None,
) -> BatchSolution:
    """Integrate a batch of parameter sets from day 0 to ``days``.

    Parameters
    ----------
    params : mapping of name to scalar or array (n,)
        Every parameter of ``params/base.toml``; values are not range-checked here.
    days : float [day]
        Horizon.
    step : float [day]
        Output interval.
    grid : array [day], optional
        Output times instead of a regular ``step``: rising strictly from 0 to at most ``days``.
    rtol, atol_factor : float
        Relative tolerance, and the absolute tolerance as a fraction of each stock's
        typical magnitude.
    method : str
        A ``solve_ivp`` method: an explicit one (``RK45``, ``RK23``, ``DOP853``), whose stiff
        members fall back to :data:`FALLBACK_METHOD`, or an implicit one (``Radau``, ``BDF``,
        ``LSODA``) for every member.
    stepping : str
        ``"member"`` (default): ``RK45`` and ``RK23`` step every member with its own step size
        (:mod:`~sanctions_model.core.stepper`), so that a member's numbers do not depend on its
        batch and each member costs only the evaluations it needs itself; ``"batch"``: the
        explicit method advances the whole batch as one system with one step size, as SciPy's
        solver does (``DOP853`` always does).
    start : array (N_STATES, n), optional
        Every member's stocks on day 0, instead of those its parameters give
        (:func:`~sanctions_model.core.model.initial_state`): a run continued from where another
        ended (:func:`~sanctions_model.core.model.continued_state`).
    reference : dict of name -> array (n,), optional
        With ``start``: the reference values of the run continued (``BatchSolution.ref``), so that
        nothing anchored to its start moves; without, the starting state's.

    Returns
    -------
    BatchSolution

    Raises
    ------
    SolverError
        If the solver fails or a state becomes non-finite even with the implicit method.
    ValueError
        If ``method`` or ``stepping`` is unknown, or ``grid`` does not rise strictly from 0 to at most ``days``.
    """
    if method not in EXPLICIT and method not in IMPLICIT:
        raise ValueError(f"unknown method {method!r}; one of {sorted(EXPLICIT) + sorted(IMPLICIT)}")
    if stepping not in ("batch", "member"):
        raise ValueError(f"unknown stepping {stepping!r}; 'batch' or 'member'")
    p = as_batch(params)
    if start is None:
        y0, ref = initial_state(p)
    else:
        y0, ref = continued_state(p, start, reference)
    n = y0.shape[1]
    if not np.isfinite(y0).all():
        raise SolverError("the model is undefined at day 0 (a non-finite starting state); "
                          "the parameters are probably extreme")
    if grid is None:
        grid = np.arange(0.0, days, step)
        grid = np.append(grid, float(days)) if days - grid[-1] > 1e-9 * step else grid
    grid = np.asarray(grid, dtype=float)
    if grid.ndim != 1 or grid.size == 0 or grid[0] != 0.0 or not (np.diff(grid) > 0).all() or not grid[-1] <= days:
        # every output point after 0 is written by a step that covers it: one beyond the horizon,
        # or a repeated one, would be left as whatever memory held
        got = f"from {grid.min():g} to {grid.max():g}" if grid.size else "none"
        raise ValueError(f"the output grid must rise strictly from day 0 to at most day {days:g}; "
                         f"got {grid.size} points, {got}")
    out = np.empty((N_STATES, n, grid.size))
    out[:, :, 0] = y0
    y = y0
    stiff = np.zeros(n, dtype=bool)  # members on the implicit method (for the rest of the run)
    schedule = Schedule(p)  # every lever and driver of the batch, read from the parameters once
    if stepping == "member" and method in STEPPED:  # each member its own step size, between its own breakpoints
        own = member_edges(p, days, n)
        left, evaluations = step_members(p, ref, schedule, y0, own, grid, out, method=method, rtol=rtol,
                                         atol=STATE_SCALE * atol_factor, check_every=STIFF_CHECK_CALLS,
                                         stiff_calls=STIFF_CALLS, stability=STABILITY_LIMIT, max_calls=MAX_RHS_CALLS,
                                         non_finite=NON_FINITE)
        stiff[left.members] = True
        for i, j, t, y_left in zip(left.members.tolist(), left.segment.tolist(), left.t.tolist(), left.y.T):
            # each member that left, alone on the implicit method to the end, so that its numbers are its own
            ends = own[i][np.isfinite(own[i])]
            state = y_left[:, None]
            for a, b in zip(ends[j:-1], ends[j + 1:]):
                segment = _Segment(p, ref, schedule, a, b, grid, out, rtol, atol_factor)
                state = segment.implicit(IMPLICIT[FALLBACK_METHOD], np.array([i]), max(a, t), state)
        return BatchSolution(grid, out, ref, p, stiff, evaluations)
    edges = np.concatenate([[0.0], breakpoints(p, days), [float(days)]])  # the batch's, shared
    step_size: float | None = None  # carried from one segment to the next
    for a, b in zip(edges[:-1], edges[1:]):
        segment = _Segment(p, ref, schedule, a, b, grid, out, rtol, atol_factor)
        if method in IMPLICIT:
            y = segment.implicit(IMPLICIT[method], np.arange(n), a, y)
            continue
        y = y.copy()
        if stiff.any():
            members = np.flatnonzero(stiff)
            y[:, members] = segment.implicit(IMPLICIT[FALLBACK_METHOD], members, a, y[:, members])
        members = np.flatnonzero(~stiff)
        if members.size:
            y[:, members], aside, step_size = segment.explicit(EXPLICIT[method], members, y[:, members], step_size)
            for positions, t, y_left in aside:
                moved = members[positions]
                stiff[moved] = True
                y[:, moved] = segment.implicit(IMPLICIT[FALLBACK_METHOD], moved, t, y_left)
    return BatchSolution(grid, out, ref, p, stiff)
