"""Outcomes read from a run (crossing days, levels at the horizon, peaks and totals), and its
stocks and key flows over time (:func:`trajectory_values`).

Crossing days are located to a fraction of a day: the first output interval in which a
series reaches its threshold is found on the grid, then the crossing inside it is solved
on the cubic through the four surrounding output points (error of order step^4 times the
fourth derivative, far below a day for stocks that move over weeks). Everything works on
the whole batch at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from .model import FLOWS, IDX, STATE_NAMES, STATES, auxiliaries_of, decision
from .rows import RowsOf
from .schedules import at_time
from .system import DAYS_PER_YEAR, REPORTED_FLOWS

if TYPE_CHECKING:  # the solver (and SciPy's) is not imported where only the outcomes' names are read
    from .solve import BatchSolution

# Trajectory column -> (auxiliary key, whether it is a daily flow to report per year), as system.py declares.
_FLOW_SOURCES: dict[str, tuple[str, bool]] = {flow.name: (flow.source, flow.per_year) for flow in REPORTED_FLOWS}

#: Outcomes of a run, with their units and meaning. The probabilities are integrated from the
#: decision core's hazards (``core/bargaining.py``): zero at day 0, monotone in time, smooth in
#: the parameters. The ``diagnostic_`` crossing days say when a side (or both) comes to prefer
#: a ceasefire to fighting on; they are for reading a run, not answers: a probability says how
#: likely talks and a ceasefire are, a crossing day only when the range opens.
OUTCOMES: dict[str, tuple[str, str]] = {
    "p_talks_100_days": ("probability", "Direct talks start by day 100 (2025-04-30, the US envoy's goal)"),
    "p_talks_1_year": ("probability", "Direct talks start within a year (NaN: horizon under a year)"),
    "p_talks_horizon": ("probability", "Direct talks start within the projection"),
    "p_ceasefire_100_days": ("probability", "A ceasefire is agreed by day 100"),
    "p_ceasefire_1_year": ("probability", "A ceasefire is agreed within a year (NaN: horizon under a year)"),
    "p_ceasefire_horizon": ("probability", "A ceasefire is agreed within the projection"),
    "expected_day_talks": ("day", "Expected day talks start, if they start within the projection"),
    "expected_day_ceasefire": ("day", "Expected day a ceasefire is agreed, if one is within the projection"),
    "p_ceasefire_holds_1_year": ("probability", "A ceasefire agreed within the projection holds a year"),
    "reserves_at_horizon": ("US$ bn", "Liquid National Wealth Fund assets at the horizon"),
    "days_to_reserves_exhausted": (
        "day", "First day reserves fall below the exhaustion threshold (NaN: not within the horizon)"),
    "peak_strain": ("index 0-1", "Highest perceived strain on the war economy"),
    "territory_at_horizon": ("share of Ukraine", "Share of Ukraine held by Russia at the horizon (0-1, as the "
                             "trajectory `territory`)"),
    "oil_revenue_lost": ("budget US$ bn", "Russian federal oil and gas revenue lost to sanctions over the projection"),
    "ukraine_funding": ("US$ bn", "Aid and transferred assets sent to Ukraine over the projection, absorbed or not"),
    "diagnostic_days_russia_prefers_ceasefire": (
        "day", "Diagnostic: first day Russia's margin is positive, i.e. it prefers a ceasefire on the line with the "
               "terms on the table to fighting on (0: from the start; NaN: never within the horizon)"),
    "diagnostic_days_ukraine_prefers_ceasefire": (
        "day", "Diagnostic: first day Ukraine's margin is positive (0: from the start; NaN: never)"),
    "diagnostic_days_to_range_open": (
        "day", "Diagnostic: first day the bargaining range is open, the sum of the margins positive (0: from the "
               "start; NaN: never)"),
}

#: The outcomes that are probabilities (means over an ensemble are probabilities too).
PROBABILITIES = tuple(name for name, (unit, _) in OUTCOMES.items() if unit == "probability")


GOAL_DAYS = 100.0


def _cubic_root(t: np.ndarray, x: np.ndarray, k: np.ndarray, threshold: float | np.ndarray,
                iterations: int = 50) -> np.ndarray:
    """Root of ``x - threshold`` in ``[t[k-1], t[k]]`` on the cubic through 4 neighbouring points.

    ``x`` has shape (n, n_t); ``k`` (n,) indexes the first point at or above threshold
    (``k >= 1``). The cubic's value at the interval's ends equals the data, so bisection on
    it keeps the root inside the interval.
    """
    n_t = t.size
    lo = np.clip(k - 2, 0, max(n_t - 4, 0))
    idx = lo[:, None] + np.arange(min(4, n_t))[None, :]
    rows = np.arange(x.shape[0])[:, None]
    nodes_t, nodes_x = t[idx], x[rows, idx] - threshold

    def poly(s: np.ndarray) -> np.ndarray:
        total = np.zeros_like(s)
        m = nodes_t.shape[1]
        for i in range(m):
            term = nodes_x[:, i].copy()
            for j in range(m):
                if j != i:
                    term *= (s - nodes_t[:, j]) / (nodes_t[:, i] - nodes_t[:, j])
            total += term
        return total

    a, b = t[k - 1].astype(float), t[k].astype(float)
    fa = poly(a)
    for _ in range(iterations):
        mid = 0.5 * (a + b)
        fm = poly(mid)
        left = np.sign(fm) == np.sign(fa)
        a = np.where(left, mid, a)
        fa = np.where(left, fm, fa)
        b = np.where(left, b, mid)
    return 0.5 * (a + b)


def first_crossing(t: np.ndarray, x: np.ndarray, threshold: float | np.ndarray) -> np.ndarray:
    """First time each row of ``x`` reaches ``threshold`` (at or above), in the units of ``t``.

    Parameters
    ----------
    t : array (n_t,) [day]
    x : array (n, n_t)
    threshold : scalar or array (n,)

    Returns
    -------
    array (n,): the crossing time, 0 where already at or above at ``t[0]``, NaN where never.
    """
    threshold = np.broadcast_to(np.asarray(threshold, float), (x.shape[0],))
    above = x >= threshold[:, None]
    hit = above.any(axis=1)
    k = np.argmax(above, axis=1)
    out = np.full(x.shape[0], np.nan)
    out[hit & (k == 0)] = t[0]
    inner = hit & (k > 0)
    if inner.any():
        out[inner] = _cubic_root(t, x[inner], k[inner], threshold[inner, None])
    return out


def probability_at(t: np.ndarray, total: np.ndarray, day: float) -> np.ndarray:
    """``1 - exp(-H(day))`` for each row of the integrated hazard ``total`` (n, n_t), linear in
    ``H`` between output points; NaN where ``day`` is beyond the horizon."""
    if day > t[-1] + 1e-9:
        return np.full(total.shape[0], np.nan)
    k = int(np.clip(np.searchsorted(t, day, side="right"), 1, t.size - 1))
    frac = (day - t[k - 1]) / (t[k] - t[k - 1])
    return -np.expm1(-(total[:, k - 1] * (1.0 - frac) + total[:, k] * frac))


def expected_day(t: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Expected day of the event, given it happens within the horizon ``T`` [day]:
    ``(T F(T) - integral_0^T F dt) / F(T)``, ``F = 1 - exp(-H)``, by the trapezoid rule."""
    f = -np.expm1(-total)
    area = np.trapezoid(f, t, axis=1)
    end = f[:, -1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(end > 0, (t[-1] * end - area) / end, np.nan)


#: Stride of the coarse pass of :func:`margins_near_crossing` [output points].
MARGIN_STRIDE = 8
MARGINS = ("russia_margin", "ukraine_margin", "bargaining_range")


def margins_on(sol: BatchSolution, members: np.ndarray, columns: np.ndarray) -> dict[str, np.ndarray]:
    """Each side's margin and the range of ``members`` at output ``columns`` (paired arrays of the
    same length): name -> array of that length.

    Read from :func:`~sanctions_model.core.model.decision`, which leaves out the economy's
    auxiliaries: about a third of what :func:`trajectory_values` costs.
    """
    y = sol.y[:, members, columns]
    p = RowsOf(sol.params, lambda v: v[members])  # only the parameters the decision core reads
    ref = RowsOf(sol.ref, lambda v: v[members])
    t = sol.t[columns]
    values = decision(t, y, at_time(t, p), ref)
    return {name: np.broadcast_to(values[name], (members.size,)) for name in MARGINS}


def margins_near_crossing(sol: BatchSolution) -> dict[str, np.ndarray]:
    """Each margin (:data:`MARGINS`) on the whole output grid where it decides its first crossing of 0,
    NaN elsewhere: name -> array (n, n_t), for :func:`first_crossing`.

    A coarse pass reads every :data:`MARGIN_STRIDE`-th point; around each member's first coarse
    point at or above 0 every point is read, two beyond each end for the cubic. The crossing is
    then located exactly as on the full grid, unless a margin rises above 0 and falls back within
    one coarse interval (margins move over weeks, and a lever's step is read at the step).
    """
    n, n_t = sol.y.shape[1], sol.t.size
    coarse = np.union1d(np.arange(0, n_t, MARGIN_STRIDE), [n_t - 1])
    rows = np.repeat(np.arange(n), coarse.size)
    first = margins_on(sol, rows, np.tile(coarse, n))
    out = {}
    for name in MARGINS:
        full = np.full((n, n_t), np.nan)
        values = first[name].reshape(n, coarse.size)
        full[:, coarse] = values
        above = values >= 0.0
        inside = np.flatnonzero(above.any(axis=1) & ~above[:, 0])
        if inside.size:
            k = np.argmax(above[inside], axis=1)
            lo = np.maximum(coarse[k - 1] - 2, 0)
            width = MARGIN_STRIDE + 5
            cols = np.minimum(lo[:, None] + np.arange(width)[None, :], n_t - 1)
            near = margins_on(sol, np.repeat(inside, width), cols.ravel())[name].reshape(inside.size, width)
            full[inside[:, None], cols] = near  # the points left NaN read as below 0, as the coarse ones were
        out[name] = full
    return out


def compute(sol: BatchSolution) -> dict[str, np.ndarray]:
    """Every outcome in :data:`OUTCOMES` for each member of the batch, as arrays (n,)."""
    t, y, p = sol.t, sol.y, sol.params
    talks, ceasefire = y[IDX["talks_hazard_total"]], y[IDX["ceasefire_hazard_total"]]
    p_ceasefire = -np.expm1(-ceasefire[:, -1])
    reserves = y[IDX["reserves"]]
    exhausted = first_crossing(t, -reserves, -p["fiscal.reserves_exhausted"])
    margins = margins_near_crossing(sol)
    with np.errstate(invalid="ignore", divide="ignore"):
        holds = np.where(p_ceasefire > 0, y[IDX["ceasefire_held"]][:, -1] / p_ceasefire, np.nan)
    return {
        "p_talks_100_days": probability_at(t, talks, GOAL_DAYS),
        "p_talks_1_year": probability_at(t, talks, DAYS_PER_YEAR),
        "p_talks_horizon": -np.expm1(-talks[:, -1]),
        "p_ceasefire_100_days": probability_at(t, ceasefire, GOAL_DAYS),
        "p_ceasefire_1_year": probability_at(t, ceasefire, DAYS_PER_YEAR),
        "p_ceasefire_horizon": p_ceasefire,
        "expected_day_talks": expected_day(t, talks),
        "expected_day_ceasefire": expected_day(t, ceasefire),
        "p_ceasefire_holds_1_year": holds,
        "reserves_at_horizon": reserves[:, -1],
        "days_to_reserves_exhausted": exhausted,
        "peak_strain": y[IDX["strain"]].max(axis=1),
        "territory_at_horizon": y[IDX["territory"]][:, -1],
        "oil_revenue_lost": y[IDX["oil_revenue_lost"]][:, -1],
        "ukraine_funding": y[IDX["ukraine_funding"]][:, -1],
        "diagnostic_days_russia_prefers_ceasefire": first_crossing(t, margins["russia_margin"], 0.0),
        "diagnostic_days_ukraine_prefers_ceasefire": first_crossing(t, margins["ukraine_margin"], 0.0),
        "diagnostic_days_to_range_open": first_crossing(t, margins["bargaining_range"], 0.0),
    }


#: Points (members x days) whose flows :func:`trajectory_values` evaluates at once (each
#: parameter the flows read is repeated over them: 160 kB a parameter).
FLOW_POINTS = 20_000

#: Reported flows that are the chance ``1 - exp(-H)`` of a hazard's total ``H`` (a stock), as
#: ``model.decision`` computes them.
CHANCES = {"p_talks": "talks_hazard_total", "p_ceasefire": "ceasefire_hazard_total"}


def trajectory_values(sol: BatchSolution, names: Iterable[str], columns: np.ndarray) -> dict[str, np.ndarray]:
    """Stocks and key flows of every batch member at output columns ``columns``.

    Returns name -> array (n, len(columns)); flows are evaluated from the states there and
    reported per year where their unit says so.
    """
    names = list(names)
    n, m = sol.y.shape[1], len(columns)
    y = sol.y[:, :, columns]
    out = {name: y[STATE_NAMES.index(name)] for name in names if name in STATES}
    # the chances are functions of a stock alone: read without the auxiliaries (a batch's whole
    # parameter set repeated over every kept day, which a sweep's weekly trajectories cannot afford)
    for name, total in CHANCES.items():
        if name in names:
            out[name] = -np.expm1(-y[STATE_NAMES.index(total)])
    flows = [name for name in names if name in FLOWS and name not in out]
    if flows:
        for name in flows:
            out[name] = np.empty((n, m))
        # the auxiliaries of every member at every kept day, a block of days at a time: the model's
        # intermediate arrays over the whole (members x days) would take gigabytes for a batch of
        # histories kept every other day
        block = max(1, FLOW_POINTS // max(n, 1))
        for lo in range(0, m, block):
            cols = np.arange(lo, min(lo + block, m))
            k = cols.size
            flat_y = y[:, :, cols].reshape(y.shape[0], n * k)
            p = RowsOf(sol.params, partial(np.repeat, repeats=k))  # only the parameters the flows read
            ref = RowsOf(sol.ref, partial(np.repeat, repeats=k))
            t = np.tile(sol.t[columns][cols], n)
            aux = auxiliaries_of([_FLOW_SOURCES[name][0] for name in flows], t, flat_y, at_time(t, p), ref)
            for name in flows:
                key, per_day = _FLOW_SOURCES[name]
                out[name][:, cols] = (np.broadcast_to(aux[key], (n * k,)).reshape(n, k)
                                      * (DAYS_PER_YEAR if per_day else 1.0))
    return {name: out[name] for name in names}
