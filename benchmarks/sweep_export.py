"""Exporting a large sweep: time, peak memory and file size of ``to_xarray`` and ``to_netcdf``.

Builds (or reuses) a Latin-hypercube sweep of N samples with weekly trajectories of five
variables over 730 days, through the command line on all local cores, then in a fresh
process each:

1. opens it as an xarray Dataset (``SweepResult.to_xarray``: dask arrays over the Parquet
   parts) and computes one small reduction;
2. writes it to compressed netCDF4 (``SweepResult.to_netcdf``: h5netcdf, gzip, streamed
   block by block);

and prints the time, the peak resident memory of the process tree, and the sizes of the
Parquet tables and of the netCDF file, then checks a few values of the file against the
Parquet tables. Target (issue 11): the export stays within the sweep's memory target,
1,536 MiB, at 1,000,000 samples.

Run: ``.venv/bin/python benchmarks/sweep_export.py [--n 1000000] [--sweep DIR] [--keep DIR]``.
It is heavy at the default size (about 10 minutes for the sweep and a few GB of disk): run it
alone.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sweep_throughput import TRAJ, run_cli_sweep, run_measured  # noqa: E402

TARGET_MIB = 1536


def measured(code: str) -> tuple[float, int, str]:
    """Run ``code`` in a fresh Python; return (seconds, peak tree RSS in bytes, its stdout)."""
    elapsed, peak, out, err, status = run_measured([sys.executable, "-c", code])
    if status != 0:
        raise SystemExit(f"failed:\n{err}")
    return elapsed, peak, out


def size_mib(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="samples of the sweep to build")
    ap.add_argument("--sweep", type=Path, help="export this existing sweep instead of building one")
    ap.add_argument("--keep", type=Path, help="build the sweep here and keep it (default: a temporary folder)")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="sweep-export-"))
    try:
        sweep = args.sweep
        if sweep is None:
            sweep = args.keep or tmp / "sweep"
            elapsed, peak = run_cli_sweep(args.n, sweep, ["--trajectories", TRAJ, "--every", "7"])
            print(f"sweep, {args.n:,} LHS samples, weekly trajectories of 5 variables: {elapsed:7.1f} s  "
                  f"peak {peak / 2**20:6.0f} MiB")
        for table in ("samples", "outcomes", "trajectories"):
            print(f"  {table}.parquet: {size_mib(sweep / f'{table}.parquet'):8.1f} MiB")

        elapsed, peak, out = measured(textwrap.dedent(f"""
            import sanctions_model as sm
            ds = sm.open_sweep({str(sweep)!r}).to_xarray()
            print(dict(ds.sizes), f"{{ds.nbytes / 2**30:.2f}} GiB if read whole")
            print("median reserves at the end:", float(ds["reserves"].isel(time=-1).load().median()))
            """))
        print(f"to_xarray() and one reduction over every sample:   {elapsed:7.1f} s  peak {peak / 2**20:6.0f} MiB")
        print(textwrap.indent(out.strip(), "  "))

        nc = tmp / "sweep.nc"
        elapsed, peak, _ = measured(textwrap.dedent(f"""
            import sanctions_model as sm
            sm.open_sweep({str(sweep)!r}).to_netcdf({str(nc)!r})
            """))
        print(f"to_netcdf() (netCDF4, gzip 4, h5netcdf):           {elapsed:7.1f} s  peak {peak / 2**20:6.0f} MiB  "
              f"file {size_mib(nc):8.1f} MiB  (target: peak < {TARGET_MIB} MiB)")

        elapsed, _, out = measured(textwrap.dedent(f"""
            import numpy as np, pandas as pd, xarray as xr
            from pathlib import Path
            parts = sorted(Path({str(sweep)!r}, "trajectories.parquet").glob("part-*.parquet"))
            table = pd.concat([pd.read_parquet(parts[0]), pd.read_parquet(parts[-1])])
            rows = table.sample(200, random_state=1)
            with xr.open_dataset({str(nc)!r}, engine="h5netcdf") as ds:
                for row in rows.itertuples(index=False):
                    got = ds["reserves"].sel(scenario=row.scenario, sample=row.sample_id).isel(time=int(row.day // 7))
                    assert float(got) == row.reserves, (row, float(got))
            print(f"{{len(rows)}} values of the file equal the Parquet tables")
            """))
        print(f"check: {out.strip()} ({elapsed:.1f} s)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
