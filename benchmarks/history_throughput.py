"""History runs against projections, measured side by side on this machine (issue 13).

Prints, for N Latin-hypercube samples through the sweep engine (``sanctions-model sweep``,
all local cores, outcomes only):

1. the historical path (``history_2022_2025``: 2022-02-24 to 2025-01-20, 1,061 days, every
   lever and driver step) and
2. projections of ``status_quo`` over 730 days,

each in members per second and member-days per second, with the ratio of the history's
member-days per second to the projection's (wall clock of the whole command, starting the
worker processes and importing the stack included); then the same for one chunk of 2,000
members and one of 8,000 evaluated in this process on one core (the engine's own rate, without
process start and chunk balance), each with where its time went: the segments between
breakpoints the members restarted at, the time in the compiled stepper (``core/jit.py``: the
model, the steps and the output grid) against the rest (the schedules' values per segment, the
starting state, the outcomes), and the evaluations each member needed and how many the engine
made a second (what an evaluation costs, apart from how many a run needs); and the evaluations the central
parameter set needs alone (how eventful the path itself is, apart from the batch's spread).
Each chunk of 2,000 is also evaluated with the other stepping (``stepping="batch"``: one step
size for the batch, SciPy's; the default steps each member on its own, ``core/stepper.py``).
Last, the agreement of the batch with a tight-tolerance (rtol 1e-9) per-member reference on 20
history members (worst crossing-day difference and worst relative difference of the other
outcomes), stepped either way.

Targets (issue 13): the history at >= 1,000 members/s on 2 cores; its member-days/s at
least 90% of the projection's.

Run: ``.venv/bin/python benchmarks/history_throughput.py [--n 10000]``. Timings on shared
machines vary by about 1.3x between runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sweep_throughput import run_measured, worst  # noqa: E402

import sanctions_model as sm  # noqa: E402
from sanctions_model.core import solve  # noqa: E402
from sanctions_model.core.outcomes import compute  # noqa: E402
from sanctions_model.core.schedules import breakpoints  # noqa: E402
from sanctions_model.core.solve import integrate  # noqa: E402
from sanctions_model.runs.designs import Design, overlay  # noqa: E402
from sanctions_model.runs.evaluate import POLICY, SolverPolicy, evaluate  # noqa: E402

HISTORY_DAYS = 1061  # 2022-02-24 to 2025-01-20


@dataclass
class Cost:
    """What one batch cost in this process: wall time, right-hand-side evaluations and their time."""

    seconds: float
    evaluations: int  # calls of NumPy's right-hand side (stepping="batch"; 0 for the compiled stepper)
    rhs_seconds: float  # in NumPy's right-hand side, or in the compiled stepper (model and steps)
    segments: int
    member_evaluations: int  # the evaluations summed over the members each call evaluated


def in_process(scenario: str, days: int, n: int, central: bool = False, policy: SolverPolicy = POLICY) -> Cost:
    """Evaluate ``n`` Latin-hypercube members of ``scenario`` (or its central set) in this process,
    counting and timing the model's right-hand side (``solve.derivatives``, NumPy's) or the compiled
    stepper (``solve.step_members``, which counts each member's evaluations)."""
    params = sm.load_params(scenario)
    if central:
        values = {k: np.asarray(v, dtype=float) for k, v in params.values().items()}
    else:
        design = Design.build("lhs", params, n, seed=1, chunk_size=n)
        values = overlay(params.values(), design.names, design.chunk(0))
    model, stepper, spent = solve.derivatives, solve.step_members, [0, 0.0, 0]

    def counted(*args):
        start = time.perf_counter()
        try:
            return model(*args)
        finally:
            spent[0] += 1
            spent[1] += time.perf_counter() - start
            spent[2] += np.shape(args[1])[-1]  # derivatives(t, y, p, ref): y is (N_STATES, members)

    def stepped(*args, **kwargs):
        start = time.perf_counter()
        left, evaluations = stepper(*args, **kwargs)
        spent[1] += time.perf_counter() - start
        spent[2] += int(evaluations.sum())
        return left, evaluations

    solve.derivatives, solve.step_members = counted, stepped
    try:
        start = time.perf_counter()
        evaluate(values, days, policy=policy)
        seconds = time.perf_counter() - start
    finally:
        solve.derivatives, solve.step_members = model, stepper
    segments = breakpoints(solve.as_batch(values), days).size + 1
    return Cost(seconds, int(spent[0]), float(spent[1]), segments, int(spent[2]))


def timed_sweep(n: int, scenario: str, days: int, out: Path) -> float:
    cmd = [sys.executable, "-m", "sanctions_model.cli", "sweep", "--design", "lhs", "-n", str(n), "--seed", "1",
           "--scenario", scenario, "--days", str(days), "--out", str(out), "--no-progress"]
    elapsed, _, _, err, status = run_measured(cmd)
    if status != 0:
        raise SystemExit(f"sweep failed: {err}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    print(f"sanctions-model {sm.__version__}; {cores} cores; sweep rtol {POLICY.rtol:g}; {args.n:,} members each")
    with tempfile.TemporaryDirectory() as tmp:
        t_hist = timed_sweep(args.n, "history_2022_2025", HISTORY_DAYS, Path(tmp) / "history")
        t_proj = timed_sweep(args.n, "status_quo", 730, Path(tmp) / "projection")
    rates = {}
    for label, seconds, days in (("history, 1,061 days", t_hist, HISTORY_DAYS), ("projection, 730 days", t_proj, 730)):
        rates[label] = (args.n / seconds, args.n * days / seconds)
        print(f"{label:22s} {seconds:7.1f} s  {args.n / seconds:8.0f} members/s  "
              f"{args.n * days / seconds:12,.0f} member-days/s")
    (h_members, h_days), (_, p_days) = rates.values()
    print(f"history members/s on {cores} cores: {h_members:.0f} (target >= 1,000)")
    print(f"history member-days/s as a share of the projection's: {h_days / p_days:.0%} (target >= 90%)")

    os.environ["OPENBLAS_NUM_THREADS"] = "1"  # as in a worker (takes effect for BLAS not yet loaded)
    per_core, per_evaluation = {}, {}
    for label, scenario, days in (("history", "history_2022_2025", HISTORY_DAYS), ("projection", "status_quo", 730)):
        for size in (2000, 8000):
            cost = in_process(scenario, days, size)
            if size == 2000:
                per_core[label] = size * days / cost.seconds
                per_evaluation[label] = cost.member_evaluations / cost.seconds
            print(f"one chunk of {size:,}, {label}, one core, in process: {cost.seconds:5.2f} s  "
                  f"{size / cost.seconds:6.0f} members/s  {size * days / cost.seconds:12,.0f} member-days/s")
            print(f"    {cost.segments} segments; {cost.rhs_seconds:5.2f} s in the compiled stepper (the model, "
                  f"the steps and the output grid), {cost.seconds - cost.rhs_seconds:5.2f} s outside it (the "
                  "schedules' values per segment, the starting state, the outcomes)")
            each = cost.member_evaluations / size
            print(f"    {each:,.0f} evaluations a member ({each / days:.2f} a simulated day), "
                  f"{cost.member_evaluations / cost.seconds:,.0f} member-evaluations/s")
        other = "batch" if POLICY.stepping == "member" else "member"
        cost = in_process(scenario, days, 2000, policy=SolverPolicy(stepping=other))
        print(f"one chunk of 2,000, {label}, stepping={other!r} instead of {POLICY.stepping!r}: "
              f"{cost.seconds:5.2f} s  {2000 / cost.seconds:6.0f} members/s; {cost.evaluations:,} calls "
              f"of NumPy's right-hand side, {cost.rhs_seconds:5.2f} s in it")
        central = in_process(scenario, days, 1, central=True)
        print(f"    the central parameter set alone: {central.member_evaluations:,} evaluations "
              f"({central.member_evaluations / days:.2f} a simulated day)")
    print(f"history member-days/s as a share of the projection's, one chunk: "
          f"{per_core['history'] / per_core['projection']:.0%}")
    print(f"history member-evaluations/s as a share of the projection's, one chunk: "
          f"{per_evaluation['history'] / per_evaluation['projection']:.0%} (what an evaluation costs the engine in "
          "each; the share of member-days is this times the projection's evaluations a day over the history's)")

    params = sm.load_params("history_2022_2025")
    design = Design.build("lhs", params, 20, seed=2)
    values = {k: np.asarray(v, dtype=float) for k, v in overlay(params.values(), design.names, design.chunk(0)).items()}
    got = compute(integrate(values, HISTORY_DAYS, rtol=POLICY.rtol))
    as_rows = [{k: v[i] for k, v in got.items()} for i in range(20)]
    reference = []
    for i in range(20):
        one = {k: (v[i] if np.ndim(v) else v) for k, v in values.items()}
        reference.append({k: v[0] for k, v in compute(integrate(one, HISTORY_DAYS, rtol=1e-9,
                                                                   atol_factor=1e-8)).items()})
    day, rel = worst(as_rows, reference)
    print(f"agreement with the reference (20 history members): worst {day:.2e} day, {rel:.1e} relative")
    other = "batch" if POLICY.stepping == "member" else "member"
    batch = compute(integrate(values, HISTORY_DAYS, rtol=POLICY.rtol, stepping=other))
    day, rel = worst([{k: v[i] for k, v in batch.items()} for i in range(20)], reference)
    print(f"the same with stepping={other!r}: worst {day:.2e} day, {rel:.1e} relative")


if __name__ == "__main__":
    main()
