"""History runs against projections, measured side by side on this machine (issue 13).

Prints, for N Latin-hypercube samples through the sweep engine (``sanctions-model sweep``,
all local cores, outcomes only):

1. the historical path (``history_2022_2025``: 2022-02-24 to 2025-01-20, 1,061 days, every
   lever and driver step) and
2. projections of ``status_quo`` over 730 days,

each in members per second and member-days per second, with the ratio of the history's
member-days per second to the projection's (wall clock of the whole command, starting the
worker processes and importing the stack included); then the same for one chunk of 2,000
members evaluated in this process on one core (the engine's own rate, without process start
and chunk balance); then the agreement of the batch with a
tight-tolerance (rtol 1e-9) per-member reference on 20 history members (worst crossing-day
difference and worst relative difference of the other outcomes).

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
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sweep_throughput import run_measured, worst  # noqa: E402

import sanctions_model as sm  # noqa: E402
from sanctions_model.core.outcomes import compute  # noqa: E402
from sanctions_model.core.solve import integrate  # noqa: E402
from sanctions_model.runs.designs import Design, overlay  # noqa: E402
from sanctions_model.runs.evaluate import POLICY  # noqa: E402

HISTORY_DAYS = 1061  # 2022-02-24 to 2025-01-20


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

    import time

    from sanctions_model.runs.evaluate import evaluate

    os.environ["OPENBLAS_NUM_THREADS"] = "1"  # as in a worker (takes effect for BLAS not yet loaded)
    per_core = {}
    for label, scenario, days in (("history", "history_2022_2025", HISTORY_DAYS), ("projection", "status_quo", 730)):
        chunk_params = sm.load_params(scenario)
        chunk = Design.build("lhs", chunk_params, 2000, seed=1)
        values = overlay(chunk_params.values(), chunk.names, chunk.chunk(0))
        start = time.perf_counter()
        evaluate(values, days)
        seconds = time.perf_counter() - start
        per_core[label] = 2000 * days / seconds
        print(f"one chunk of 2,000, {label}, one core, in process: {seconds:5.2f} s  {2000 / seconds:6.0f} members/s  "
              f"{2000 * days / seconds:12,.0f} member-days/s")
    print(f"history member-days/s as a share of the projection's, one chunk: "
          f"{per_core['history'] / per_core['projection']:.0%}")

    params = sm.load_params("history_2022_2025")
    design = Design.build("lhs", params, 20, seed=2)
    values = {k: np.asarray(v, dtype=float) for k, v in overlay(params.values(), design.names, design.chunk(0)).items()}
    batch = compute(integrate(values, HISTORY_DAYS, rtol=POLICY.rtol))
    as_rows = [{k: v[i] for k, v in batch.items()} for i in range(20)]
    reference = []
    for i in range(20):
        one = {k: (v[i] if np.ndim(v) else v) for k, v in values.items()}
        reference.append({k: v[0] for k, v in compute(integrate(one, HISTORY_DAYS, rtol=1e-9,
                                                                   atol_factor=1e-8)).items()})
    day, rel = worst(as_rows, reference)
    print(f"agreement with the reference (20 history members): worst {day:.2e} day, {rel:.1e} relative")


if __name__ == "__main__":
    main()
