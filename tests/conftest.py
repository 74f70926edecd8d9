"""Shared fixtures: the base parameters as plain values, and a helper to run a batch."""

from __future__ import annotations

import numpy as np
import pytest

from sanctions_model.params import load_params
from sanctions_model.solve import integrate


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
