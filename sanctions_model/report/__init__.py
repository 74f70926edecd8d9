"""Reports: the files a run, a comparison or a study writes, each directory written whole or not at all.

Everything here renders data it is given (a run, a study); nothing runs the model or opens a
parameter file. ``sanctions_model.jobs`` runs a study and has it written.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis.projection import ConstrainedProjection
from ..analysis.studies import ComparisonStudy
from ..inputs.resources import standing_inputs
from ..outdir import atomic_directory, check_target
from ..runs.ensemble import SHARES
from ..runs.run import RunResult
from .figures import scenario_figures, trajectories_figure
from .markdown import comparison_report, run_report
from .projection import WHY, constrained_lines, ensemble_provenance


def _json_value(v: object) -> object:
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    v = float(v)  # type: ignore[arg-type]
    return None if math.isnan(v) else v


def run_shares(run: RunResult) -> pd.DataFrame:
    """A run's chances as :data:`~sanctions_model.runs.ensemble.SHARES` (one row, the run's label)."""
    frame = run.outcomes.to_frame().T
    return pd.DataFrame({share: [float(f(frame).iloc[0])] for share, f in SHARES.items()}, index=[run.label])


def write_run(run: RunResult, out: Path | str, command: str, force: bool = False,
              constrained: tuple[ConstrainedProjection | None, str] | None = None) -> Path:
    """Write ``trajectories.csv``, ``outcomes.json``, ``trajectories.png`` and ``report.md`` into ``out``.

    ``constrained`` is the run's scenario projected from the constrained ensemble's members (or None
    and why not); its chances head the report, beside the run's. Without it the report has the run
    alone.
    """
    out = Path(out)
    with atomic_directory(out, force=force, inputs=standing_inputs()) as tmp:
        run.trajectories.to_csv(tmp / "trajectories.csv", float_format="%.10g")
        payload = {
            "outcomes": {k: bool(v) if run.units[k] == "bool" else _json_value(v) for k, v in run.outcomes.items()},
            "units": {k: run.units[k] for k in run.outcomes.index},
            "provenance": {**run.provenance(), "command": command},
        }
        (tmp / "outcomes.json").write_text(json.dumps(payload, indent=2) + "\n")
        trajectories_figure([run], tmp / "trajectories.png", f"sanctions-model: {run.label}")
        lines = [] if constrained is None else constrained_lines(
            *constrained, run_shares(run), "central assumptions", run.days,
            why="The run is one set of assumptions (each at its central value) from the state of 2025-01-20; the "
                "members are the sets of assumptions that fit the record, each from its own state.")
        if constrained is not None and constrained[0] is not None:
            constrained[0].outcomes.to_csv(tmp / "constrained.csv", float_format="%.10g", index=False)
        (tmp / "report.md").write_text(run_report(run, "trajectories.png", command, lines,
                                                  ensemble_provenance(constrained[0] if constrained else None)))
    return out


def write_comparison(study: ComparisonStudy, out: Path | str, command: str, force: bool = False) -> Path:
    """Write a comparison of scenarios side by side, with figures, into ``out``.

    Parameters
    ----------
    study : ComparisonStudy
        From :func:`sanctions_model.analysis.studies.comparison_study`.
    out : path
        Output directory, written whole or not at all; an existing one needs ``force``.
    command : str
        The command line recorded in the provenance table.
    force : bool
        Replace an existing ``out``.

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    check_target(out, force, standing_inputs())
    runs, ensemble, days, samples, seed = study.runs, study.ensemble, study.days, study.samples, study.seed
    scenarios = study.scenarios
    shares = ensemble.shares() if ensemble is not None else None
    out = Path(out)
    with atomic_directory(out, force=force, inputs=standing_inputs()) as tmp:
        figures = scenario_figures(runs, ensemble, tmp, samples,
                                   study.constrained.fans if study.constrained is not None else None)
        if shares is not None:
            shares.to_csv(tmp / "uncertainty.csv", float_format="%.6g", index_label="scenario")
        table = pd.DataFrame({r.label: r.outcomes for r in runs})
        table.to_csv(tmp / "outcomes.csv", float_format="%.10g", index_label="outcome")
        settings = {"scenarios": ", ".join(scenarios), "horizon": f"{days:g} days",
                    "samples per scenario": samples, "seed": seed if samples > 0 or study.constrained else "none",
                    "constrained ensemble": ensemble_provenance(study.constrained)}
        beside = shares if shares is not None else pd.concat([run_shares(r) for r in runs])
        lines = constrained_lines(
            study.constrained, study.constrained_note, beside,
            "all sets" if shares is not None else "central assumptions", days,
            why=WHY)
        if study.constrained is not None:
            study.constrained.outcomes.to_csv(tmp / "constrained.csv", float_format="%.10g", index=False)
        (tmp / "report.md").write_text(comparison_report(runs, shares, figures, settings, command, lines))
    return out
