"""The model's right-hand side compiled by Numba, one member at a time, from the same source, and the
loop that steps each member with it (``core/stepper.py`` prepares its inputs and reads its results).

:mod:`sanctions_model.core.model` writes every equation once, as NumPy on arrays over a
batch. The same functions, given one member's parameters as a NumPy record (a structured
scalar, read ``p["name"]`` as the dict is) and its state as a vector of :data:`~model.N_STATES`,
compute that member's numbers as scalars; :func:`register` lets Numba compile them so
(``numba.extending.register_jitable``). Nothing is written twice: the only compiled-only code
here reads the schedules, whose values at a member's time are written into its record before
each evaluation (the ``LEVER.now`` and ``LEVER.rate`` fields and each driver's value and
``NAME.slope``, as :func:`~sanctions_model.core.schedules.at_time` fills them), and the
Runge-Kutta loop (:func:`step_each`).

What the model's source must keep to, so that it compiles (``tests/test_jit.py`` checks the
compiled rates against NumPy's for sampled members of the history and of projections):
parameters read with literal keys (``p["macro.rub_per_usd"]``, not a key built at run time);
stocks read as ``y[IDX["name"]]``; functions on the right-hand side's path return numbers,
tuples or ``NamedTuple``s (not dicts); no ``np.clip`` (``np.minimum(np.maximum(...))``), no
``np.where`` (:func:`~sanctions_model.core.smooth.where`) and no lists.

Compiling takes about 17 s, so the compiled code is kept on disk, under
``$SANCTIONS_MODEL_CACHE_DIR`` (default ``~/.cache/sanctions-model``) in a directory named by a
digest of every source in ``core/`` (:mod:`~sanctions_model.core.jit_cache`): a worker process loads
it in a fraction of a second, and any change to ``core/`` compiles afresh (Numba's own cache looks at
one file only). Importing this module imports Numba; nothing else in the package does until a member
is stepped.
"""

from __future__ import annotations

import functools
import inspect
import operator
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType

import numba
import numpy as np
from numba import types
from numba.core import config as numba_config
from numba.core.imputils import lower_constant
from numba.extending import models, overload, register_jitable, register_model, typeof_impl

from . import bargaining, jit_cache, model, schedules, smooth
from .model import IDX, N_STATES, StockIndex
from .schedules import DRIVERS, LEVERS
from .stepper import LEFT, NON_FINITE_OUTPUT, STALLED, TINY_STEP

#: The modules whose functions the compiled right-hand side calls.
MODULES: tuple[ModuleType, ...] = (smooth, bargaining, model)
#: A parameter read with a literal key in the model's source.
_READ = re.compile(r"""\bp\[\s*["']([\w.]+)["']\s*\]""")
#: The reference values' fields (``model.REFERENCES``), for :func:`reference_records`.
REFERENCE_DTYPE = np.dtype([(name, float) for name in model.REFERENCES])


class _StockIndexType(types.Opaque):
    """:data:`model.IDX` as Numba sees it: a constant whose items, read with literal keys, are constants."""

    def __init__(self) -> None:
        super().__init__(name="StockIndex")


_STOCK_INDEX = _StockIndexType()
_registered = False


def register() -> None:
    """Let Numba compile the model's functions (idempotent)."""
    global _registered
    if _registered:
        return
    typeof_impl.register(StockIndex)(lambda value, context: _STOCK_INDEX)
    register_model(_StockIndexType)(models.OpaqueModel)
    lower_constant(_StockIndexType)(lambda context, builder, ty, value: context.get_dummy_value())

    @overload(operator.getitem, prefer_literal=True)
    def _stock_row(index, name):  # type: ignore[no-untyped-def]
        if isinstance(index, _StockIndexType) and isinstance(name, types.StringLiteral):
            row = IDX[name.literal_value]
            return lambda index, name: row
        return None

    @overload(smooth.where)
    def _where(condition, x, y):  # type: ignore[no-untyped-def]
        if isinstance(condition, types.Boolean):
            return lambda condition, x, y: x if condition else y
        return None

    _schedule_overloads()
    for module in MODULES:
        for _, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and fn is not smooth.where:
                register_jitable(error_model="numpy")(fn)
    _registered = True


def _schedule_overloads() -> None:
    """The schedules as a compiled member reads them: from its record's fields (see the module's doc)."""

    @overload(schedules.at_time)
    def _at_time(t, p):  # type: ignore[no-untyped-def]
        if isinstance(p, types.Record):
            return lambda t, p: p
        return None

    for read, field in ((schedules.lever_value, "now"), (schedules.lever_rate, "rate")):
        _lever_field(read, field)

    @overload(schedules.driver_rate, prefer_literal=True)
    def _driver_rate(p, name):  # type: ignore[no-untyped-def]
        if isinstance(p, types.Record) and isinstance(name, types.StringLiteral):
            key = f"{name.literal_value}.slope"
            return lambda p, name: p[key]
        return None


def _lever_field(read: Callable[..., object], field: str) -> None:
    """``read(t, p, lever)`` (:func:`~schedules.lever_value` or :func:`~schedules.lever_rate`) for a compiled
    member: its record's ``LEVER.field``."""

    @overload(read, prefer_literal=True)
    def _read(t, p, lever):  # type: ignore[no-untyped-def]
        if isinstance(p, types.Record) and isinstance(lever, types.StringLiteral):
            key = f"{lever.literal_value}.{field}"
            return lambda t, p, lever: p[key]
        return None


def schedule_fields() -> tuple[str, ...]:
    """The fields a member's record carries for its schedules' values at its time: each lever's
    ``.now`` and ``.rate``, and each driver's ``.slope`` (a driver's value is its own field)."""
    return tuple([f"{lever}.{what}" for lever in LEVERS for what in ("now", "rate")]
                 + [f"{name}.slope" for name in DRIVERS])


@functools.cache
def model_fields() -> tuple[str, ...]:
    """The parameters the compiled model reads (every literal ``p["NAME"]`` in the sources of
    :data:`MODULES`), sorted: the same record for every batch, so that the code compiled for one
    serves all (Numba compiles again for another record, and a cache written by two processes at
    once for two records could mix them)."""
    names = set()
    for module in MODULES:
        names.update(_READ.findall(Path(str(module.__file__)).read_text(encoding="utf-8")))
    return tuple(sorted(names - set(schedule_fields())))


@functools.cache
def member_dtype() -> np.dtype:
    """The record of one member: :func:`model_fields` and :func:`schedule_fields`, every one a float."""
    return np.dtype([(name, float) for name in (*model_fields(), *schedule_fields())])


def member_records(p: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """A batch's parameters as records (shape ``(n,)``): ``p`` as :func:`~schedules.at_time` returns
    it (values at one time for every member), or as the parameters are (the schedule fields, which
    the stepper writes at each member's time, then at 0).

    Raises
    ------
    KeyError
        If ``p`` lacks a parameter the model reads.
    """
    dtype = member_dtype()
    out = np.zeros(n, dtype)
    missing = [name for name in model_fields() if name not in p]
    if missing:
        raise KeyError(f"the parameters lack {', '.join(missing)}, which the model reads")
    for name in dtype.names or ():
        if name in p:
            out[name] = np.broadcast_to(np.asarray(p[name], dtype=float), (n,))
    return out


def reference_records(ref: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """The reference values (:data:`model.REFERENCES`) as records (shape ``(n,)``)."""
    out = np.zeros(n, REFERENCE_DTYPE)
    for name in REFERENCE_DTYPE.names or ():
        out[name] = np.broadcast_to(np.asarray(ref[name], dtype=float), (n,))
    return out


register()


_previous = numba_config.CACHE_DIR  # type: ignore[attr-defined]
numba_config.CACHE_DIR = jit_cache.directory()  # type: ignore[attr-defined]  # read as each function below is made
try:
    @numba.njit(error_model="numpy", cache=True)
    def member_rates(t: np.ndarray, y: np.ndarray, p: np.ndarray, ref: np.ndarray) -> np.ndarray:
        """``dy/dt`` of each member (``y``: ``(N_STATES, n)``) at its own time ``t`` (n,), one member at a
        time through the compiled :func:`model.derivatives`; ``p`` and ``ref`` are records (n,)."""
        out = np.empty_like(y)
        for i in range(y.shape[1]):
            out[:, i] = model.derivatives(t[i], np.ascontiguousarray(y[:, i]), p[i], ref[i])
        return out

    @numba.njit(error_model="numpy", cache=True)
    def _rates_into(out: np.ndarray, t: float, y: np.ndarray, record: np.ndarray, values: np.ndarray,
                    ref: np.ndarray, fields: np.ndarray, v0: np.ndarray, rate: np.ndarray, a: float,
                    t_hi: float) -> None:
        """One member's rates at ``t`` (clipped to ``t_hi``: its segment's side of the segment's end) written
        into ``out``, its schedules set first in its record (``values``, the record's numbers) from their
        values ``v0`` at the segment's start ``a`` and their rates."""
        tt = min(t, t_hi)
        for s in range(fields.size):
            values[fields[s]] = v0[s] + rate[s] * (tt - a)
        model.derivatives_into(out, tt, y, record, ref)  # type: ignore[arg-type]  # records, read as dicts are

    @numba.njit(error_model="numpy", cache=True)
    def _rates(t: float, y: np.ndarray, record: np.ndarray, values: np.ndarray, ref: np.ndarray,
               fields: np.ndarray, v0: np.ndarray, rate: np.ndarray, a: float, t_hi: float) -> np.ndarray:
        """:func:`_rates_into` as a new array."""
        out = np.empty_like(y)
        _rates_into(out, t, y, record, values, ref, fields, v0, rate, a, t_hi)
        return out

    @numba.njit(error_model="numpy", cache=True)
    def segment_starts(base: np.ndarray, change: np.ndarray, start: np.ndarray, phase: np.ndarray,
                       edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every schedule's value at the start of each member's every segment and its rate there, each
        ``(n, K, S)``, from the schedules as ``schedules.Schedule`` compiles them (``base`` ``(S, n)``; the
        ramps' ``change``, ``start`` and ``phase`` ``(R, S, n)``, padding ramps starting at ``inf``) and each
        member's segment ends ``edges`` ``(n, K)``: the ramps added in their order, with the operations of
        ``schedules._Ramps.at``, so the numbers are the same to the last bit (but for the sign of a zero:
        NumPy adds the padding ramps' ``+0.0``, which turns a ``-0.0`` into ``+0.0``)."""
        n, k_count = edges.shape
        depth, count = change.shape[0], change.shape[1]
        values = np.zeros((n, k_count, count))
        rates = np.zeros((n, k_count, count))
        for i in range(n):
            for k in range(k_count - 1):
                if not np.isfinite(edges[i, k + 1]):
                    break
                a = edges[i, k]
                for s in range(count):
                    value, rate = base[s, i], 0.0
                    for r in range(depth):
                        t0 = start[r, s, i]
                        if t0 == np.inf:  # padding: the schedule's ramps are over
                            break
                        width, elapsed = phase[r, s, i], a - t0
                        if width > 0:
                            fraction = min(max(elapsed / width, 0.0), 1.0)
                            rate = rate + (change[r, s, i] / width if t0 <= a < t0 + width else 0.0)
                        else:
                            fraction = 1.0 if elapsed >= 0 else 0.0
                            rate = rate + 0.0
                        value = value + change[r, s, i] * fraction
                    values[i, k, s], rates[i, k, s] = value, rate
        return values, rates

    @numba.njit(error_model="numpy", cache=True)
    def _finite(x: np.ndarray) -> bool:
        for value in x:
            if not np.isfinite(value):
                return False
        return True

    @numba.njit(error_model="numpy", cache=True)
    def _rms(x: np.ndarray) -> float:
        return np.sqrt(np.sum(x * x) / x.size)

    @numba.njit(error_model="numpy", cache=True)
    def _radius(t: float, y: np.ndarray, f0: np.ndarray, record: np.ndarray, values: np.ndarray, ref: np.ndarray,
                fields: np.ndarray, v0: np.ndarray, rate: np.ndarray, a: float, t_hi: float,
                scale: np.ndarray) -> float:
        """Largest ``|eigenvalue|`` [1/day] of the member's Jacobian at ``(t, y)`` by forward differences, as
        ``solve.spectral_radius``; ``inf`` where it is not finite."""
        n_states = y.size
        jac = np.empty((n_states, n_states))
        for j in range(n_states):
            step = np.sqrt(np.finfo(np.float64).eps) * max(abs(y[j]), scale[j])
            moved = y.copy()
            moved[j] += step
            jac[:, j] = (_rates(t, moved, record, values, ref, fields, v0, rate, a, t_hi) - f0) / step
        if not np.isfinite(jac).all():
            return np.inf
        return np.abs(np.linalg.eigvals(jac.astype(np.complex128))).max()

    @numba.njit(error_model="numpy", cache=True)
    def write_points(out: np.ndarray, i: int, grid: np.ndarray, t_old: float, t_new: float, h: float,
                     y_old: np.ndarray, p_tab: np.ndarray, k_st: np.ndarray, q: np.ndarray, value: np.ndarray) -> bool:
        """Write member ``i``'s output points in ``(t_old, t_new]`` from a step's dense output
        (``y_old + sum_o q[o] h x^(o + 1)``, ``x = (t - t_old) / h``, ``q = p_tab.T @ k_st``: the pair's
        interpolant, ``(order, N_STATES)``, worked out only for a step that covers a point); False, and
        nothing more written, at a point that is not finite. ``q`` (``(order, N_STATES)``) and ``value``
        (``(N_STATES,)``) are scratch, so that nothing is allocated for each of a run's hundreds of steps
        and points."""
        first = np.searchsorted(grid, t_old, side="right")
        last = np.searchsorted(grid, t_new, side="right")
        if first == last:
            return True
        n_states = y_old.size
        for o in range(q.shape[0]):
            for m in range(n_states):
                total = 0.0
                for j in range(k_st.shape[0]):
                    total += p_tab[j, o] * k_st[j, m]
                q[o, m] = total
        for g in range(first, last):
            x = (grid[g] - t_old) / h
            power = h
            for m in range(n_states):
                value[m] = y_old[m]
            for o in range(q.shape[0]):
                power *= x
                for m in range(n_states):
                    value[m] += power * q[o, m]
            for m in range(n_states):
                if not np.isfinite(value[m]):
                    return False
            for m in range(n_states):
                out[m, i, g] = value[m]
        return True

    @numba.njit(error_model="numpy", cache=True)
    def step_each(y0: np.ndarray, records: np.ndarray, values: np.ndarray, ref: np.ndarray, edges: np.ndarray,
                  fields: np.ndarray, rate_fields: np.ndarray, v0: np.ndarray, rate: np.ndarray, grid: np.ndarray,
                  out: np.ndarray, w: np.ndarray, c: np.ndarray, e: np.ndarray, p_tab: np.ndarray, exponent: float,
                  order: int, rtol: float, atol: np.ndarray, scale: np.ndarray, check_every: int, stiff_calls: float,
                  stability: float, max_calls: int, safety: float, min_factor: float, max_factor: float,
                  max_undefined: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                               np.ndarray]:
        """Every member on its own, from its first edge to its last: ``core/stepper.py`` says how.

        Returns each member's status (``core/stepper.py``'s codes: FINISHED, LEFT the explicit method,
        STALLED past ``max_calls`` evaluations in a segment, TINY_STEP below the spacing of floating-point
        times, NON_FINITE_OUTPUT on the output grid; the run stops at the first of the last three), its
        segment, time and state where it left or failed, and the evaluations it cost.
        """
        n_states, n = y0.shape
        s = w.shape[1]
        status = np.zeros(n, dtype=np.int64)
        segment = np.zeros(n, dtype=np.int64)
        t_left = np.zeros(n)
        y_left = np.zeros((n_states, n))
        evaluations = np.zeros(n, dtype=np.int64)
        k_st = np.zeros((s + 1, n_states))
        dense = np.zeros((p_tab.shape[1], n_states))  # write_points' scratch
        point = np.zeros(n_states)
        t_end = edges[0, 0]
        for k in range(edges.shape[1]):
            if np.isfinite(edges[0, k]):
                t_end = edges[0, k]
        for i in range(n):
            record, row, member_ref = records[i], values[i], ref[i]
            y = y0[:, i].copy()
            y_new = np.empty(n_states)  # each step's new state, and its stages' trial states (no allocation a stage)
            trial = np.empty(n_states)
            seg = 0
            t = edges[i, 0]
            a, b = edges[i, 0], edges[i, 1]
            t_hi = b - 1e-9 * max(b - a, 1.0)
            for q in range(rate_fields.size):
                row[rate_fields[q]] = rate[i, 0, q]
            f = _rates(t, y, record, row, member_ref, fields, v0[i, 0], rate[i, 0], a, t_hi)
            evaluations[i] += 1
            if not np.isfinite(f).all():
                status[i], segment[i], t_left[i], y_left[:, i] = LEFT, seg, t, y
                continue
            # SciPy's first step (select_initial_step)
            sc = atol + np.abs(y) * rtol
            d0, d1 = _rms(y / sc), _rms(f / sc)
            h0 = 1e-6 if (d0 < 1e-5 or d1 < 1e-5) else 0.01 * d0 / d1
            h0 = min(h0, b - a)
            f1 = _rates(t + h0, y + h0 * f, record, row, member_ref, fields, v0[i, 0], rate[i, 0], a, t_hi)
            evaluations[i] += 1
            d2 = _rms((f1 - f) / sc) / h0
            if d1 <= 1e-15 and d2 <= 1e-15:
                h1 = max(1e-6, h0 * 1e-3)
            else:
                big = d1 if np.isnan(d2) else max(d1, d2)
                h1 = (0.01 / (big if big > 0 else 1.0)) ** (1.0 / (order + 1))
            h = min(min(100 * h0, h1), b - a)
            if not np.isfinite(h):
                h = 1e-6
            k_st[:] = 0.0
            k_st[0] = f
            rejected = False
            calls = 0
            checked = 0
            undefined = 0
            while True:
                spacing = abs(np.nextafter(t, np.inf) - t)
                h = max(h, 10 * spacing)
                hu = min(h, b - t)
                bad = False
                for st in range(1, s + 1):
                    arg = y_new if st == s else trial  # the last stage's state is the step's new state
                    for m in range(n_states):
                        arg[m] = y[m]
                    for j in range(st):
                        weight = w[st, j] * hu
                        if weight != 0.0:
                            for m in range(n_states):
                                arg[m] += weight * k_st[j, m]
                    _rates_into(k_st[st], t + c[st] * hu, arg, record, row, member_ref, fields, v0[i, seg],
                                rate[i, seg], a, t_hi)
                    calls += 1
                    evaluations[i] += 1
                    if not _finite(k_st[st]):
                        bad = True
                        break
                if calls > max_calls:
                    status[i], segment[i], t_left[i], y_left[:, i] = STALLED, seg, t, y
                    return status, segment, t_left, y_left, evaluations, np.array([i])
                if bad:  # a trial state where the model is undefined: the step was too long
                    h = hu * min_factor
                    rejected = True
                    undefined += 1
                    if undefined > max_undefined:
                        status[i], segment[i], t_left[i], y_left[:, i] = LEFT, seg, t, y
                        break
                    continue
                total = 0.0  # SciPy's error norm: the rms of the error estimate over each stock's scale
                for m in range(n_states):
                    err = 0.0
                    for j in range(s + 1):
                        err += e[j] * k_st[j, m]
                    ratio = err * hu / (atol[m] + max(abs(y[m]), abs(y_new[m])) * rtol)
                    total += ratio * ratio
                norm = np.sqrt(total / n_states)
                factor = max_factor if norm == 0.0 else safety * norm ** exponent
                if not norm < 1.0:
                    h = hu * max(min_factor, factor)
                    rejected = True
                    if h < 10 * spacing:
                        status[i], segment[i], t_left[i], y_left[:, i] = TINY_STEP, seg, t, y
                        return status, segment, t_left, y_left, evaluations, np.array([i])
                else:
                    undefined = 0
                    grow = min(max_factor, factor)
                    if rejected:
                        grow = min(1.0, grow)
                    t_new = t + hu
                    ended = t_new >= b - 1e-12 * max(1.0, abs(b))
                    if ended:
                        t_new = b
                        h = max(h, hu * grow)
                    else:
                        h = hu * grow
                    rejected = False
                    if not write_points(out, i, grid, t, t_new, hu, y, p_tab, k_st, dense, point):
                        status[i], segment[i], t_left[i], y_left[:, i] = NON_FINITE_OUTPUT, seg, t, y
                        return status, segment, t_left, y_left, evaluations, np.array([i])
                    t = t_new
                    y, y_new = y_new, y  # the new state in place of the old, whose array the next step fills
                    k_st[0] = k_st[s]
                    if ended:
                        if b >= t_end:
                            break
                        seg += 1
                        a, b = edges[i, seg], edges[i, seg + 1]
                        t_hi = b - 1e-9 * max(b - a, 1.0)
                        for q in range(rate_fields.size):
                            row[rate_fields[q]] = rate[i, seg, q]
                        f = _rates(t, y, record, row, member_ref, fields, v0[i, seg], rate[i, seg], a, t_hi)
                        evaluations[i] += 1
                        if not np.isfinite(f).all():
                            status[i], segment[i], t_left[i], y_left[:, i] = LEFT, seg, t, y
                            break
                        k_st[0] = f
                        calls, checked = 1, 0
                if calls - checked >= check_every:  # stiff where it stands?
                    checked = calls
                    f0 = _rates(t, y, record, row, member_ref, fields, v0[i, seg], rate[i, seg], a, t_hi)
                    radius = _radius(t, y, f0, record, row, member_ref, fields, v0[i, seg], rate[i, seg], a, t_hi,
                                     scale)
                    evaluations[i] += n_states + 1
                    if s * radius * (b - t) / stability > stiff_calls:
                        status[i], segment[i], t_left[i], y_left[:, i] = LEFT, seg, t, y
                        break
        return status, segment, t_left, y_left, evaluations, np.array([-1])
finally:
    numba_config.CACHE_DIR = _previous  # type: ignore[attr-defined]


__all__ = ["N_STATES", "member_dtype", "member_rates", "member_records", "reference_records", "register",
           "schedule_fields", "step_each"]
