"""Shared fixtures: the base parameters as plain values, helpers to run a batch and the command line."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess

import numpy as np
import pytest

from sanctions_model.core.solve import integrate
from sanctions_model.inputs.params import load_params


@pytest.fixture(scope="session")
def base_values() -> dict[str, float]:
    return load_params().values()


def run_values(values, days=730, **kwargs):
    """Integrate a batch given as plain values (no range checks: extreme tests need that)."""
    return integrate(values, days, **kwargs)


def with_changes(values, **changes):
    out = dict(values)
    for key, val in changes.items():
        out[key.replace("__", ".")] = val
    return out


def assert_all_finite(x):
    assert np.isfinite(x).all()


def run_cli(*args: object, cwd: object = None) -> subprocess.CompletedProcess:
    """Run ``sanctions-model ARGS`` in this process through ``cli.main`` (what the console script
    calls), in ``cwd`` if given; exit status and output as a subprocess's. Saves an interpreter
    start per command; tests/test_docs_commands.py runs the installed script itself, and
    tests/test_faults.py signals real processes."""
    from sanctions_model.cli import main

    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(argv)
            except SystemExit as exc:  # --help, --version
                status = exc.code if isinstance(exc.code, int) else 0
    finally:
        os.chdir(here)
    return subprocess.CompletedProcess(["sanctions-model", *argv], status, out.getvalue(), err.getvalue())
