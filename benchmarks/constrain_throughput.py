"""The constrained ensemble's cost on this machine (issue 16): ``sanctions-model constrain`` over a
prior of N members (default 100,000), timed as a whole command, with the peak memory of its
process tree, the acceptance rate and the effective sample size.

Targets (issue 16): 100,000 prior members in under 5 minutes on 2 cores, in under 2 GB.

Run: ``.venv/bin/python benchmarks/constrain_throughput.py [--n 100000] [--out FILE] [--report DIR]
[--scheduler tcp://HOST:PORT]``; with ``--scheduler`` the history batches run on that Dask cluster
(issue 16's 10^6 members: ``--n 1000000``), and the peak memory is this machine's share.
By default the ensemble and its report go to a temporary directory; ``--out`` and ``--report``
keep them (``make constrain`` writes the committed ones). Timings on shared machines vary by about
1.3x between runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sweep_throughput import run_measured  # noqa: E402

import sanctions_model as sm  # noqa: E402
from sanctions_model.inputs import ensemble_file  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--out", default=None, help="keep the ensemble file here")
    ap.add_argument("--report", default=None, help="keep the report here")
    ap.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT", help="run the batches on this Dask cluster")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    print(f"sanctions-model {sm.__version__}; {cores} cores; {args.n:,} prior members")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out) if args.out else Path(tmp) / "ensemble.parquet"
        report = Path(args.report) if args.report else Path(tmp) / "report"
        cmd = [sys.executable, "-m", "sanctions_model.cli", "constrain", "-n", str(args.n), "--out", str(out),
               "--report", str(report), "--force", "--no-progress",
               *(["--scheduler", args.scheduler] if args.scheduler else [])]
        seconds, peak, stdout, err, status = run_measured(cmd)
        if status != 0:
            raise SystemExit(f"constrain failed: {err}")
        meta = ensemble_file.read(out).meta
    print(stdout.strip())
    print(f"whole command: {seconds:.1f} s ({args.n / seconds:,.0f} members/s; target: 100,000 in < 300 s)")
    print(f"history runs alone: {meta['seconds']:.1f} s ({args.n / meta['seconds']:,.0f} members/s)")
    print(f"peak memory of the process tree: {peak / 2**20:,.0f} MiB (target < 2,048 MiB)")
    print(f"kept {meta['accepted']:,} of {meta['prior_members']:,} ({meta['accepted'] / meta['prior_members']:.2%}); "
          f"effective size {meta['effective_size']:,.0f}; failed {meta['failed']}")


if __name__ == "__main__":
    main()
