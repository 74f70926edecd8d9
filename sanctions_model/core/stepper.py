"""An explicit Runge-Kutta pair that steps every member of a batch with its own step size.

SciPy's solvers advance a whole batch (the state ``(N_STATES, n)`` flattened) with one step
size, chosen on the batch's root-mean-square error: one member at a kink holds every other
to its steps, and a member's numbers move with the company it is batched with. Here each
member has its own time, step size and error test, exactly as SciPy's ``RK45`` (or ``RK23``)
would integrate it alone, with that solver's own tableau, dense output, step-size control and
first-step rule (Hairer, Norsett & Wanner, *Solving Ordinary Differential Equations I*,
II.4), but every evaluation of the right-hand side is still one vectorised call over the batch:
each member sits at its own stage of its own step. A member's numbers therefore do not depend
on the batch it is in, and a batch costs each member only the evaluations it needs itself
(over the history a member alone needs about 1,100 evaluations, a batch of 2,000 sharing one
step size 1,930; over a 730-day projection 190 against 880).

Each member stops at each of its own breakpoints (its segments' ends) and restarts there with
the derivative on the new side, carrying its step size over. A member whose right-hand side is
not finite at a state a stage tried shortens its step (by :data:`MIN_FACTOR`) and tries again;
one that still cannot go on after :data:`MAX_UNDEFINED` tries, or is undefined at an accepted
state, or whose fastest mode makes it stiff (checked as in ``solve.py``), leaves the explicit
method at its last accepted state, for the caller to finish with an implicit one.

No library offers this: SciPy's solvers, and the ODE solvers built on them, control one step
size per system.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.integrate import RK23, RK45, OdeSolver

from ..errors import SolverError

#: The tableaux this module can step with (each a SciPy ``RungeKutta`` class, first same as last).
METHODS: dict[str, type[OdeSolver]] = {"RK45": RK45, "RK23": RK23}
#: SciPy's step-size control (``scipy/integrate/_ivp/rk.py``): safety factor and the bounds on a
#: step's change after an accepted or rejected step.
SAFETY, MIN_FACTOR, MAX_FACTOR = 0.9, 0.2, 10.0
#: Steps in a row a member may shorten because a trial state left the model undefined (each by
#: ``MIN_FACTOR``: a factor of 1e-7 in all) before it leaves the explicit method.
MAX_UNDEFINED = 10
#: Output points written at once (:class:`_Dense`): about 10 MB of values.
DENSE_BATCH = 40_000

#: ``f(t, y, segment)``: the rates of change of the members (shape ``(N_STATES, m)``) at their own
#: times ``t`` (m,), each with the levers of its own ``segment`` (m,).
Model = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


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


def _rms(rows: np.ndarray) -> np.ndarray:
    """Root mean square of each member's row (shape ``(m, N_STATES)``): SciPy's error norm of one member.

    Summed along each member's own contiguous row, so that a member's sum is added in the same
    order (and rounds the same) whatever the batch's width."""
    rows = np.ascontiguousarray(rows)
    return np.sqrt(np.einsum("ji,ji->j", rows, rows) / rows.shape[1])


def first_steps(f: Model, t0: float, y0: np.ndarray, f0: np.ndarray, length: np.ndarray, order: int,
                rtol: float, atol: np.ndarray) -> np.ndarray:
    """SciPy's first step (``select_initial_step``) for every member at once [day], shape ``(m,)``."""
    scale = atol + np.abs(y0) * rtol
    d0, d1 = _rms((y0 / scale).T), _rms((f0 / scale).T)
    h0 = np.where((d0 < 1e-5) | (d1 < 1e-5), 1e-6, 0.01 * d0 / np.where(d1 > 0, d1, 1.0))
    h0 = np.minimum(h0, length)
    m = y0.shape[1]
    f1 = f(np.full(m, t0) + h0, y0 + h0 * f0, np.zeros(m, dtype=int))
    d2 = _rms(((f1 - f0) / scale).T) / h0
    big = np.fmax(d1, d2)  # as SciPy's max(d1, d2), which keeps d1 where d2 is NaN
    h1 = np.where((d1 <= 1e-15) & (d2 <= 1e-15), np.maximum(1e-6, h0 * 1e-3),
                  (0.01 / np.where(big > 0, big, 1.0)) ** (1.0 / (order + 1)))
    return np.minimum(np.minimum(100 * h0, h1), length)


def step_members(
    f: Model,
    restrict: Callable[[np.ndarray, bool], Model],
    y0: np.ndarray,
    edges: np.ndarray,
    grid: np.ndarray,
    out: np.ndarray,
    *,
    method: str = "RK45",
    rtol: float,
    atol: np.ndarray,
    stiffness: Callable[[Model, np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None,
    check_every: int = 1_000,
    stiff_calls: float = 5_000.0,
    stability: float = 3.0,
    max_calls: int = 50_000,
    non_finite: str = "a state became non-finite",
) -> Left:
    """Integrate every member from its first edge to its last (the horizon), each with its own step size.

    Parameters
    ----------
    f : Model
        The right-hand side of the whole batch (``n`` members).
    restrict : callable
        ``restrict(members, leading)``: the right-hand side of some members only (positions in the
        batch): the members still integrating, when enough have finished that evaluating them all
        would waste time (``leading`` True), or a few looked at for stiffness (False).
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
    stiffness : callable, optional
        ``stiffness(f, t, y, segment)``: each member's spectral radius [1/day]; looked at for the
        members that have spent ``check_every`` evaluations in their segment (with the model of
        those members only), which leave when finishing the segment at steps of ``stability /
        radius`` would cost more than ``stiff_calls``.
    max_calls : int
        Evaluations a member may spend in one segment.

    Returns
    -------
    Left
        The members that left the explicit method (none, usually); every other member's output
        is written and ends at the horizon.

    Raises
    ------
    SolverError
        If a member needs more than ``max_calls`` evaluations in a segment, a step below the
        spacing of floating-point times, or a state on the output grid is not finite.
    """
    tab = _Tableau(METHODS[method])
    s = tab.s
    n_states, n = y0.shape
    if n == 0:  # an empty batch: nothing to integrate
        return Left(np.empty(0, dtype=int), np.empty(0, dtype=int), np.empty(0), np.empty((n_states, 0)))
    atol = np.asarray(atol, dtype=float)
    rows = np.arange(n)
    t_end = float(edges[0][np.isfinite(edges[0])][-1])
    # Per member, member-major (a member's stocks, and its stages, contiguous): ``idx`` maps the
    # rows to the batch; rows are dropped as members finish.
    idx = np.arange(n)
    t = edges[:, 0].copy()
    seg = np.zeros(n, dtype=int)
    y = np.ascontiguousarray(y0.T)
    k_st = np.zeros((n, s + 1, n_states))  # zeros: a stage not yet reached weighs 0 * K, never 0 * NaN
    f0 = f(t, y0, seg)
    k_st[:, 0] = f0.T
    bad = ~np.isfinite(f0).all(axis=0)
    h = first_steps(f, float(edges[0, 0]), y0, np.where(bad, 0.0, f0), edges[:, 1] - edges[:, 0], tab.order, rtol,
                    atol[:, None])
    h = np.where(np.isfinite(h) & ~bad, h, 1e-6)
    stage = np.ones(n, dtype=int)
    h_used = np.zeros(n)
    y_new = np.empty_like(y)
    rejected = np.zeros(n, dtype=bool)
    calls = np.zeros(n, dtype=int)  # evaluations in the current segment
    checked = np.zeros(n, dtype=int)
    undefined = np.zeros(n, dtype=int)  # steps in a row shortened for an undefined trial state
    dense = _Dense(tab, grid, out, non_finite)
    live = np.ones(n, dtype=bool)  # still integrating (False: finished or left)
    left: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def leave(where: np.ndarray) -> None:
        left.append((idx[where], seg[where].copy(), t[where].copy(), y[where].T.copy()))
        live[where] = False

    if bad.any():
        leave(np.flatnonzero(bad))
    model = f
    while live.any():
        if live.sum() < 0.75 * live.size:  # drop the members done with, and evaluate the rest only
            keep = np.flatnonzero(live)
            idx, t, seg, y, h, stage, h_used = idx[keep], t[keep], seg[keep], y[keep], h[keep], stage[keep], \
                h_used[keep]
            k_st, y_new, rejected, calls, checked = k_st[keep], y_new[keep], rejected[keep], calls[keep], checked[keep]
            undefined, live, rows, edges = undefined[keep], live[keep], np.arange(keep.size), edges[keep]
            model = restrict(idx, True)
        everyone = bool(live.all())
        # a member beginning a step (stage 1) takes its proposed step, cut at its segment's end
        starting = stage == 1
        if starting.any():  # (not below SciPy's smallest step at t)
            h = np.where(starting, np.maximum(h, 10 * np.abs(np.nextafter(t, np.inf) - t)), h)
            h_used = np.where(starting, np.minimum(h, edges[rows, seg + 1] - t), h_used)
        w = tab.w[stage] * h_used[:, None]  # (m, s): this stage's weights, per member
        arg = y + np.einsum("mk,mki->mi", w, k_st[:, :s])
        t_arg = t + tab.c[stage] * h_used
        if not everyone:  # the members done with are evaluated where they stopped
            arg[~live] = y[~live]
            t_arg[~live] = t[~live]
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            value = model(t_arg, np.ascontiguousarray(arg.T), seg)
        calls += 1
        bad = live & ~np.isfinite(value).all(axis=0)
        k_st[rows, stage] = value.T
        at_s = np.flatnonzero(live & ~bad & (stage == s))
        y_new[at_s] = arg[at_s]
        stage = np.where(stage < s, stage + 1, stage)
        if bad.any():  # a trial state where the model is undefined: the step was too long
            at_start = np.flatnonzero(bad & (stage == 1))  # at an accepted state (stage 0): no further
            if at_start.size:
                leave(at_start)
            retry = np.flatnonzero(live & bad)
            h[retry] = h_used[retry] * MIN_FACTOR
            rejected[retry] = True
            undefined[retry] += 1
            stage[retry] = 1  # the first stage, at the accepted state, still holds
            k_st[retry] = np.where(np.isfinite(k_st[retry]), k_st[retry], 0.0)
            if (undefined > MAX_UNDEFINED).any():
                leave(np.flatnonzero(live & (undefined > MAX_UNDEFINED)))
        if at_s.size:
            _finish_steps(at_s, tab, t, y, y_new, k_st, h, h_used, stage, rejected, seg, edges, dense, idx, live,
                          rtol, atol, t_end)
            undefined[at_s[~rejected[at_s]]] = 0
            moved = at_s[stage[at_s] == 0]  # into its next segment
            calls[moved], checked[moved] = 0, 0
        if (live & (calls > max_calls)).any():
            i = np.flatnonzero(live & (calls > max_calls))[0]
            raise SolverError(f"more than {max_calls} evaluations between day {edges[i, seg[i]]:g} and "
                              f"{edges[i, seg[i] + 1]:g} ({method}, member by member): the parameters stall the "
                              "solver")
        if stiffness is not None:
            look = np.flatnonzero(live & (calls - checked >= check_every))
            if look.size:
                checked[look] = calls[look]
                radius = stiffness(restrict(idx[look], False), t[look], np.ascontiguousarray(y[look].T), seg[look])
                cost = s * radius * (edges[look, seg[look] + 1] - t[look]) / stability
                stiff = look[cost > stiff_calls]
                if stiff.size:
                    leave(stiff)
    dense.flush()
    if not left:
        empty = np.empty(0, dtype=int)
        return Left(empty, empty, np.empty(0), np.empty((n_states, 0)))
    return Left(*(np.concatenate([part[i] for part in left], axis=-1) for i in range(4)))


def _finish_steps(done: np.ndarray, tab: _Tableau, t: np.ndarray, y: np.ndarray, y_new: np.ndarray,
                  k_st: np.ndarray, h: np.ndarray, h_used: np.ndarray, stage: np.ndarray, rejected: np.ndarray,
                  seg: np.ndarray, edges: np.ndarray, dense: _Dense, idx: np.ndarray, live: np.ndarray, rtol: float,
                  atol: np.ndarray, t_end: float) -> None:
    """Test the steps of the members ``done`` (rows; every stage evaluated): accept or shrink, in place."""
    s = tab.s
    ks = k_st[done]  # (d, s + 1, N_STATES)
    hd = h_used[done]
    yo, yn = y[done], y_new[done]
    scale = atol + np.maximum(np.abs(yo), np.abs(yn)) * rtol
    norm = _rms(np.einsum("k,mki->mi", tab.e, ks) * hd[:, None] / scale)
    ok = norm < 1.0
    with np.errstate(divide="ignore"):
        factor = np.where(norm == 0.0, MAX_FACTOR, SAFETY * norm ** tab.exponent)
    # rejected: shrink and try again from stage 1 (the first stage, at the old state, still holds)
    no = done[~ok]
    if no.size:
        h[no] = hd[~ok] * np.maximum(MIN_FACTOR, factor[~ok])
        rejected[no] = True
        stage[no] = 1
        tiny = h[no] < 10 * np.abs(np.nextafter(t[no], np.inf) - t[no])
        if tiny.any():
            i = no[np.flatnonzero(tiny)[0]]
            raise SolverError(f"solver failed between day {edges[i, seg[i]]:g} and {edges[i, seg[i] + 1]:g}: "
                              "Required step size is less than spacing between numbers.")
    yes = done[ok]
    if not yes.size:
        return
    grow = np.minimum(MAX_FACTOR, factor[ok])
    grow = np.where(rejected[yes], np.minimum(1.0, grow), grow)
    hy = hd[ok]
    b = edges[yes, seg[yes] + 1]
    t_old = t[yes]
    t_new = t_old + hy
    ended = t_new >= b - 1e-12 * np.maximum(1.0, np.abs(b))  # the step was cut to the segment's end
    t_new = np.where(ended, b, t_new)
    # the next step: as proposed; after a step cut short at the segment's end, at least the step it was cut from
    h[yes] = np.where(ended, np.maximum(h[yes], hy * grow), hy * grow)
    rejected[yes] = False
    dense.add(idx[yes], t_old, t_new, hy, yo[ok], ks[ok])
    t[yes] = t_new
    y[yes] = yn[ok]
    k_st[yes, 0] = ks[ok, s]
    stage[yes] = 1
    finished = yes[ended & (b >= t_end)]
    live[finished] = False
    moved = yes[ended & (b < t_end)]
    seg[moved] += 1
    stage[moved] = 0  # the first stage again, with the next segment's levers


class _Dense:
    """The output points the members' accepted steps cover, from the pair's dense output.

    Steps are kept (their start, length, state and interpolant) and written to ``out`` in
    batches of about :data:`DENSE_BATCH` points, ordered by member and day, so that the writes
    cost a few array operations per batch rather than per evaluation."""

    def __init__(self, tab: _Tableau, grid: np.ndarray, out: np.ndarray, non_finite: str) -> None:
        self.p, self.grid, self.out, self.non_finite = tab.p, grid, out, non_finite
        self.parts: list[tuple[np.ndarray, ...]] = []
        self.points = 0

    def add(self, members: np.ndarray, t_old: np.ndarray, t_new: np.ndarray, h: np.ndarray, y_old: np.ndarray,
            ks: np.ndarray) -> None:
        """Keep the steps of ``members`` (positions in the batch) from ``t_old`` to ``t_new``;
        ``y_old`` (m, N_STATES), ``ks`` (m, stages, N_STATES)."""
        first = np.searchsorted(self.grid, t_old, side="right")
        last = np.searchsorted(self.grid, t_new, side="right")  # points in (t_old, t_new]
        cover = np.flatnonzero(last > first)
        if not cover.size:
            return
        q = np.einsum("ko,mki->moi", self.p, ks[cover])  # (k, order, N_STATES): the interpolant
        self.parts.append((members[cover], first[cover], last[cover], t_old[cover], h[cover], y_old[cover], q))
        self.points += int((last[cover] - first[cover]).sum())
        if self.points >= DENSE_BATCH:
            self.flush()

    def flush(self) -> None:
        """Write every point kept."""
        if not self.parts:
            return
        members, first, last, t_old, h, y_old, q = (np.concatenate(part) for part in zip(*self.parts))
        self.parts, self.points = [], 0
        count = last - first
        rows, points, values = [], [], []
        for c in np.unique(count).tolist():  # the steps covering c points each, as one product
            sel = np.flatnonzero(count == c)
            point = first[sel, None] + np.arange(c)  # (k, c)
            x = (self.grid[point] - t_old[sel, None]) / h[sel, None]
            powers = np.cumprod(np.repeat(x[:, :, None], q.shape[1], axis=2), axis=2) * h[sel, None, None]
            values.append((y_old[sel, None, :] + np.matmul(powers, q[sel])).reshape(-1, y_old.shape[1]))
            rows.append(np.repeat(members[sel], c))
            points.append(point.ravel())
        member, point, value = np.concatenate(rows), np.concatenate(points), np.concatenate(values)
        if not np.isfinite(value).all():
            raise SolverError(self.non_finite)
        order = np.lexsort((point, member))  # by member, then day: writes close together
        self.out[:, member[order], point[order]] = value[order].T
