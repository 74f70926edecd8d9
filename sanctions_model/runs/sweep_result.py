"""A finished (or partial) sweep, read back for analysis: tables, shares, fan charts, xarray.

>>> sw = sm.open_sweep("out/lhs")          # or the value run_sweep() returns
>>> sw.outcomes.groupby("scenario")["p_ceasefire_horizon"].mean()
>>> sw.plot()                              # fan charts of the kept trajectories
>>> sw.to_xarray()                         # scenario x sample x time, lazy (dask)
>>> sw.to_netcdf("lhs.nc")                 # compressed netCDF4, streamed block by block
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..core.outcomes import OUTCOMES
from ..errors import InputError, suggest
from .ensemble import percentile_table, share_table
from .store import MANIFEST, check_settings, part_path

if TYPE_CHECKING:
    import xarray as xr
    from matplotlib.figure import Figure

#: Largest sweep :meth:`SweepResult.to_xarray` reads into memory when dask is not installed [byte].
EAGER_LIMIT_BYTES = 1 << 30
#: Arrays read per block of a lazy dataset [byte]: whole chunks of samples up to about this size.
BLOCK_BYTES = 32 << 20


class SweepResult(os.PathLike):
    """A sweep directory written by :func:`sanctions_model.runs.sweep.run_sweep`.

    It is also a path (``os.fspath(result)`` is the directory), so it can be passed
    wherever a sweep directory is expected.

    Attributes
    ----------
    path : pathlib.Path
        The sweep directory.
    manifest : dict
        Its ``manifest.json``: design, seed, scenarios with parameter hashes, chunk status.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        manifest = self.path / MANIFEST
        if not manifest.is_file():
            raise InputError(f"{self.path} is not a sweep directory: {MANIFEST} not found.")
        try:
            self.manifest: dict = json.loads(manifest.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"{manifest}: unreadable manifest ({exc}).") from None
        settings = self.manifest.get("settings") if isinstance(self.manifest, dict) else None
        missing = [] if not isinstance(settings, dict) else \
            [key for key in ("design", "scenarios", "days") if key not in settings]
        if not isinstance(settings, dict) or missing:
            what = f"its settings lack {', '.join(missing)}" if missing else "it has no settings"
            raise InputError(f"{manifest}: not a sweep manifest ({what}); the sweep directory is damaged.")
        check_settings(settings, manifest)

    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        return f"SweepResult({str(self.path)!r})"

    # -- what it holds -------------------------------------------------------------------

    @property
    def settings(self) -> dict:
        """Design, scenarios, horizon and kept trajectories, as recorded when the sweep started."""
        return dict(self.manifest["settings"])

    @property
    def scenarios(self) -> list[str]:
        """Scenario labels, in the order the sweep ran them."""
        return list(self.settings["scenarios"])

    @property
    def start_dates(self) -> dict[str, pd.Timestamp]:
        """Day 0 of each scenario, as recorded when the sweep started (a sweep written before
        start dates were recorded: the base file's date for every scenario)."""
        recorded = self.settings.get("start_dates")
        if recorded is None:
            from ..inputs.params import load_base

            return {label: pd.Timestamp(load_base().start_date) for label in self.scenarios}
        return {label: pd.Timestamp(recorded[label]) for label in self.scenarios}

    @property
    def units(self) -> dict[str, str]:
        """The unit of each outcome and kept trajectory variable, as the manifest records them."""
        from .store import units_of

        return dict(self.manifest.get("units") or units_of(self.settings))

    @property
    def variables(self) -> list[str]:
        """Trajectory variables kept over time (empty if none were asked for)."""
        return list(self.settings.get("trajectories", []))

    @property
    def complete(self) -> bool:
        """Whether every chunk is done."""
        return bool(self.manifest.get("complete", False))

    @cached_property
    def samples(self) -> pd.DataFrame:
        """One row per sample: ``sample_id`` and the value of each varied parameter."""
        from .store import read_sweep

        return read_sweep(self.path, "samples")

    @cached_property
    def outcomes(self) -> pd.DataFrame:
        """One row per sample and scenario: ``status``, ``message`` and every outcome."""
        from .store import read_sweep

        return read_sweep(self.path, "outcomes")

    @cached_property
    def trajectories(self) -> pd.DataFrame:
        """Long table: ``sample_id``, ``scenario``, ``day`` and each kept variable."""
        from .store import read_sweep

        if not self.variables:
            raise InputError(f"{self.path}: this sweep kept no trajectories (run it with --trajectories).")
        return read_sweep(self.path, "trajectories")

    # -- summaries -----------------------------------------------------------------------

    def shares(self, interval: bool = False, confidence: float = 0.95) -> pd.DataFrame:
        """Share of successful samples with each outcome of :data:`sanctions_model.runs.ensemble.SHARES`.

        Samples whose integration failed are left out of the counts.

        Parameters
        ----------
        interval : bool
            False (default): a wide table of shares. True: a tidy table with each share's
            Wilson interval, the sampling error of estimating the share from ``n`` samples.
        confidence : float
            Confidence level of the intervals (default 0.95).

        Returns
        -------
        pandas.DataFrame
            Default: scenario (index) x outcome, shares 0-1, with a column ``n`` of samples
            counted. With ``interval=True``: one row per scenario and outcome, columns
            ``scenario``, ``outcome``, ``n``, ``share``, ``low``, ``high`` (0-1).
        """
        ok = self.outcomes[self.outcomes["status"] == "ok"]
        return share_table(ok, self.scenarios, interval=interval, confidence=confidence, counts=True)

    def fans(self, scenario: str | None = None) -> dict[str, pd.DataFrame]:
        """Percentiles (5, 25, 50, 75, 95) over samples of each kept variable, by day.

        Parameters
        ----------
        scenario : str, optional
            Default: the first scenario of the sweep.

        Returns
        -------
        dict of variable -> DataFrame (day x ``p5`` ... ``p95``), in the variable's unit.
        """
        scenario = self._scenario(scenario)
        traj = self.trajectories[self.trajectories["scenario"] == scenario]
        fans = {}
        for var in self.variables:
            table = traj.pivot(index="day", columns="sample_id", values=var)
            fans[var] = percentile_table(table.to_numpy().T, table.index.to_numpy())
        return fans

    def plot(self, scenario: str | None = None) -> Figure:
        """Fan charts of the kept trajectories for one scenario, with the 100-day mark.

        Parameters
        ----------
        scenario : str, optional
            Default: the first scenario of the sweep.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from ..report.figures import fan_figure

        scenario = self._scenario(scenario)
        start = self.start_dates[scenario]
        n = int((self.outcomes["scenario"] == scenario).sum())
        fig = fan_figure(self.fans(scenario), None, None, n, start=start,
                         title=f"sweep {self.path.name}, scenario {scenario}: the range over {n:,} samples")
        return _drop_blank_panels(fig)

    def one_scenario(self, scenario: str | None) -> str:
        """The scenario an analysis of one scenario reads: ``scenario``, checked, or the sweep's only one.

        Parameters
        ----------
        scenario : str or None
            A scenario the sweep ran; None when it ran one.

        Returns
        -------
        str

        Raises
        ------
        InputError
            If ``scenario`` is not in the sweep, or is None and the sweep ran several.
        """
        if scenario is None and len(self.scenarios) > 1:
            raise InputError(f"{self.path} ran {len(self.scenarios)} scenarios ({', '.join(self.scenarios)}); say "
                             "which one (--scenario).")
        if scenario is not None and scenario not in self.scenarios:
            raise InputError(f"scenario {scenario!r} is not in {self.path}.{suggest(scenario, self.scenarios)} "
                             f"It holds: {', '.join(self.scenarios)}.")
        return self.scenarios[0] if scenario is None else scenario

    def _scenario(self, scenario: str | None) -> str:
        if scenario is None:
            return self.scenarios[0]
        if scenario not in self.scenarios:
            raise InputError(f"scenario '{scenario}' is not in this sweep.{suggest(scenario, self.scenarios)} "
                             f"It holds: {', '.join(self.scenarios)}.")
        return scenario

    # -- interop -------------------------------------------------------------------------

    def to_xarray(self, lazy: bool | None = None) -> xr.Dataset:
        """The sweep as an :class:`xarray.Dataset`, read lazily from the Parquet files.

        Parameters
        ----------
        lazy : bool, optional
            True: every data variable is a dask array whose blocks are read from the sweep's
            Parquet parts (checked against the manifest's checksums first) only when
            computed, so a sweep of any size opens without filling memory and
            :meth:`to_netcdf` streams it block by block (needs dask: ``pip install
            'sanctions-model[dask]'``). False: read everything into memory now. Default:
            lazy when dask is installed; without it, a sweep that would take more than
            :data:`EAGER_LIMIT_BYTES` in memory raises :class:`InputError` instead.

        Returns
        -------
        xarray.Dataset
            Dimensions ``scenario``, ``sample`` and, if trajectories were kept, ``time``
            (dates, with a ``day`` coordinate, days after the start). If the scenarios start on
            different dates (the history and a projection, say), the trajectories' dimension is
            ``day`` instead, with a ``date`` coordinate per scenario and day. Data variables: each
            kept trajectory variable (scenario x sample x time), each outcome (scenario x
            sample; yes/no outcomes as 0/1 ``int8``, other outcomes float with NaN where a
            crossing did not happen or the sample failed), each varied parameter (sample),
            and ``status`` (scenario x sample, 1 = solved, 0 = failed). Only finished chunks
            are included. Every variable has ``units`` and ``long_name`` attributes; a
            sampled parameter also has ``description``, ``source`` and the range it was
            sampled over (``sampled_low``, ``sampled_high``). The design, seed and
            parameter hashes are in the dataset's attributes.
        """
        import xarray as xr

        from ..inputs.params import load_base
        from .designs import Design

        if lazy is None:
            lazy = _have_dask()
        elif lazy and not _have_dask():
            raise InputError("a lazy dataset needs dask: pip install 'sanctions-model[dask]'")
        settings = self.settings
        design = Design.from_dict(settings["design"])
        done = self._finished_chunks()
        ranges = [design.chunk_rows(i) for i in done]
        ids = np.concatenate([np.arange(r.start, r.stop, dtype=np.int64) for r in ranges])
        scenarios = self.scenarios
        n_s = len(scenarios)
        days = self._kept_days() if self.variables else np.empty(0)
        n_t = days.size
        if not lazy:
            need = ids.size * 8 * (len(design.names) + n_s * (len(OUTCOMES) + 1 + n_t * len(self.variables)))
            if need > EAGER_LIMIT_BYTES:
                raise InputError(f"{self.path}: this sweep takes {need / 2**30:.1f} GiB in memory; install dask "
                                 "(pip install 'sanctions-model[dask]') to open it lazily, block by block.")
        base = load_base()
        data: dict[str, tuple] = {}

        # blocks of whole chunks, each about BLOCK_BYTES of arrays, in sample order
        def blocks(row_bytes: int) -> list[list[int]]:
            per = max(1, BLOCK_BYTES // max(1, row_bytes * design.chunk_size))
            return [list(range(a, min(a + per, len(done)))) for a in range(0, len(done), per)]

        def stack(table: str, reader: Callable[..., dict[str, np.ndarray]], row_bytes: int,
                  shapes: Mapping[str, tuple[tuple[int, ...], np.dtype]], axis: int, *extra: object
                  ) -> dict[str, object]:
            parts: dict[str, list] = {name: [] for name in shapes}
            for group in blocks(row_bytes):
                files = [part_path(self.path, table, done[j]) for j in group]
                block_ids = np.concatenate([ids_of[j] for j in group])
                m = block_ids.size
                if lazy:
                    import dask
                    import dask.array as da

                    task = dask.delayed(reader, pure=True)(files, block_ids, *extra)
                    for name, (shape, dtype) in shapes.items():
                        full = tuple(m if d == -1 else d for d in shape)
                        parts[name].append(da.from_delayed(task[name], full, dtype=dtype))
                else:
                    result = reader(files, block_ids, *extra)
                    for name in shapes:
                        parts[name].append(result[name])
            if lazy:
                import dask.array as da

                return {name: da.concatenate(p, axis=axis) for name, p in parts.items()}
            return {name: np.concatenate(p, axis=axis) for name, p in parts.items()}

        ids_of = [np.arange(r.start, r.stop, dtype=np.int64) for r in ranges]
        outcome_shapes = {name: ((n_s, -1), np.dtype("int8") if unit == "bool" else np.dtype("float64"))
                          for name, (unit, _) in OUTCOMES.items()}
        outcome_shapes["status"] = ((n_s, -1), np.dtype("int8"))
        arrays = stack("outcomes", _read_outcomes, n_s * 8 * len(outcome_shapes), outcome_shapes, 1, tuple(scenarios))
        for name, (unit, meaning) in OUTCOMES.items():
            data[name] = (("scenario", "sample"), arrays[name], {"units": unit, "long_name": meaning})
        data["status"] = (("scenario", "sample"), arrays["status"],
                          {"units": "1", "long_name": "1 if the sample solved, 0 if it failed"})

        sample_shapes = {name: ((-1,), np.dtype("float64")) for name in design.names}
        arrays = stack("samples", _read_samples, 8 * len(design.names), sample_shapes, 0, tuple(design.names))
        for name, low, high in zip(design.names, design.lows, design.highs):
            spec = base.parameters.get(name)
            attrs: dict[str, object] = {"long_name": f"sampled value of {name}", "sampled_low": float(low),
                                        "sampled_high": float(high)}
            if spec is not None:
                attrs.update(units=spec.unit, description=spec.description, source=spec.source)
            data[name] = (("sample",), arrays[name], attrs)

        coords: dict[str, object] = {"scenario": scenarios, "sample": ids}
        if self.variables:
            traj_shapes = {var: ((n_s, -1, n_t), np.dtype("float64")) for var in self.variables}
            arrays = stack("trajectories", _read_trajectories, n_s * n_t * 8 * len(self.variables), traj_shapes, 1,
                           tuple(scenarios), days, tuple(self.variables))
            starts = self.start_dates
            one_start = len(set(starts.values())) == 1
            # scenarios that start on different dates share days after their start, not dates
            axis = "time" if one_start else "day"
            units = self.units
            for var in self.variables:
                data[var] = (("scenario", "sample", axis), arrays[var],
                             {"units": units.get(var, ""), "long_name": var.replace("_", " ")})
            if one_start:
                coords["time"] = next(iter(starts.values())) + pd.to_timedelta(days, unit="D")
                coords["day"] = ("time", days, {"units": "day", "long_name": "days after the start"})
            else:
                coords["day"] = ("day", days, {"units": "day", "long_name": "days after the scenario's start"})
                coords["date"] = (("scenario", "day"), np.stack(
                    [(starts[label] + pd.to_timedelta(days, unit="D")).to_numpy() for label in scenarios]),
                    {"long_name": "date of each day of each scenario"})
        attrs = {"title": "sanctions-model sweep", "source": str(self.path), "version": str(settings["version"]),
                 "design": str(settings["design"]["kind"]), "seed": int(settings["design"]["seed"]),
                 "days": float(settings["days"]), "chunk_size": int(design.chunk_size),
                 "parameter_hashes": json.dumps(settings["scenarios"]), "complete": int(self.complete)}
        ds = xr.Dataset(data, coords=coords, attrs=attrs)
        ds["sample"].attrs.update(long_name="sample number (row of the design)")
        return ds

    def _finished_chunks(self) -> list[int]:
        """Chunks whose parts the manifest lists (each checked against its checksum), in order."""
        from .store import sweep_parts

        tables = ["outcomes", "samples", *(["trajectories"] if self.variables else [])]
        found = {t: [int(p.stem.removeprefix("part-")) for p in sweep_parts(self.path, t)] for t in tables}
        done = found["outcomes"]  # written last: a chunk with its outcomes is complete
        for table in tables[1:]:
            missing = sorted(set(done) - set(found[table]))
            if missing:
                raise InputError(f"{self.path}: chunk {missing[0]} has outcomes but no {table}; run the sweep's "
                                 "command again to recompute it.")
        if not done:
            raise InputError(f"{self.path}: no chunk of this sweep has finished yet.")
        return done

    def _kept_days(self) -> np.ndarray:
        """The days at which trajectories were kept (as the sweep computes them)."""
        s = self.settings
        return np.arange(0.0, float(s["days"]) + 1e-9, float(s["every"]))

    def to_netcdf(self, path: str | os.PathLike[str], force: bool = False, complevel: int = 4) -> Path:
        """Write :meth:`to_xarray` to a compressed netCDF4 file, block by block.

        The file is written with ``h5netcdf`` (gzip level ``complevel`` with byte shuffling,
        HDF5 chunks of one sweep chunk of samples), under a temporary name beside ``path``
        and renamed into place when complete. With dask installed the sweep is streamed
        from its Parquet parts, so memory stays flat however many samples it holds.

        Parameters
        ----------
        path : path
            The file to write; missing parent directories are created.
        force : bool
            Replace ``path`` if it exists (default: refuse).
        complevel : int
            gzip level 1-9 (default 4).

        Returns
        -------
        pathlib.Path

        Raises
        ------
        InputError
            If ``path`` exists and ``force`` is False, or cannot be written (under a file,
            in a read-only place, a name too long).
        """
        import tempfile

        from ..outdir import check_file, check_names, make_parents, umask_mode

        path = _output_path(path, "to_netcdf")
        if not isinstance(complevel, (int, np.integer)) or isinstance(complevel, bool) or not 1 <= complevel <= 9:
            raise InputError(f"complevel must be a whole number 1-9, got {complevel!r}.")
        if path.exists():  # replaced only with force, and only once the new file is complete
            check_names(path)
            if not force:
                raise InputError(f"{path} already exists; pass force=True to replace it.")
            if not path.is_file():
                raise InputError(f"{path} exists and is not a file.")
        make_parents(check_file(path, force=True))  # a place this process can write in
        ds = self.to_xarray()
        chunk = max(1, min(int(ds.attrs["chunk_size"]), ds.sizes["sample"]))
        encoding: dict[str, dict[str, object]] = {}
        for name, var in ds.data_vars.items():
            # one sweep chunk of samples a block; the whole of a scenario's days (dated "time", or "day"
            # when the scenarios start on different dates)
            sizes = {"scenario": 1, "sample": chunk, "time": ds.sizes.get("time", 1), "day": ds.sizes.get("day", 1)}
            encoding[str(name)] = {"zlib": True, "complevel": int(complevel), "shuffle": True,
                                   "chunksizes": tuple(sizes[str(d)] for d in var.dims)}
        if "time" in ds.coords:
            encoding["time"] = {"units": f"days since {pd.Timestamp(ds['time'].values[0]):%Y-%m-%d}",
                                "calendar": "proleptic_gregorian"}
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        os.chmod(tmp_name, umask_mode(directory=False))
        tmp = Path(tmp_name)
        try:
            if _have_dask():
                import dask

                with dask.config.set(scheduler="threads"):  # read beside the file, not on a cluster
                    ds.to_netcdf(tmp, engine="h5netcdf", encoding=encoding)
            else:
                ds.to_netcdf(tmp, engine="h5netcdf", encoding=encoding)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return path

    def to_zarr(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_xarray` to a Zarr store in Zarr's format 2, which every Zarr library reads (needs the
        ``zarr`` package).

        Parameters
        ----------
        path : path
            The store to create; it must not exist.

        Returns
        -------
        pathlib.Path
        """
        import inspect

        from ..outdir import check_target

        require_zarr()
        path = _output_path(path, "to_zarr")
        if path.exists():
            raise InputError(f"{path} already exists; a Zarr store is written only where nothing is.")
        check_target(path)  # a place this process can write in, under no file
        # Zarr's format 2, which every Zarr library reads (zarr 3 writes its format 3 by default, whose
        # fixed-length strings, the scenario names, it warns other libraries may not read); an xarray
        # older than 2024.10 has no zarr_format, and writes format 2 (it knows no other)
        ds = self.to_xarray()
        if "zarr_format" in inspect.signature(ds.to_zarr).parameters:
            ds.to_zarr(path, mode="w-", zarr_format=2)
        else:
            ds.to_zarr(path, mode="w-")
        return path

    # -- display -------------------------------------------------------------------------

    def _summary(self) -> tuple[str, pd.DataFrame]:
        s = self.settings
        head = (f"sweep {self.path}: {s['design']['kind']} design, seed {s['design']['seed']}, "
                f"{len(self.samples):,} samples x {len(self.scenarios)} scenario(s), {s['days']:g} days"
                + ("" if self.complete else " (incomplete: run the same command again to finish it)"))
        shares = self.shares()
        table = shares.drop(columns="n").map(lambda v: f"{100 * v:.1f}%")
        table.insert(0, "samples", shares["n"])
        return head, table

    def _repr_html_(self) -> str:
        head, table = self._summary()
        return f"<p><b>{head}</b></p>{table.to_html()}"

    def _repr_markdown_(self) -> str:
        from .describe import markdown_table

        head, table = self._summary()
        return f"**{head}**\n\n{markdown_table(table)}\n"


def require_zarr() -> None:
    """Raise InputError unless the zarr package is installed."""
    try:
        import zarr  # noqa: F401
    except ImportError:
        raise InputError("writing Zarr needs the zarr package: pip install zarr") from None


def _output_path(path: object, method: str) -> Path:
    """``path`` as a Path, or InputError naming ``method`` if it is not a path."""
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise InputError(f"{method}: give the path to write as a string or pathlib.Path, got {path!r}.")
    return Path(path)


# -- reading blocks of a sweep (module-level so that dask can run them anywhere) -------------

def _have_dask() -> bool:
    try:
        import dask.array  # noqa: F401
    except ImportError:
        return False
    return True


def _read(files: Sequence[Path], columns: Sequence[str] | None = None) -> pd.DataFrame:
    frames = [pd.read_parquet(f, columns=list(columns) if columns is not None else None) for f in files]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _positions(frame: pd.DataFrame, ids: np.ndarray, scenarios: Sequence[str] | None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row positions of ``frame``'s samples in ``ids`` (sorted) and of its scenarios; and which rows fit."""
    sample = frame["sample_id"].to_numpy(dtype=np.int64)
    pos = np.clip(np.searchsorted(ids, sample), 0, max(ids.size - 1, 0))
    keep = ids[pos] == sample if ids.size else np.zeros(len(frame), dtype=bool)
    if scenarios is None:
        return pos, np.zeros_like(pos), keep
    codes = pd.Categorical(frame["scenario"], categories=list(scenarios)).codes.astype(np.int64)
    return pos, codes, keep & (codes >= 0)


def _read_outcomes(files: Sequence[Path], ids: np.ndarray, scenarios: Sequence[str]) -> dict[str, np.ndarray]:
    """Outcomes and status of the samples ``ids`` as (scenario, sample) arrays."""
    frame = _read(files, ["sample_id", "scenario", "status", *OUTCOMES])
    pos, codes, keep = _positions(frame, ids, scenarios)
    pos, codes = pos[keep], codes[keep]
    shape = (len(scenarios), ids.size)
    out: dict[str, np.ndarray] = {}
    for name, (unit, _) in OUTCOMES.items():
        column = frame[name].to_numpy()[keep]
        if unit == "bool":
            values = np.zeros(shape, dtype=np.int8)
            values[codes, pos] = column.astype(bool)
        else:
            values = np.full(shape, np.nan)
            values[codes, pos] = column.astype(float)
        out[name] = values
    status = np.zeros(shape, dtype=np.int8)
    status[codes, pos] = (frame["status"].to_numpy()[keep] == "ok")
    out["status"] = status
    return out


def _read_samples(files: Sequence[Path], ids: np.ndarray, names: Sequence[str]) -> dict[str, np.ndarray]:
    """The sampled values of ``ids``, one array per varied parameter."""
    frame = _read(files, ["sample_id", *names])
    pos, _, keep = _positions(frame, ids, None)
    out = {}
    for name in names:
        values = np.full(ids.size, np.nan)
        values[pos[keep]] = frame[name].to_numpy(dtype=float)[keep]
        out[name] = values
    return out


def _read_trajectories(files: Sequence[Path], ids: np.ndarray, scenarios: Sequence[str], days: np.ndarray,
                       variables: Sequence[str]) -> dict[str, np.ndarray]:
    """Kept trajectories of ``ids`` as (scenario, sample, time) arrays (NaN where a sample failed)."""
    frame = _read(files)
    shape = (len(scenarios), ids.size, days.size)
    out = {var: np.full(shape, np.nan) for var in variables}
    if frame.empty:
        return out
    pos, codes, keep = _positions(frame, ids, scenarios)
    day = frame["day"].to_numpy(dtype=float)
    t = np.clip(np.searchsorted(days, day - 1e-6), 0, max(days.size - 1, 0))
    keep &= np.abs(days[t] - day) < 1e-6
    for var in variables:
        out[var][codes[keep], pos[keep], t[keep]] = frame[var].to_numpy(dtype=float)[keep]
    return out


def _drop_blank_panels(fig: Figure) -> Figure:
    """Remove panels that show nothing (no data, no legend) and shrink the figure to the rows left."""
    specs = {ax: ax.get_subplotspec() for ax in fig.axes}
    grid = {ax: spec for ax, spec in specs.items() if spec is not None}
    blank = [ax for ax in grid if not ax.has_data() and ax.get_legend() is None]
    if not blank:
        return fig
    for ax in blank:
        fig.delaxes(ax)
        del grid[ax]
    rows = sorted({spec.rowspan.start for spec in grid.values()})
    cols = max(spec.colspan.stop for spec in grid.values())
    width, height = fig.get_size_inches()
    before = next(iter(grid.values())).get_gridspec().nrows
    fig.set_size_inches(width, 0.5 + (height - 0.5) * len(rows) / before)
    new = fig.add_gridspec(len(rows), cols)
    for ax, spec in grid.items():
        ax.set_subplotspec(new[rows.index(spec.rowspan.start), spec.colspan.start])
        ax.xaxis.set_tick_params(labelbottom=True)  # a panel above a removed one keeps its dates
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return fig

def open_sweep(path: str | os.PathLike[str]) -> SweepResult:
    """Open a sweep directory for analysis.

    Parameters
    ----------
    path : str or path
        A directory written by ``sanctions-model sweep`` or :func:`run_sweep`.

    Returns
    -------
    SweepResult

    Raises
    ------
    InputError
        If ``path`` holds no sweep manifest, or is not a path.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise InputError(f"open_sweep: give the path of a sweep directory, got {type(path).__name__} {path!r}.")
    return SweepResult(path)
