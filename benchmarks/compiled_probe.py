"""What compiling the model's arithmetic would gain on this machine (issue 13): a probe, not a port.

The history's throughput target needs each right-hand-side evaluation to cost less. This
measures, on batches of 2,000 members, two of the model's functions as NumPy runs them and
as Numba compiles them:

1. ``model.fiscal_flows`` (the budget: divisions, square roots, five ``softplus``), compiled
   by Numba from the model's own source (its helpers compiled the same way), and written once
   more per member as one loop (the form a compiler does best with), in the same arithmetic
   and with ``hypot`` and the squares multiplied out;
2. ``model.inflation_indicated`` (a ``tanh``), compiled from its own source.

Each compiled result is checked against the model's. Numba is not a dependency of the
project: install it into the venv first (``.venv/bin/pip install numba``).

Run: ``.venv/bin/python benchmarks/compiled_probe.py``.
"""

from __future__ import annotations

import inspect
import math
import sys
import textwrap
import time
import timeit

import numpy as np

import sanctions_model as sm
from sanctions_model.core import model, smooth

try:
    import numba
    from numba.typed import Dict
except ImportError:
    raise SystemExit("this probe needs Numba, which the project does not depend on: "
                     ".venv/bin/pip install numba") from None

N = 2000
CONSTANTS = {name: getattr(model, name) for name in ("DAYS_PER_YEAR", "FISCAL_SMOOTHING", "RESERVES_DRAIN_DAYS")}


def from_source(fn, **helpers):
    """``fn`` compiled by Numba from its own source, calling ``helpers`` (compiled too)."""
    namespace = {"np": np, "Params": object, "Num": object, **CONSTANTS, **helpers}
    exec(compile(textwrap.dedent(inspect.getsource(fn)), inspect.getsourcefile(fn), "exec"), namespace)
    return numba.njit(namespace[fn.__name__])


def per_call(fn, *args) -> float:
    return timeit.timeit(lambda: fn(*args), number=2000) / 2000


def fiscal_loop(exact: bool):
    days, smoothing, drain = CONSTANTS["DAYS_PER_YEAR"], CONSTANTS["FISCAL_SMOOTHING"], CONSTANTS["RESERVES_DRAIN_DAYS"]

    @numba.njit
    def sp(x, scale):
        c = 4.0 * scale * scale
        a = abs(x)
        return (0.5 * c) / (math.sqrt(a * a + c) + a) + max(x, 0.0)

    @numba.njit
    def loop(q, oil_rev, price, capacity, reserves, war_debt, key_rate, key_rate_rise, consolidation, out):
        for i in range(oil_rev.size):
            non_oil = q[0, i] / days * capacity[i]
            spending = (q[1, i] + q[2, i]) / days + key_rate[i] / 100.0 / days * war_debt[i]
            balance = oil_rev[i] + non_oil - spending + consolidation[i] / days
            base = q[3, i] * oil_rev[i] * q[4, i] / price[i] + (1.0 - q[3, i]) * q[5, i] / days
            rule = q[6, i] * (oil_rev[i] - base)
            deposit, shortfall = sp(rule, smoothing), sp(-rule, smoothing)
            sales = q[7, i] / days
            absorption = q[9, i] * q[10, i] / days * q[8, i] / (q[8, i] + sp(key_rate_rise[i], 0.05))
            wanted = shortfall + sales + sp(-balance + deposit - shortfall - sales - absorption, smoothing)
            drained = drain * (wanted + q[11, i] / days)
            if exact:
                gate = math.hypot(q[12, i], drained)
                paid = reserves[i] * abs(reserves[i]) / (reserves[i] ** 2 + gate ** 2)
            else:
                paid = reserves[i] * abs(reserves[i]) / (reserves[i] * reserves[i] + q[12, i] * q[12, i]
                                                         + drained * drained)
            out[0, i] = -balance + deposit - wanted * paid
            out[1, i] = wanted * paid
    return loop


LOOP_KEYS = ["fiscal.non_oil_revenue", "fiscal.defence_spending", "fiscal.civilian_spending",
             "fiscal.rule_uses_base_price", "fiscal.rule_base_price", "fiscal.rule_base_revenue", "fiscal.rule_active",
             "fiscal.fund_sales", "fiscal.ofz_rate_rise_half", "fiscal.ofz_market_open", "fiscal.ofz_absorption",
             "fiscal.fund_investment", "fiscal.reserves_gate"]


def main() -> None:
    print(f"sanctions-model {sm.__version__}; NumPy {np.__version__}; Numba {numba.__version__}; {N:,} members")
    rng = np.random.default_rng(1)
    central = sm.load_params("status_quo").values()
    p = {k: float(v) * rng.uniform(0.9, 1.1, N) for k, v in central.items() if np.ndim(v) == 0}
    typed = Dict.empty(key_type=numba.types.unicode_type, value_type=numba.types.float64[::1])
    for k, v in p.items():
        typed[k] = v
    state = [rng.uniform(0.1, 0.3, N), rng.uniform(50, 70, N), np.ones(N), rng.uniform(10, 50, N),
             rng.uniform(0, 100, N), rng.uniform(15, 21, N), rng.uniform(-1, 1, N), rng.uniform(0, 10, N)]

    softplus = numba.njit(smooth.softplus)
    start = time.perf_counter()
    fiscal = from_source(model.fiscal_flows, softplus=softplus,
                         base_oil_revenue=from_source(model.base_oil_revenue),
                         ofz_absorption=from_source(model.ofz_absorption, softplus=softplus))
    expected = model.fiscal_flows(p, *state)
    got = fiscal(typed, *state)
    compile_s = time.perf_counter() - start
    same = all(np.array_equal(got[k], expected[k]) for k in expected)
    t_numpy, t_numba = per_call(model.fiscal_flows, p, *state), per_call(fiscal, typed, *state)
    print(f"fiscal_flows, NumPy as written:            {1e6 * t_numpy:6.0f} us")
    print(f"fiscal_flows, Numba from the same source:  {1e6 * t_numba:6.0f} us  x{t_numpy / t_numba:.1f}  "
          f"(compiled in {compile_s:.1f} s; {'bit-identical' if same else 'NOT the same numbers'})")
    q = np.stack([p[k] for k in LOOP_KEYS])
    out = np.empty((2, N))
    for exact in (True, False):
        loop = fiscal_loop(exact)
        loop(q, *state, out)
        worst = max(np.max(np.abs(out[k] - expected[name]) / np.maximum(np.abs(expected[name]), 1e-300))
                    for k, name in enumerate(("borrowing", "withdrawal")))
        t_loop = per_call(loop, q, *state, out)
        label = "the same arithmetic" if exact else "hypot and squares multiplied out"
        print(f"fiscal_flows, Numba, one loop, {label:33s} {1e6 * t_loop:6.0f} us  x{t_numpy / t_loop:.1f}  "
              f"(worst relative difference {worst:.1e})")

    saturate = numba.njit(smooth.saturate)
    inflation = from_source(model.inflation_indicated, saturate=saturate)
    args = [rng.uniform(0, 5, N), rng.uniform(0, 5, N), rng.uniform(0, 0.3, N), rng.uniform(-5, 10, N)]
    same = np.array_equal(inflation(typed, *args), model.inflation_indicated(p, *args))
    t_numpy, t_numba = per_call(model.inflation_indicated, p, *args), per_call(inflation, typed, *args)
    print(f"inflation_indicated, NumPy {1e6 * t_numpy:.0f} us, Numba from the same source {1e6 * t_numba:.0f} us  "
          f"x{t_numpy / t_numba:.1f} ({'bit-identical' if same else 'NOT the same numbers'})")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
