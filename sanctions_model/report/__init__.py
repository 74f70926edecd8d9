"""Reports: the files a run or a comparison writes, each directory written whole or not at all."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..outdir import atomic_directory, check_target
from ..runs.ensemble import run_ensemble
from ..runs.run import RunResult, simulate
from .figures import fan_figure, trajectories_figure, uncertainty_figure
from .markdown import comparison_report, run_report


def _json_value(v: object) -> object:
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    v = float(v)  # type: ignore[arg-type]
    return None if math.isnan(v) else v


def write_run(run: RunResult, out: Path | str, command: str, force: bool = False) -> Path:
    """Write ``trajectories.csv``, ``outcomes.json``, ``trajectories.png`` and ``report.md`` into ``out``."""
    out = Path(out)
    with atomic_directory(out, force=force) as tmp:
        run.trajectories.to_csv(tmp / "trajectories.csv", float_format="%.10g")
        payload = {
            "outcomes": {k: bool(v) if run.units[k] == "bool" else _json_value(v) for k, v in run.outcomes.items()},
            "units": {k: run.units[k] for k in run.outcomes.index},
            "provenance": {**run.provenance(), "command": command},
        }
        (tmp / "outcomes.json").write_text(json.dumps(payload, indent=2) + "\n")
        trajectories_figure([run], tmp / "trajectories.png", f"sanctions-model: {run.label}")
        (tmp / "report.md").write_text(run_report(run, "trajectories.png", command))
    return out


def write_comparison(
    scenarios: Sequence[str],
    out: Path | str,
    command: str,
    *,
    days: float = 730,
    samples: int = 256,
    seed: int = 20250120,
    force: bool = False,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Run each scenario, and write a side-by-side report with figures into ``out``; ``log``
    receives one line once every check has passed and the work starts."""
    from ..inputs.params import load_params
    from ..limits import check_memory
    from ..runs.designs import uncertainties

    for name in scenarios:  # every scenario whole (names, values, restated ranges) before any work
        load_params(name)
    check_target(out, force)
    check_memory(float(samples) * len(uncertainties(load_params())) * len(scenarios),
                 f"{samples:,} sampled sets per scenario")
    if log is not None:
        log(f"running {len(scenarios)} scenarios, each at its central assumptions"
            + (f" and over {samples:,} sampled assumption sets" if samples else "") + " ...")
    runs = [simulate(name, days=days) for name in scenarios]
    # the runs' own labels and parameters, so that a scenario given as a path is the same everywhere
    ensemble = run_ensemble([(r.label, r.params) for r in runs], days, samples, seed) if samples > 0 else None
    shares = ensemble.shares() if ensemble is not None else None
    out = Path(out)
    with atomic_directory(out, force=force) as tmp:
        figures = {"trajectories": "scenarios.png"}
        trajectories_figure(runs, tmp / figures["trajectories"], "Key trajectories by scenario")
        if ensemble is not None and shares is not None:
            figures["uncertainty"] = "uncertainty.png"
            uncertainty_figure(shares, tmp / figures["uncertainty"], samples)
            shares.to_csv(tmp / "uncertainty.csv", float_format="%.6g", index_label="scenario")
            for run in runs:
                figures[f"fan:{run.label}"] = f"fan-{run.label}.png"
                fan_figure(ensemble.fans[run.label], run, tmp / figures[f"fan:{run.label}"], samples)
        table = pd.DataFrame({r.label: r.outcomes for r in runs})
        table.to_csv(tmp / "outcomes.csv", float_format="%.10g", index_label="outcome")
        settings = {"scenarios": ", ".join(scenarios), "horizon": f"{days:g} days",
                    "samples per scenario": samples, "seed": seed if samples > 0 else "none"}
        (tmp / "report.md").write_text(comparison_report(runs, shares, figures, settings, command))
    return out
