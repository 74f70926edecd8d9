"""Policy levers as schedules over time, shaped as En-ROADS shapes its levers.

A lever holds ``initial`` until ``start_day``, then moves linearly to ``level`` over
``phase_in_days`` (0 gives a step). All functions take arrays over a batch of parameter
sets and broadcast against ``t``; nothing here knows about files or pandas.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

#: The model's levers, in the order the docs list them.
LEVERS = (
    "sanctions",
    "secondary_tariffs",
    "relief_offer",
    "us_aid",
    "other_aid",
    "frozen_assets",
    "security_arrangement",
    "us_backstop",
    "ally_pressure",
)


def ramp_fraction(t: float | np.ndarray, start: np.ndarray, phase_in_days: np.ndarray) -> np.ndarray:
    """Fraction of the way from ``initial`` to ``level`` at time ``t`` [0-1].

    Parameters
    ----------
    t : float or array [day]
    start : array [day]
        Day the schedule starts to move.
    phase_in_days : array [day]
        Length of the linear phase-in; 0 makes a step at ``start``.
    """
    elapsed = np.asarray(t) - start
    width = np.where(phase_in_days > 0, phase_in_days, 1.0)
    ramp = np.clip(elapsed / width, 0.0, 1.0)
    return np.where(phase_in_days > 0, ramp, (elapsed >= 0).astype(float))


def lever_value(t: float | np.ndarray, p: Mapping[str, np.ndarray], lever: str) -> np.ndarray:
    """Value of ``lever`` at time ``t`` [the lever's unit]."""
    initial, level = p[f"{lever}.initial"], p[f"{lever}.level"]
    if np.shape(t) == () and np.array_equal(initial, level):  # a lever that does not move
        return initial
    frac = ramp_fraction(t, p[f"{lever}.start_day"], p[f"{lever}.phase_in_days"])
    return initial + (level - initial) * frac


def lever_rate(t: float | np.ndarray, p: Mapping[str, np.ndarray], lever: str) -> np.ndarray:
    """Rate of change of ``lever`` at ``t`` [the lever's unit per day].

    Used for cumulative levers (the frozen-asset transfer), whose rate is the flow.
    A step (phase-in 0) has no finite rate and gives 0; such levers require a phase-in.
    """
    start, phase = p[f"{lever}.start_day"], p[f"{lever}.phase_in_days"]
    t = np.asarray(t)
    inside = (t >= start) & (t < start + phase) & (phase > 0)
    width = np.where(phase > 0, phase, 1.0)
    return np.where(inside, (p[f"{lever}.level"] - p[f"{lever}.initial"]) / width, 0.0)


def breakpoints(p: Mapping[str, np.ndarray], horizon: float) -> np.ndarray:
    """Sorted days in (0, horizon) where any lever of any batch member starts or ends a phase.

    Integrating piecewise between these days keeps steps and kinks out of the solver's steps.
    """
    days = []
    for lever in LEVERS:
        start = np.atleast_1d(p[f"{lever}.start_day"])
        end = start + np.atleast_1d(p[f"{lever}.phase_in_days"])
        days.extend([start, end])
    allday = np.unique(np.concatenate(days))
    return allday[(allday > 0) & (allday < horizon)]
