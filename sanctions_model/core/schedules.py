"""Policy levers as schedules over time, shaped as En-ROADS shapes its levers.

A lever holds ``initial`` until ``start_day``, then moves linearly to ``level`` over
``phase_in_days`` (0 gives a step). A scenario may add further steps: step k moves the
lever from the level before it to ``L.stepk.level``, starting on ``L.stepk.start_day``,
over ``L.stepk.phase_in_days`` (the parameters ``L.step1.*``, ``L.step2.*``, ... that
``[[step]]`` tables of a scenario file create). All functions take arrays over a batch of
parameter sets and broadcast against ``t``; nothing here knows about files or pandas.
"""

from __future__ import annotations

from collections.abc import Container, Iterator, Mapping

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
    "fiscal.rule_active",
    "fiscal.rule_uses_base_price",
    "fiscal.fund_sales",
    "fiscal.ofz_market_open",
    "forces.russia_recruitment",
    "forces.russia_casualties",
    "forces.ukraine_recruitment",
    "forces.territory_recorded",
    "macro.rub_per_usd",
    "macro.gold_price",
)


def at_time(t: float | np.ndarray, p: Mapping[str, np.ndarray]) -> Mapping[str, np.ndarray]:
    """``p`` with every driver that has steps replaced by its value at ``t`` (``p`` itself if none has),
    and its rate of change at ``t`` added as ``NAME.slope`` [unit per day].

    A driver holds its value until its first step, then moves by ramps exactly as a lever's
    further steps do. Given a batch from :func:`compiled` and one time, every lever and driver
    is evaluated in one vectorised pass (the levers' values and rates are added as
    ``LEVER.now`` and ``LEVER.rate``, which :func:`lever_value` and :func:`lever_rate` read).
    Otherwise (times along a run's output, say) each driver is worked out when it is first read:
    the decision core reads none of the economy's, and the history's exchange rate alone has
    dozens of steps.
    """
    schedule = getattr(p, "schedule", None)
    if schedule is not None and np.ndim(t) == 0:
        return schedule.at(float(t), p)
    stepped = [name for name in DRIVERS if f"{name}.step1.level" in p]
    if not stepped:
        return p
    return _DriversAt(t, p, stepped)


def driver_at(t: float | np.ndarray, p: Mapping[str, np.ndarray], name: str) -> tuple[np.ndarray, np.ndarray]:
    """Driver ``name``'s value at ``t`` and its slope there [unit per day], from its steps in ``p``."""
    tt = np.asarray(t)
    value, before = p[name], p[name]
    slope = np.zeros(np.broadcast_shapes(tt.shape, np.shape(value)))
    for step in steps(p, name):
        level, start, phase = p[f"{step}.level"], p[f"{step}.start_day"], p[f"{step}.phase_in_days"]
        value = value + (level - before) * ramp_fraction(t, start, phase)
        inside = (tt >= start) & (tt < start + phase) & (phase > 0)
        slope = slope + np.where(inside, (level - before) / np.where(phase > 0, phase, 1.0), 0.0)
        before = level
    return value, slope


class _DriversAt(Mapping[str, np.ndarray]):
    """``p`` read through (not copied: ``p`` may take its values on read, core/rows.py), with each
    stepped driver's value and ``.slope`` at ``t`` worked out on first read (:func:`driver_at`)."""

    def __init__(self, t: float | np.ndarray, p: Mapping[str, np.ndarray], stepped: list[str]) -> None:
        self._t, self._p = t, p
        self._slopes = {f"{name}.slope": name for name in stepped}
        self._stepped = set(stepped)
        self._at: dict[str, np.ndarray] = {}

    def __getitem__(self, key: str) -> np.ndarray:
        if key in self._at:
            return self._at[key]
        name = self._slopes.get(key, key)
        if name not in self._stepped:
            return self._p[key]
        self._at[name], self._at[f"{name}.slope"] = driver_at(self._t, self._p, name)
        return self._at[key]

    def __contains__(self, key: object) -> bool:
        return key in self._slopes or key in self._p

    def __iter__(self) -> Iterator[str]:
        yield from self._p
        yield from (key for key in self._slopes if key not in self._p)

    def __len__(self) -> int:
        return len(self._p) + sum(key not in self._p for key in self._slopes)


class Schedule:
    """Every lever's and every stepped driver's schedule of a batch, compiled once into arrays.

    ``change[k, s]``, ``start[k, s]`` and ``phase[k, s]`` describe the k-th ramp of schedule
    ``s`` for every member (schedules with fewer ramps are padded with ramps that change
    nothing). :meth:`at` evaluates all of them at one time with a handful of array operations,
    in the same order of operations as :func:`lever_value` and :func:`at_time`, so the values
    are the same to the last bit. The parameters' string keys are read here, once per batch,
    instead of on every evaluation of the right-hand side.

    The solver compiles a batch once per integration and :meth:`restricted` gives each segment
    its window. Given the window ``[a, b]`` of times it will be asked about (the solver's segment between
    two breakpoints), ramps finished for every member by ``a`` are added into the starting
    value once, and ramps that start after ``b`` are dropped: inside a segment of the
    history's 44 steps, usually one ramp per schedule is left to evaluate, or none.
    """

    def __init__(self, p: Mapping[str, np.ndarray], a: float = -np.inf, b: float = np.inf) -> None:
        self.levers = LEVERS
        self.drivers = tuple(name for name in DRIVERS if f"{name}.step1.level" in p)
        schedules: list[tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray, np.ndarray]]]] = []
        for lever in self.levers:
            schedules.append((p[f"{lever}.initial"], _ramps(p, lever)))
        for name in self.drivers:
            before, ramps = p[name], []
            for step in steps(p, name):
                level = p[f"{step}.level"]
                ramps.append((level - before, p[f"{step}.start_day"], p[f"{step}.phase_in_days"]))
                before = level
            schedules.append((p[name], ramps))
        shape = np.broadcast_shapes(*(np.shape(x) for base, ramps in schedules
                                      for x in (base, *(y for r in ramps for y in r))))
        depth = max(len(ramps) for _, ramps in schedules)
        size = (depth, len(schedules), *shape)
        change, start, phase = np.zeros(size), np.full(size, np.inf), np.zeros(size)  # padding never starts
        for s, (_, ramps) in enumerate(schedules):
            for k, (c, t0, w) in enumerate(ramps):
                change[k, s], start[k, s], phase[k, s] = c, t0, w
        base = np.stack([np.broadcast_to(np.asarray(b0, dtype=float), shape) for b0, _ in schedules])
        # the keys at_time fills, in schedule order: each lever's value and rate, each driver's value and slope
        self.keys = tuple([(f"{lever}.now", f"{lever}.rate") for lever in self.levers]
                          + [(name, f"{name}.slope") for name in self.drivers])
        self._window(_Ramps(base, change, start, phase), a, b)

    def _window(self, full: _Ramps, a: float, b: float) -> None:
        self.a, self.b = a, b
        self.full = full
        self.window = full.within(a, b) if np.isfinite(a) and np.isfinite(b) else full
        self._of: Mapping[str, np.ndarray] | None = None
        self._out: dict[str, np.ndarray] | None = None
        self._stale = False

    def restricted(self, members: np.ndarray | None, a: float, b: float) -> Schedule:
        """The same schedules for some ``members`` only (None: all), mostly asked about in ``[a, b]``.

        Cheap: no parameter is read again; the solver compiles a batch once and restricts it to
        each segment (and to the members still on the explicit method)."""
        new = object.__new__(Schedule)
        new.levers, new.drivers, new.keys = self.levers, self.drivers, self.keys
        new._window(self.full if members is None else self.full.take(members), a, b)
        return new

    def at(self, t: float, p: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """``p`` with the drivers at ``t`` and their ``.slope``, and ``LEVER.now`` and ``LEVER.rate``.

        The same dictionary is returned (updated) on every call, for the right-hand side to read
        before the next call; only the schedules that move in the window are evaluated again."""
        if self._out is None or self._of is not p:
            self._of, self._out, self._stale = p, dict(p), True
        if not self.a <= t <= self.b:
            self._fill(self.full.at(t))
            self._stale = True
        elif self._stale or self.window.moving.size:
            self._fill(self.window.at(t))
            self._stale = False
        return self._out

    def _fill(self, evaluated: tuple[np.ndarray, np.ndarray]) -> None:
        assert self._out is not None
        _fill(self._out, self.keys, *evaluated)


def _fill(out: dict[str, np.ndarray], keys: tuple[tuple[str, str], ...], value: np.ndarray, rate: np.ndarray) -> None:
    """Each schedule's value and rate (rows of ``value`` and ``rate``) under its keys in ``out``."""
    for s, (value_key, rate_key) in enumerate(keys):
        out[value_key], out[rate_key] = value[s], rate[s]


class _Ramps:
    """Schedules as ``base`` (shape ``(S, n)``) plus ramps ``(K, S, n)``, evaluated in ramp order."""

    def __init__(self, base: np.ndarray, change: np.ndarray, start: np.ndarray, phase: np.ndarray,
                 moving: np.ndarray | None = None) -> None:
        self.base, self.change, self.start, self.phase = base, change, start, phase
        self.moving = np.arange(base.shape[0]) if moving is None else moving  # schedules the ramps belong to
        self.ramp = phase > 0
        self.width = np.where(self.ramp, phase, 1.0)
        self.end = start + phase
        self.slope = change / self.width
        #: (a, value at a, rate) where every schedule is linear in t over the window (:meth:`within`)
        self.linear: tuple[float, np.ndarray, np.ndarray] | None = None

    def _linear_over(self, a: float, b: float) -> bool:
        """Whether every ramp, for every member, is either under way over all of ``[a, b]`` or does
        not move in it: then every schedule is linear in t there (a segment between breakpoints)."""
        under_way = self.ramp & (self.start <= a) & (self.end >= b)
        still = np.where(self.ramp, (self.start >= b) | (self.end <= a), (self.start <= a) | (self.start > b))
        return bool((under_way | still).all())

    def fraction(self, t: float | np.ndarray) -> np.ndarray:
        elapsed = t - self.start
        return np.where(self.ramp, np.clip(elapsed / self.width, 0.0, 1.0), (elapsed >= 0).astype(float))

    def at(self, t: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Value and rate of every schedule at ``t`` (one time, or one per member), each of shape ``(S, n)``."""
        if self.linear is not None:  # inside a window where every schedule is linear: two operations
            a, value, rate = self.linear
            return value + rate * (t - a), rate
        frac = self.fraction(t)
        inside = (t >= self.start) & (t < self.end) & self.ramp
        value, rate = self.base[self.moving], np.zeros(self.base[self.moving].shape)
        for k in range(self.change.shape[0]):
            value = value + self.change[k] * frac[k]
            rate = rate + np.where(inside[k], self.slope[k], 0.0)
        if self.moving.size == self.base.shape[0]:
            return value, rate
        full_value, full_rate = self.base.copy(), np.zeros(self.base.shape)
        full_value[self.moving], full_rate[self.moving] = value, rate
        return full_value, full_rate

    def take(self, members: np.ndarray) -> _Ramps:
        """The same schedules for some members (the last axis) only."""
        return _Ramps(self.base[:, members], self.change[:, :, members], self.start[:, :, members],
                      self.phase[:, :, members], self.moving)

    def within(self, a: float, b: float) -> _Ramps:
        """The same schedules for times in ``[a, b]`` only: leading ramps finished for every member
        by ``a`` folded into the base (exactly as evaluating them would add them), trailing ramps
        that start after ``b`` dropped, schedules left without ramps held constant."""
        if self.base.shape[-1] == 0:  # no members: nothing moves
            return self
        base = self.base.copy()
        depth, count = self.change.shape[:2]
        # per ramp, over the members: the latest end and the earliest start (cheap tests first)
        last_end, first_start = self.end.max(axis=-1), self.start.min(axis=-1)

        def done(k: int, s: int) -> bool:  # finished for every member by a, and so for every later time
            if not a >= last_end[k, s]:
                return False
            elapsed = a - self.start[k, s]
            fraction = np.where(self.ramp[k, s], np.clip(elapsed / self.width[k, s], 0.0, 1.0),
                                (elapsed >= 0).astype(float))
            return bool((fraction == 1.0).all())

        spans = []
        for s in range(count):
            first = 0
            while first < depth and done(first, s):
                base[s] = base[s] + self.change[first, s] * 1.0
                first += 1
            last = depth
            while last > first and b < first_start[last - 1, s]:  # starts after b for every member
                last -= 1
            spans.append((first, last))
        moving = np.array([s for s, (first, last) in enumerate(spans) if last > first], dtype=int)
        keep = max((last - first for first, last in spans), default=0)
        shape = (keep, moving.size, *base.shape[1:])
        change, start, phase = np.zeros(shape), np.zeros(shape), np.zeros(shape)
        for j, s in enumerate(moving):
            first, last = spans[s]
            change[:last - first, j] = self.change[first:last, s]
            start[:last - first, j] = self.start[first:last, s]
            phase[:last - first, j] = self.phase[first:last, s]
        window = _Ramps(base, change, start, phase, moving)
        if window._linear_over(a, b):
            value, rate = window.at(a)
            window.linear = (a, value, rate)
        return window


class Scheduled(dict):
    """A batch's parameters (a plain dict) carrying their compiled :class:`Schedule`."""

    schedule: Schedule


def compiled(p: Mapping[str, np.ndarray], a: float = -np.inf, b: float = np.inf,
             schedule: Schedule | None = None) -> Scheduled:
    """``p`` with its schedules compiled (see :class:`Schedule`), for many evaluations at one time
    each, most of them between ``a`` and ``b``; or with ``schedule`` (already compiled from ``p``)."""
    out = Scheduled(p)
    out.schedule = Schedule(p, a, b) if schedule is None else schedule
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
    if f"{lever}.now" in p:  # evaluated at t by a compiled schedule (see at_time)
        return p[f"{lever}.now"]
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
    if f"{lever}.rate" in p:  # evaluated at t by a compiled schedule (see at_time)
        return p[f"{lever}.rate"]
    t = np.asarray(t)
    rate = np.zeros(np.broadcast_shapes(t.shape, np.shape(p[f"{lever}.level"])))
    for change, start, phase in _ramps(p, lever):
        inside = (t >= start) & (t < start + phase) & (phase > 0)
        rate = rate + np.where(inside, change / np.where(phase > 0, phase, 1.0), 0.0)
    return rate


def _phase_days(p: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    """Every day a lever or driver starts or ends a phase, and the day the model takes over the
    front from a recorded territory path: arrays over the batch (or scalars)."""
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
    return days


def breakpoints(p: Mapping[str, np.ndarray], horizon: float) -> np.ndarray:
    """Sorted days in (0, horizon) where any lever or driver of any batch member starts or ends a
    phase, and the day the model takes over the front from a recorded territory path.

    Integrating piecewise between these days keeps steps and kinks out of the solver's steps.
    """
    allday = np.unique(np.concatenate(_phase_days(p)))
    return allday[(allday > 0) & (allday < horizon)]


def member_edges(p: Mapping[str, np.ndarray], horizon: float, n: int) -> np.ndarray:
    """Each member's own segment ends, shape ``(n, K)``: 0, the member's own :func:`breakpoints`
    in (0, horizon), the horizon, then ``inf`` to fill the row."""
    phases = _phase_days(p)
    days = np.stack([np.broadcast_to(d, (n,)) for d in phases]) if phases else np.empty((0, n))
    days = np.where((days > 0) & (days < horizon), days, np.inf)
    days = np.sort(days, axis=0)
    repeated = np.zeros(days.shape, dtype=bool)
    repeated[1:] = days[1:] == days[:-1]
    days = np.sort(np.where(repeated, np.inf, days), axis=0)
    keep = int(np.isfinite(days).sum(axis=0).max(initial=0))
    edges = np.full((keep + 2, n), np.inf)
    edges[0] = 0.0
    edges[1:keep + 1] = days[:keep]
    last = np.isfinite(edges).sum(axis=0)  # where each member's horizon goes
    edges[last, np.arange(n)] = float(horizon)
    return np.ascontiguousarray(edges.T)
