"""What a compiled engine would reach: the model's right-hand side compiled from its own source
(``core/jit.py``) under a compiled per-member RK45, against today's NumPy engine (issue 13).

A probe, not the engine: it integrates each member of a chunk from 0 to the horizon with SciPy's
RK45 pair, step control and first-step rule (as ``core/stepper.py`` does), restarting at the
member's own breakpoints with its step carried over, but writes no output grid and has none of
the engine's fallbacks (a stiff member, an undefined state). It prints, for one chunk in this
process on one core:

- the compiled right-hand side alone, per member-evaluation, against NumPy's;
- the whole integration of the chunk, compiled and by today's engine (``core/solve.integrate``,
  outcomes and output grid included), in members per second;
- the evaluations a member needed, either way, and the two engines' end states' worst difference
  (relative to each stock's scale), which should be of the order of the tolerance.

Run: ``.venv/bin/python benchmarks/compiled_stepper_probe.py [--scenario history_2022_2025]
[--days 1061] [--n 2000]``. The first call compiles (about 10 to 20 s, printed apart).
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np
from scipy.integrate import RK45

import sanctions_model as sm
from sanctions_model.core import jit, model
from sanctions_model.core.model import STATE_SCALE
from sanctions_model.core.schedules import Schedule, at_time, compiled, member_edges
from sanctions_model.core.solve import as_batch, integrate
from sanctions_model.runs.designs import Design, overlay

RTOL, ATOL_FACTOR = 1e-5, 1e-8  # the sweeps' policy (runs/evaluate.POLICY)
A = np.zeros((7, 6))
A[:6, :6] = np.pad(np.asarray(RK45.A), ((0, 0), (0, 6 - np.asarray(RK45.A).shape[1])))
A[6, :] = RK45.B
C = np.append(np.asarray(RK45.C, dtype=float), 1.0)
E = np.asarray(RK45.E, dtype=float)


@numba.njit(error_model="numpy")
def _set_schedules(values: np.ndarray, i: int, k: int, t: float, a: float, fields: np.ndarray,
                   rate_fields: np.ndarray, v0: np.ndarray, r: np.ndarray) -> None:
    for s in range(fields.size):
        values[i, fields[s]] = v0[i, k, s] + r[i, k, s] * (t - a)
        values[i, rate_fields[s]] = r[i, k, s]


@numba.njit(error_model="numpy")
def _rms(x: np.ndarray) -> float:
    return np.sqrt(np.sum(x * x) / x.size)


@numba.njit(error_model="numpy")
def integrate_members(y0: np.ndarray, records: np.ndarray, values: np.ndarray, ref: np.ndarray, edges: np.ndarray,
                      fields: np.ndarray, rate_fields: np.ndarray, v0: np.ndarray, r: np.ndarray, atol: np.ndarray,
                      rtol: float, a_tab: np.ndarray, c: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each member from its first edge to its last, on its own: the end states and evaluations a member."""
    n_states, n = y0.shape
    out = np.empty_like(y0)
    calls = np.zeros(n, dtype=np.int64)
    k_st = np.empty((7, n_states))
    for i in range(n):
        y = y0[:, i].copy()
        t = edges[i, 0]
        h = -1.0
        for k in range(edges.shape[1] - 1):
            a, b = edges[i, k], edges[i, k + 1]
            if not np.isfinite(b):
                break
            _set_schedules(values, i, k, t, a, fields, rate_fields, v0, r)
            f = model.derivatives(t, y, records[i], ref[i])
            calls[i] += 1
            if h < 0:  # SciPy's first step (select_initial_step)
                scale = atol + np.abs(y) * rtol
                d0, d1 = _rms(y / scale), _rms(f / scale)
                h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
                h0 = min(h0, b - a)
                _set_schedules(values, i, k, t + h0, a, fields, rate_fields, v0, r)
                f1 = model.derivatives(t + h0, y + h0 * f, records[i], ref[i])
                calls[i] += 1
                d2 = _rms((f1 - f) / scale) / h0
                h1 = max(1e-6, h0 * 1e-3) if d1 <= 1e-15 and d2 <= 1e-15 else (0.01 / max(d1, d2)) ** 0.2
                h = min(min(100 * h0, h1), b - a)
            rejected = False
            while t < b:
                hu = min(h, b - t)
                k_st[0] = f
                for st in range(1, 7):
                    arg = y.copy()
                    for j in range(st):
                        if a_tab[st, j] != 0.0:
                            arg += (hu * a_tab[st, j]) * k_st[j]
                    tt = t + c[st] * hu
                    _set_schedules(values, i, k, tt, a, fields, rate_fields, v0, r)
                    k_st[st] = model.derivatives(tt, arg, records[i], ref[i])
                    calls[i] += 1
                    if st == 6:
                        y_new = arg
                err = np.zeros(n_states)
                for j in range(7):
                    err += e[j] * k_st[j]
                scale = atol + np.maximum(np.abs(y), np.abs(y_new)) * rtol
                norm = _rms(err * hu / scale)
                factor = 10.0 if norm == 0.0 else 0.9 * norm ** -0.2
                if norm < 1.0:
                    grow = min(10.0, factor)
                    if rejected:
                        grow = min(1.0, grow)
                    t_new = t + hu
                    ended = t_new >= b - 1e-12 * max(1.0, abs(b))
                    h = max(h, hu * grow) if ended else hu * grow
                    t = b if ended else t_new
                    y = y_new
                    f = k_st[6].copy()
                    rejected = False
                else:
                    h = hu * max(0.2, factor)
                    rejected = True
        out[:, i] = y
    return out, calls


def prepare(scenario: str, days: float, n: int) -> tuple:
    params = sm.load_params(scenario)
    design = Design.build("lhs", params, n, seed=1, chunk_size=n)
    values = overlay(params.values(), design.names, design.chunk(0))
    p = as_batch(values)
    y0, ref = model.initial_state(compiled(p))
    edges = member_edges(p, days, n)
    schedule = Schedule(p)
    records = jit.member_records(at_time(0.0, compiled(p)), n)
    names = records.dtype.names
    fields = np.array([names.index(v) for v, _ in schedule.keys])
    rate_fields = np.array([names.index(rk) for _, rk in schedule.keys])
    k_count = edges.shape[1]
    v0, r = np.zeros((n, k_count, len(schedule.keys))), np.zeros((n, k_count, len(schedule.keys)))
    for k in range(k_count):
        start = np.where(np.isfinite(edges[:, k]), edges[:, k], 0.0)
        value, rate = schedule.full.at(start)
        v0[:, k], r[:, k] = value.T, rate.T
    flat = records.view(np.float64).reshape(n, len(names))
    atol = ATOL_FACTOR * STATE_SCALE
    return (values, np.ascontiguousarray(y0), records, flat, jit.reference_records(ref, n), edges, fields,
            rate_fields, v0, r, atol)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="history_2022_2025")
    parser.add_argument("--days", type=float, default=1061.0)
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    print(f"sanctions-model {sm.__version__}; Numba {numba.__version__}; {args.scenario}, {args.days:g} days, "
          f"{args.n:,} members, one process")
    values, y0, records, flat, ref, edges, fields, rate_fields, v0, r, atol = prepare(args.scenario, args.days, args.n)

    small = slice(0, 2)
    t0 = time.perf_counter()
    integrate_members(y0[:, small].copy(), records[small], flat[small], ref[small], edges[small], fields,
                      rate_fields, v0[small], r[small], atol, RTOL, A, C, E)
    print(f"compiling: {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    end, calls = integrate_members(y0, records, flat, ref, edges, fields, rate_fields, v0, r, atol, RTOL, A, C, E)
    compiled_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    today = integrate(values, args.days, rtol=RTOL, step=2.0)
    numpy_s = time.perf_counter() - t0

    n = args.n
    per_eval = compiled_s / calls.sum()
    print(f"compiled engine: {compiled_s:.2f} s, {n / compiled_s:,.0f} members/s, {calls.mean():,.0f} evaluations "
          f"a member, {1e6 * per_eval:.2f} us a member-evaluation (output grid and outcomes not included)")
    print(f"today's engine (integrate, member stepping, output every 2 days): {numpy_s:.2f} s, "
          f"{n / numpy_s:,.0f} members/s ({numpy_s / compiled_s:.1f} times the compiled probe's time)")
    span = np.maximum(np.abs(today.y[:, :, -1]).max(axis=1), STATE_SCALE)
    diff = np.abs(end - today.y[:, :, -1]).max(axis=1) / span
    print(f"end states, compiled against today's: worst {diff.max():.1e} of a stock's scale "
          f"({model.STATE_NAMES[int(np.argmax(diff))]}); non-finite: {int((~np.isfinite(end)).sum())}")


if __name__ == "__main__":
    main()
