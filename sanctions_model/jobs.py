"""What each reporting command does: check its settings and its output directory, run the
study (``analysis/studies.py``), have ``report/`` write it. The command line calls these.

A job refuses a bad setting or an existing output directory before any work, so that
minutes of runs are never lost to a typo at the end.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .analysis.studies import check_full_study, comparison_study, full_study
from .inputs.resources import standing_inputs
from .outdir import check_target


def _log_to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def full_report(
    out: Path | str,
    command: str,
    *,
    scenarios: Sequence[str] | None = None,
    days: float = 730,
    samples: int = 1000,
    sobol_n: int = 1024,
    seed: int = 20250120,
    force: bool = False,
    workers: int | None = None,
    ensemble_path: str | os.PathLike[str] | None | bool = None,
    log: Callable[[str], None] = _log_to_stderr,
) -> Path:
    """Run the full analysis and write it as one report into ``out`` (``sanctions-model report``).

    Parameters
    ----------
    out : path
        Output directory, written whole or not at all; an existing one needs ``force``.
    command : str
        The command line recorded in the provenance table.
    scenarios : list of str, optional
        Scenarios to compare (default: every file in ``params/scenarios``).
    days : float [day]
        Horizon after 2025-01-20.
    samples : int
        Latin-hypercube assumption sets per scenario.
    sobol_n : int
        Base samples of the Sobol' analysis, a power of 2.
    seed : int
        Seed of every sample.
    force : bool
        Replace an existing ``out``.
    workers : int, optional
        Local processes (default: every core); the numbers do not depend on it.
    ensemble_path : path, None or False
        The constrained ensemble whose members the summary also projects (None: the default,
        ``params/constrained-ensemble.parquet``; False: none, the unconstrained sets only).
    log : callable
        Receives one line per stage (default: standard error).

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    from .report.full import write_report

    check_full_study(scenarios, days=days, samples=samples, sobol_n=sobol_n, workers=workers)
    check_target(out, force, standing_inputs())
    study = full_study(scenarios, days=days, samples=samples, sobol_n=sobol_n, seed=seed, workers=workers,
                       ensemble_path=ensemble_path, log=log)
    log("[6/6] writing the report")
    return write_report(study, out, command, force=force)


def comparison(
    scenarios: Sequence[str],
    out: Path | str,
    command: str,
    *,
    days: float = 730,
    samples: int = 256,
    seed: int = 20250120,
    force: bool = False,
    ensemble_path: str | os.PathLike[str] | None | bool = None,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Run each scenario and write them side by side into ``out`` (``sanctions-model compare``).

    Parameters
    ----------
    scenarios : list of str
        Scenario names or files.
    out : path
        Output directory, written whole or not at all; an existing one needs ``force``.
    command : str
        The command line recorded in the provenance table.
    days : float [day]
    samples : int
        Sampled assumption sets per scenario (0: the central runs only).
    seed : int
    force : bool
    ensemble_path : path, None or False
        The constrained ensemble whose members are also projected under each scenario (None: the
        default, ``params/constrained-ensemble.parquet``; False: none).
    log : callable, optional
        Hears one line once every check has passed and the work starts.

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    from .report import write_comparison

    check_target(out, force, standing_inputs())
    study = comparison_study(scenarios, days=days, samples=samples, seed=seed, ensemble_path=ensemble_path,
                             log=log if log is not None else (lambda _: None))
    return write_comparison(study, out, command, force=force)
