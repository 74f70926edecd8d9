"""A finished (or partial) sweep, read back for analysis: tables, shares, fan charts, xarray.

>>> sw = sm.open_sweep("out/lhs")          # or the value run_sweep() returns
>>> sw.outcomes.groupby("scenario")["talks_within_100_days"].mean()
>>> sw.plot()                              # fan charts of the kept trajectories
>>> sw.to_xarray().to_netcdf("lhs.nc")     # scenario x sample x time x variable
"""

from __future__ import annotations

import json
import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .ensemble import percentile_table, share_row
from .errors import InputError, suggest
from .model import FLOWS, STATES
from .outcomes import OUTCOMES

if TYPE_CHECKING:
    import xarray as xr
    from matplotlib.figure import Figure

MANIFEST = "manifest.json"


class SweepResult(os.PathLike):
    """A sweep directory written by :func:`sanctions_model.sweep.run_sweep`.

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
        from .sweep import read_sweep

        return read_sweep(self.path, "samples")

    @cached_property
    def outcomes(self) -> pd.DataFrame:
        """One row per sample and scenario: ``status``, ``message`` and every outcome."""
        from .sweep import read_sweep

        return read_sweep(self.path, "outcomes")

    @cached_property
    def trajectories(self) -> pd.DataFrame:
        """Long table: ``sample_id``, ``scenario``, ``day`` and each kept variable."""
        from .sweep import read_sweep

        if not self.variables:
            raise InputError(f"{self.path}: this sweep kept no trajectories (run it with --trajectories).")
        return read_sweep(self.path, "trajectories")

    # -- summaries -----------------------------------------------------------------------

    def shares(self) -> pd.DataFrame:
        """Share of successful samples with each outcome of :data:`sanctions_model.ensemble.SHARES`.

        Returns
        -------
        pandas.DataFrame
            Scenario x outcome, shares 0-1, with a column ``n`` of samples counted.
        """
        ok = self.outcomes[self.outcomes["status"] == "ok"]
        rows = {}
        for name in self.scenarios:
            df = ok[ok["scenario"] == name]
            rows[name] = {**share_row(df), "n": len(df)}
        return pd.DataFrame.from_dict(rows, orient="index")

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
        from .params import load_base
        from .report.figures import fan_figure

        scenario = self._scenario(scenario)
        start = pd.Timestamp(load_base().start_date)
        n = int((self.outcomes["scenario"] == scenario).sum())
        return fan_figure(self.fans(scenario), None, None, n, start=start,
                          title=f"sweep {self.path.name}, scenario {scenario}: the range over {n:,} samples")

    def _scenario(self, scenario: str | None) -> str:
        if scenario is None:
            return self.scenarios[0]
        if scenario not in self.scenarios:
            raise InputError(f"scenario '{scenario}' is not in this sweep.{suggest(scenario, self.scenarios)} "
                             f"It holds: {', '.join(self.scenarios)}.")
        return scenario

    # -- interop -------------------------------------------------------------------------

    def to_xarray(self) -> xr.Dataset:
        """The sweep as an :class:`xarray.Dataset`.

        Returns
        -------
        xarray.Dataset
            Dimensions ``scenario``, ``sample`` and, if trajectories were kept, ``time``
            (with a ``day`` coordinate, days after the start). Data variables: each kept
            trajectory variable (scenario x sample x time), each outcome (scenario x
            sample; yes/no outcomes as 0/1 integers, or 0.0/1.0 with NaN where a sample
            failed), each varied parameter (sample) and ``status`` (scenario x sample,
            1 = ok). Units are in each variable's ``units`` attribute; the design, seed
            and parameter hashes in the dataset's attributes.
        """
        import xarray as xr

        from .params import load_base

        outcomes = self.outcomes.set_index(["scenario", "sample_id"])
        samples = self.samples.set_index("sample_id")
        ids = samples.index.to_numpy()
        full = pd.MultiIndex.from_product([self.scenarios, ids], names=["scenario", "sample_id"])
        outcomes = outcomes.reindex(full)
        shape = (len(self.scenarios), len(ids))
        data: dict[str, tuple] = {}
        for name, (unit, meaning) in OUTCOMES.items():
            column = outcomes[name]
            if unit == "bool" and column.notna().all():
                values = column.to_numpy().astype("int8")
            else:  # a failed sample has no outcomes: NaN (yes/no as 1.0/0.0 then)
                values = column.astype(float).to_numpy()
            data[name] = (("scenario", "sample"), values.reshape(shape), {"units": unit, "long_name": meaning})
        ok = (outcomes["status"] == "ok").to_numpy().astype("int8").reshape(shape)
        data["status"] = (("scenario", "sample"), ok, {"long_name": "1 if the sample solved, 0 if it failed"})
        for name in samples.columns:
            data[name] = (("sample",), samples[name].to_numpy(), {"long_name": f"sampled value of {name}"})
        coords: dict[str, object] = {"scenario": self.scenarios, "sample": ids}
        if self.variables:
            traj = self.trajectories.set_index(["scenario", "sample_id", "day"]).sort_index()
            days = np.unique(traj.index.get_level_values("day").to_numpy())
            full = pd.MultiIndex.from_product([self.scenarios, ids, days])
            traj = traj.reindex(full)
            for var in self.variables:
                unit = STATES.get(var, FLOWS.get(var, ""))
                data[var] = (("scenario", "sample", "time"), traj[var].to_numpy().reshape(*shape, days.size),
                             {"units": unit})
            start = pd.Timestamp(load_base().start_date)
            coords["time"] = start + pd.to_timedelta(days, unit="D")
            coords["day"] = ("time", days, {"units": "day", "long_name": "days after the start"})
        settings = self.settings
        attrs = {"title": "sanctions-model sweep", "source": str(self.path), "version": str(settings["version"]),
                 "design": str(settings["design"]["kind"]), "seed": int(settings["design"]["seed"]),
                 "days": float(settings["days"]),
                 "parameter_hashes": json.dumps(settings["scenarios"]), "complete": int(self.complete)}
        return xr.Dataset(data, coords=coords, attrs=attrs)

    def to_netcdf(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_xarray` to a netCDF file (netCDF3, via SciPy: no extra dependency).

        Parameters
        ----------
        path : path
            The file to write.

        Returns
        -------
        pathlib.Path
        """
        from .outdir import check_file

        path = check_file(path, force=True)  # the parent must exist; an existing file is replaced
        self.to_xarray().to_netcdf(path, engine="scipy")
        return path

    def to_zarr(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_xarray` to a Zarr store (needs the ``zarr`` package).

        Parameters
        ----------
        path : path
            The store to create; it must not exist.

        Returns
        -------
        pathlib.Path
        """
        try:
            import zarr  # noqa: F401
        except ImportError:
            raise InputError("writing Zarr needs the zarr package: pip install zarr") from None
        path = Path(path)
        self.to_xarray().to_zarr(path, mode="w-")
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
        from .report.markdown import markdown_table

        head, table = self._summary()
        return f"**{head}**\n\n{markdown_table(table)}\n"


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
        If ``path`` holds no sweep manifest.
    """
    return SweepResult(path)
