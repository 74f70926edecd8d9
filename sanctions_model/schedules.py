"""Policy levers as schedules over time, shaped as En-ROADS shapes its levers.

A lever holds ``initial`` until ``start_day``, then moves linearly to ``level`` over
``phase_in_days`` (0 gives a step). A scenario may add further steps: step k moves the
lever from the level before it to ``L.stepk.level``, starting on ``L.stepk.start_day``,
over ``L.stepk.phase_in_days`` (the parameters ``L.step1.*``, ``L.step2.*``, ... that
``[[step]]`` tables of a scenario file create). All functions take arrays over a batch of
parameter sets and broadcast against ``t``; nothing here knows about files or pandas.
"""

from __future__ import annotations

from collections.abc import Container, Mapping

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


#: Parameters that are not policy levers but may follow a path over time (``[[step]]`` with
#: ``parameter = ...`` in a scenario file): exogenous drivers a back-test needs to follow as
#: recorded. Any other parameter is constant over a run.
DRIVERS = (
    "oil.brent_price",
    "oil.export_volume_potential",
    "fiscal.non_oil_revenue",
    "fiscal.defence_spending",
    "fiscal.civilian_spending",
    "forces.russia_recruitment",
    "forces.russia_casualties",
    "forces.ukraine_recruitment",
    "forces.territory_recorded",
    "macro.rub_per_usd",
)


def at_time(t: float | np.ndarray, p: Mapping[str, np.ndarray]) -> Mapping[str, np.ndarray]:
    """``p`` with every driver that has steps replaced by its value at ``t`` (``p`` itself if none has),
    and its rate of change at ``t`` added as ``NAME.slope`` [unit per day].

    A driver holds its value until its first step, then moves by ramps exactly as a lever's
    further steps do.
    """
    stepped = [name for name in DRIVERS if f"{name}.step1.level" in p]
    if not stepped:
        return p
    out = dict(p)
    tt = np.asarray(t)
    for name in stepped:
        value, before = p[name], p[name]
        slope = np.zeros(np.broadcast_shapes(tt.shape, np.shape(value)))
        for step in steps(p, name):
            level, start, phase = p[f"{step}.level"], p[f"{step}.start_day"], p[f"{step}.phase_in_days"]
            value = value + (level - before) * ramp_fraction(t, start, phase)
            inside = (tt >= start) & (tt < start + phase) & (phase > 0)
            slope = slope + np.where(inside, (level - before) / np.where(phase > 0, phase, 1.0), 0.0)
            before = level
        out[name] = value
        out[f"{name}.slope"] = slope
    return out


def driver_rate(p: Mapping[str, np.ndarray], name: str) -> np.ndarray:
    """Rate of change of the driver ``name`` [its unit per day] in ``p`` as :func:`at_time` returns
    it (the sum of the slopes of the ramps under way); 0 for a driver without steps."""
    return p.get(f"{name}.slope", np.zeros(np.shape(p[name])))


def steps(p: Container[str], lever: str) -> list[str]:
    """Prefixes of the extra steps of ``lever`` in ``p`` (``"sanctions.step1"``, ...), in order."""
    out: list[str] = []
    while f"{lever}.step{len(out) + 1}.level" in p:
        out.append(f"{lever}.step{len(out) + 1}")
    return out


def _ramps(p: Mapping[str, np.ndarray], lever: str) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(change of level, start day, phase-in days) of the main ramp and of every step."""
    level = p[f"{lever}.level"]
    ramps = [(level - p[f"{lever}.initial"], p[f"{lever}.start_day"], p[f"{lever}.phase_in_days"])]
    for step in steps(p, lever):
        ramps.append((p[f"{step}.level"] - level, p[f"{step}.start_day"], p[f"{step}.phase_in_days"]))
        level = p[f"{step}.level"]
    return ramps


def lever_value(t: float | np.ndarray, p: Mapping[str, np.ndarray], lever: str) -> np.ndarray:
    """Value of ``lever`` at time ``t`` [the lever's unit]."""
    initial, level = p[f"{lever}.initial"], p[f"{lever}.level"]
    if f"{lever}.step1.level" not in p:
        if np.shape(t) == () and np.array_equal(initial, level):  # a lever that does not move
            return initial
        return initial + (level - initial) * ramp_fraction(t, p[f"{lever}.start_day"], p[f"{lever}.phase_in_days"])
    value = initial
    for change, start, phase in _ramps(p, lever):
        value = value + change * ramp_fraction(t, start, phase)
    return value


def lever_rate(t: float | np.ndarray, p: Mapping[str, np.ndarray], lever: str) -> np.ndarray:
    """Rate of change of ``lever`` at ``t`` [the lever's unit per day].

    Used for cumulative levers (the frozen-asset transfer), whose rate is the flow.
    A step (phase-in 0) has no finite rate and gives 0; such levers require a phase-in.
    """
    t = np.asarray(t)
    rate = np.zeros(np.broadcast_shapes(t.shape, np.shape(p[f"{lever}.level"])))
    for change, start, phase in _ramps(p, lever):
        inside = (t >= start) & (t < start + phase) & (phase > 0)
        rate = rate + np.where(inside, change / np.where(phase > 0, phase, 1.0), 0.0)
    return rate


def breakpoints(p: Mapping[str, np.ndarray], horizon: float) -> np.ndarray:
    """Sorted days in (0, horizon) where any lever or driver of any batch member starts or ends a
    phase, and the day the model takes over the front from a recorded territory path.

    Integrating piecewise between these days keeps steps and kinks out of the solver's steps.
    """
    days = []
    for lever in LEVERS:
        for prefix in (lever, *steps(p, lever)):
            start = np.atleast_1d(p[f"{prefix}.start_day"])
            end = start + np.atleast_1d(p[f"{prefix}.phase_in_days"])
            days.extend([start, end])
    for name in DRIVERS:
        for prefix in steps(p, name):
            start = np.atleast_1d(p[f"{prefix}.start_day"])
            end = start + np.atleast_1d(p[f"{prefix}.phase_in_days"])
            days.extend([start, end])
    if "forces.territory_imposed_days" in p:
        days.append(np.atleast_1d(p["forces.territory_imposed_days"]))
    allday = np.unique(np.concatenate(days))
    return allday[(allday > 0) & (allday < horizon)]
