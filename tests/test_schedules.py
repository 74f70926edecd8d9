"""Lever schedules: start, phase-in and level, as En-ROADS shapes them."""

from __future__ import annotations

import numpy as np
from scipy.integrate import quad

from sanctions_model.schedules import breakpoints, lever_rate, lever_value


def lever(initial, level, start, phase):
    return {f"x.{k}": np.array([v], float) for k, v in
            dict(initial=initial, level=level, start_day=start, phase_in_days=phase).items()}


def test_ramp_holds_then_moves_linearly_then_holds():
    p = lever(0.2, 0.8, 10, 20)
    t = np.array([0, 10, 20, 30, 40])
    np.testing.assert_allclose(lever_value(t, p, "x"), [0.2, 0.2, 0.5, 0.8, 0.8])


def test_zero_phase_is_a_step():
    p = lever(0.0, 1.0, 5, 0)
    np.testing.assert_allclose(lever_value(np.array([4.999, 5.0, 6]), p, "x"), [0, 1, 1])


def test_rate_integrates_to_the_change():
    p = lever(0.0, 300.0, 30, 365)
    total, _ = quad(lambda t: float(lever_rate(t, p, "x")[0]), 0, 500, points=[30, 395], limit=200)
    assert abs(total - 300.0) < 1e-6


def test_breakpoints_cover_every_lever_edge(base_values):
    p = {k: np.atleast_1d(v) for k, v in base_values.items()}
    p["sanctions.start_day"] = np.array([12.5])
    p["sanctions.phase_in_days"] = np.array([40.0])
    bp = breakpoints(p, 730)
    assert 12.5 in bp and 52.5 in bp
    assert np.all(np.diff(bp) > 0) and bp.min() > 0 and bp.max() < 730
