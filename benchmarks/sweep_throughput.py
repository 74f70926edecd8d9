"""Sweep throughput, accuracy and memory, measured side by side on this machine.

Prints, for the full model over 730 days:

1. the batch engine (``sanctions-model sweep``, all local cores) on N Latin-hypercube
   samples, outcomes only, and again with weekly trajectories of five variables;
2. a per-sample loop of ``solve_ivp`` over the same model (one sample per call, as a
   scientist would write it by hand), on 200 samples;
3. the agreement of both with a tight-tolerance (rtol 1e-9) per-sample reference on those
   200 samples: worst crossing-day difference and worst relative difference of the other
   outcomes;
4. peak memory (resident set, summed over the sweep's process tree) at N and at 10 N,
   outcomes only.

Targets (issue 3): batch >= 50x the loop's throughput; 100,000 samples in under 60 s on
2 cores; peak memory under 1.5 GB at 100,000 and 1,000,000 samples.

Run: ``.venv/bin/python benchmarks/sweep_throughput.py [--n 100000] [--skip-big]``.
Timings on shared machines vary by about 1.3x between runs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

import sanctions_model as sm
from sanctions_model.core.outcomes import OUTCOMES, compute
from sanctions_model.core.solve import integrate
from sanctions_model.runs.designs import Design, overlay
from sanctions_model.runs.evaluate import POLICY
from sanctions_model.runs.sweep import read_sweep

TRAJ = "strain,reserves,p_talks,p_ceasefire,territory"


def _tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        stack.extend(children.get(p, []))
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def run_measured(cmd: list[str]) -> tuple[float, int, str, str, int]:
    """Run ``cmd``; return (seconds, peak RSS of its process tree in bytes, stdout, stderr, exit status)."""
    peak = 0
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_bytes(proc.pid))
            time.sleep(0.1)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    out, err = proc.communicate()
    done.set()
    thread.join()
    return time.perf_counter() - start, peak, out, err, proc.returncode


def run_cli_sweep(n: int, out: Path, extra: list[str]) -> tuple[float, float]:
    """Run a sweep through the command line; return (seconds, peak tree RSS in bytes)."""
    cmd = [sys.executable, "-m", "sanctions_model.cli", "sweep", "--design", "lhs", "-n", str(n), "--seed", "1",
           "--out", str(out), "--no-progress", *extra]
    elapsed, peak, _, err, status = run_measured(cmd)
    if status != 0:
        raise SystemExit(f"sweep failed: {err}")
    return elapsed, peak


def per_sample(values: dict[str, np.ndarray], i: int, rtol: float, atol_factor: float = 1e-8) -> dict[str, float]:
    """One sample through SciPy's ``solve_ivp`` machinery on NumPy's right-hand side (``stepping="batch"`` with a
    batch of one: SciPy's RK45 on the member alone), as a loop written by hand would run it, not through the
    engine's compiled stepper."""
    sol = integrate({k: v[i] for k, v in values.items()}, 730, rtol=rtol, atol_factor=atol_factor, stepping="batch")
    return {k: v[0] for k, v in compute(sol).items()}


def worst(a: list[dict], b: list[dict]) -> tuple[float, float]:
    day, rel = 0.0, 0.0
    for x, y in zip(a, b):
        for key, (unit, _) in OUTCOMES.items():
            if unit == "bool":
                continue
            u, v = float(x[key]), float(y[key])
            if np.isnan(u) or np.isnan(v):
                if np.isnan(u) != np.isnan(v):
                    day = max(day, np.inf) if unit == "day" else day
                continue
            if unit == "day":
                day = max(day, abs(u - v))
            else:
                rel = max(rel, abs(u - v) / max(abs(v), 1e-9))
    return day, rel


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--loop", type=int, default=200)
    ap.add_argument("--skip-big", action="store_true", help="skip the 10 N memory run")
    args = ap.parse_args()
    cores = os.cpu_count()
    print(f"sanctions-model {sm.__version__}; {cores} cores; sweep rtol {POLICY.rtol:g}")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t_out, mem_out = run_cli_sweep(args.n, tmp / "outcomes", [])
        print(f"batch engine, {args.n:,} samples, outcomes only:       {t_out:7.1f} s  "
              f"{args.n / t_out:8.0f} samples/s  peak {mem_out / 2**20:6.0f} MiB")
        t_tr, mem_tr = run_cli_sweep(args.n, tmp / "traj", ["--trajectories", TRAJ, "--every", "7"])
        print(f"batch engine, {args.n:,} samples, weekly trajectories: {t_tr:7.1f} s  "
              f"{args.n / t_tr:8.0f} samples/s  peak {mem_tr / 2**20:6.0f} MiB")

        swept = read_sweep(tmp / "outcomes").head(args.loop)
        design = Design.build("lhs", sm.load_params(), args.n, 1)
        rows = design.chunk(0)[: args.loop]
        values = overlay(sm.load_params().values(), design.names, rows)

        start = time.perf_counter()
        loop = [per_sample(values, i, POLICY.rtol) for i in range(args.loop)]
        t_loop = time.perf_counter() - start
        print(f"per-sample solve_ivp loop, {args.loop} samples:           {t_loop:7.1f} s  "
              f"{args.loop / t_loop:8.1f} samples/s")

        start = time.perf_counter()
        reference = [per_sample(values, i, 1e-9, 1e-11) for i in range(args.loop)]
        print(f"reference (rtol 1e-9, per sample) took {time.perf_counter() - start:.0f} s")
        batch_rows = [r._asdict() for r in swept.itertuples(index=False)]
        d_b, r_b = worst(batch_rows, reference)
        d_l, r_l = worst(loop, reference)
        print(f"agreement with the reference: batch worst {d_b:.2e} day, {r_b:.1e} relative; "
              f"loop worst {d_l:.2e} day, {r_l:.1e} relative")

        ratio = (args.n / t_out) / (args.loop / t_loop)
        print(f"ratio batch / loop throughput: {ratio:.0f}x (target >= 50x)")
        print(f"100,000-sample time on {cores} cores: {t_out * 100_000 / args.n:.1f} s (target < 60 s)")

        if not args.skip_big:
            big = 10 * args.n
            t_big, mem_big = run_cli_sweep(big, tmp / "big", [])
            print(f"batch engine, {big:,} samples, outcomes only:     {t_big:7.1f} s  "
                  f"{big / t_big:8.0f} samples/s  peak {mem_big / 2**20:6.0f} MiB")
        print("peak memory target: < 1536 MiB at both sizes")


if __name__ == "__main__":
    main()
