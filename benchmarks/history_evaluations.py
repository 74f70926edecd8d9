"""Where a history's evaluations come from: the same members with parts of the record taken away.

Integrates N Latin-hypercube members of ``history_2022_2025`` (seed 1) over its 1,061 days, as a
sweep does (``runs/evaluate.POLICY``: rtol 1e-5, the 2-day grid), and prints the mean evaluations
of the right-hand side a member needs, and per simulated day:

1. as recorded;
2. without the recorded drivers' paths (each driver held at its starting value), without the
   levers' further steps, and without either;
3. each recorded driver alone taken away, and each kept as the only recorded one;
4. the rouble's fast stocks (the key rate's defence premium and the pass-through to prices)
   switched off, and slowed;
5. the least a member could cost with one step in each of its segments (RK45: one evaluation to
   start and one to size the first step, then, in each segment, one on its new side and six for
   the step), what no change of step control or tolerance could go below.

A projection of ``status_quo`` over 730 days needs about 0.24 evaluations a simulated day; issue 13's
share target (a history's member-days a second at least 90% of a projection's) asks a history to
come near it. ``docs/sweeps.md`` reads these figures.

Run: ``.venv/bin/python benchmarks/history_evaluations.py [--n 500]`` (about 2 minutes for 500).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping

import numpy as np

import sanctions_model as sm
from sanctions_model.core import solve
from sanctions_model.core.schedules import DRIVERS, LEVERS, member_edges, steps
from sanctions_model.core.stepper import METHODS
from sanctions_model.runs.designs import Design, overlay
from sanctions_model.runs.evaluate import POLICY

HISTORY_DAYS = 1061  # 2022-02-24 to 2025-01-20


def without_steps(values: Mapping[str, np.ndarray], names: Iterable[str]) -> dict[str, np.ndarray]:
    """``values`` without the further steps (``NAME.stepK.*``, :func:`~schedules.steps`) of the schedules ``names``."""
    prefixes = tuple(f"{step}." for name in names for step in steps(values, name))
    return {key: value for key, value in values.items() if not key.startswith(prefixes)}


def evaluations(values: Mapping[str, np.ndarray]) -> float:
    """Mean right-hand-side evaluations a member of ``values`` needs over the history."""
    sol = solve.integrate(values, HISTORY_DAYS, grid=POLICY.grid(HISTORY_DAYS, np.array([])), rtol=POLICY.rtol,
                          method=POLICY.method, stepping=POLICY.stepping)
    assert sol.evaluations is not None
    return float(sol.evaluations.mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500)
    args = ap.parse_args()
    params = sm.load_params("history_2022_2025")
    design = Design.build("lhs", params, args.n, seed=1, chunk_size=args.n)
    base = {k: np.asarray(v, dtype=float) for k, v in overlay(params.values(), design.names, design.chunk(0)).items()}
    recorded = [name for name in DRIVERS if f"{name}.step1.level" in base]

    def show(label: str, values: Mapping[str, np.ndarray]) -> None:
        mean = evaluations(values)
        print(f"{label:66s} {mean:7.0f} {mean / HISTORY_DAYS:6.2f}")

    print(f"sanctions-model {sm.__version__}; {args.n} history members (LHS, seed 1), rtol {POLICY.rtol:g}")
    print(f"{'':66s} {'evals':>7s} {'a day':>6s}")
    show("as recorded", base)
    show("no recorded driver paths", without_steps(base, DRIVERS))
    show("no lever steps", without_steps(base, LEVERS))
    show("neither", without_steps(base, DRIVERS + LEVERS))
    for name in recorded:
        show(f"without {name}", without_steps(base, [name]))
        show(f"  {name} the only recorded driver", without_steps(base, [d for d in DRIVERS if d != name]))
    n = args.n
    show("rouble's fast stocks off (fx response and pass-through 0)",
         {**base, "macro.key_rate_fx_response": np.zeros(n), "macro.exchange_rate_passthrough": np.zeros(n)})
    show("rouble's fast stocks slowed (defence rise 15 d, pass-through 60 d)",
         {**base, "macro.rouble_defence_days": np.full(n, 15.0), "macro.passthrough_days": np.full(n, 60.0)})
    segments = np.isfinite(member_edges(base, HISTORY_DAYS, n)).sum(axis=1) - 1
    floor = 1 + segments.mean() * (1 + METHODS[POLICY.method].n_stages)
    print(f"{f'one step a segment ({segments.mean():.0f} segments a member): the floor':66s} {floor:7.0f} "
          f"{floor / HISTORY_DAYS:6.2f}")


if __name__ == "__main__":
    main()
