"""Outcomes read from a run (crossing days, levels at the horizon, peaks and totals), and its
stocks and key flows over time (:func:`trajectory_values`).

Crossing days are located to a fraction of a day: the first output interval in which a
series reaches its threshold is found on the grid, then the crossing inside it is solved
on the cubic through the four surrounding output points (error of order step^4 times the
fourth derivative, far below a day for stocks that move over weeks). Everything works on
the whole batch at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .model import FLOWS, IDX, STATE_NAMES, STATES, auxiliaries
from .schedules import at_time
from .solve import BatchSolution
from .system import DAYS_PER_YEAR, REPORTED_FLOWS

# Trajectory column -> (auxiliary key, whether it is a daily flow to report per year), as system.py declares.
_FLOW_SOURCES: dict[str, tuple[str, bool]] = {flow.name: (flow.source, flow.per_year) for flow in REPORTED_FLOWS}

#: Outcomes of a run, with their units and meaning.
OUTCOMES: dict[str, tuple[str, str]] = {
    "days_to_russia_willing": (
        "day", "First day Russia's willingness reaches its threshold (NaN: not within the horizon)"),
    "days_to_ukraine_willing": (
        "day", "First day Ukraine's willingness reaches its threshold (NaN: not within the horizon)"),
    "days_to_talks": (
        "day", "First day both sides' willingness is at or above threshold (NaN: not within the horizon)"),
    "russia_willing_within_100_days": ("bool", "Russia willing by day 100 (2025-04-30, the US envoy's goal)"),
    "talks_within_100_days": ("bool", "Talks by day 100"),
    "talks_within_horizon": ("bool", "Talks within the projection"),
    "reserves_at_horizon": ("US$ bn", "Liquid National Wealth Fund assets at the horizon"),
    "days_to_reserves_exhausted": (
        "day", "First day reserves fall below the exhaustion threshold (NaN: not within the horizon)"),
    "peak_strain": ("index 0-1", "Highest perceived strain on the war economy"),
    "territory_at_horizon": ("share of Ukraine", "Share of Ukraine held by Russia at the horizon (0-1, as the "
                             "trajectory `territory`)"),
    "oil_revenue_lost": ("US$ bn", "Russian federal oil and gas revenue lost to sanctions over the projection"),
    "ukraine_funding": ("US$ bn", "Aid and transferred assets received by Ukraine over the projection"),
    "ceasefire_durability_at_talks": ("index 0-1", "Ceasefire durability on the day talks start (NaN: no talks)"),
    "ceasefire_durability_at_horizon": ("index 0-1", "Ceasefire durability at the horizon"),
}

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


def first_joint_crossing(t: np.ndarray, xs: Sequence[np.ndarray], thresholds: Sequence[float | np.ndarray]
                         ) -> np.ndarray:
    """First time every series in ``xs`` is at or above its threshold at once.

    Inside the first output interval where that holds, the joint crossing is the latest of
    the crossings of the series that were below at the interval's start.
    """
    gaps = np.stack([x - np.asarray(th, float)[..., None] for x, th in zip(xs, thresholds)])  # (m, n, n_t)
    joint = gaps.min(axis=0) >= 0
    hit = joint.any(axis=1)
    k = np.argmax(joint, axis=1)
    out = np.full(joint.shape[0], np.nan)
    out[hit & (k == 0)] = t[0]
    inner = np.where(hit & (k > 0))[0]
    if inner.size:
        kk = k[inner]
        latest = t[kk - 1].astype(float)
        for g in gaps:
            below = g[inner, kk - 1] < 0
            if below.any():
                root = _cubic_root(t, g[inner][below], kk[below], 0.0)
                latest[below] = np.maximum(latest[below], root)
        out[inner] = latest
    return out


def state_at(sol: BatchSolution, when: np.ndarray) -> np.ndarray:
    """States of each member at its own time ``when`` (n,), linear between output points.

    Returns an array (N_STATES, n); members whose ``when`` is NaN get the final state.
    """
    t = sol.t
    when = np.where(np.isfinite(when), when, t[-1])
    k = np.clip(np.searchsorted(t, when, side="right"), 1, t.size - 1)
    frac = (when - t[k - 1]) / (t[k] - t[k - 1])
    cols = np.arange(sol.y.shape[1])
    return sol.y[:, cols, k - 1] * (1.0 - frac) + sol.y[:, cols, k] * frac


def durability_at(sol: BatchSolution, when: np.ndarray) -> np.ndarray:
    """Ceasefire durability of each member at its own time ``when`` (NaN where ``when`` is NaN)."""
    t = np.where(np.isfinite(when), when, sol.t[-1])
    aux = auxiliaries(t, state_at(sol, when), at_time(t, sol.params), sol.ref)
    return np.where(np.isfinite(when), aux["durability"], np.nan)


def compute(sol: BatchSolution) -> dict[str, np.ndarray]:
    """Every outcome in :data:`OUTCOMES` for each member of the batch, as arrays (n,)."""
    t, y, p = sol.t, sol.y, sol.params
    w_r, w_u = y[IDX["russia_willingness"]], y[IDX["ukraine_willingness"]]
    russia = first_crossing(t, w_r, p["russia.threshold"])
    ukraine = first_crossing(t, w_u, p["ukraine.threshold"])
    talks = first_joint_crossing(t, [w_r, w_u], [p["russia.threshold"], p["ukraine.threshold"]])
    reserves = y[IDX["reserves"]]
    exhausted = first_crossing(t, -reserves, -p["fiscal.reserves_exhausted"])
    return {
        "days_to_russia_willing": russia,
        "days_to_ukraine_willing": ukraine,
        "days_to_talks": talks,
        "russia_willing_within_100_days": np.nan_to_num(russia, nan=np.inf) <= GOAL_DAYS,
        "talks_within_100_days": np.nan_to_num(talks, nan=np.inf) <= GOAL_DAYS,
        "talks_within_horizon": np.isfinite(talks),
        "reserves_at_horizon": reserves[:, -1],
        "days_to_reserves_exhausted": exhausted,
        "peak_strain": y[IDX["strain"]].max(axis=1),
        "territory_at_horizon": y[IDX["territory"]][:, -1],
        "oil_revenue_lost": y[IDX["oil_revenue_lost"]][:, -1],
        "ukraine_funding": y[IDX["ukraine_funding"]][:, -1],
        "ceasefire_durability_at_talks": durability_at(sol, talks),
        "ceasefire_durability_at_horizon": durability_at(sol, np.full(talks.shape, t[-1])),
    }


def trajectory_values(sol: BatchSolution, names: Iterable[str], columns: np.ndarray) -> dict[str, np.ndarray]:
    """Stocks and key flows of every batch member at output columns ``columns``.

    Returns name -> array (n, len(columns)); flows are evaluated from the states there and
    reported per year where their unit says so.
    """
    names = list(names)
    n, m = sol.y.shape[1], len(columns)
    y = sol.y[:, :, columns]
    out = {name: y[STATE_NAMES.index(name)] for name in names if name in STATES}
    flows = [name for name in names if name in FLOWS]
    if flows:
        flat_y = y.reshape(y.shape[0], n * m)
        p = {k: np.repeat(v, m) for k, v in sol.params.items()}
        ref = {k: np.repeat(v, m) for k, v in sol.ref.items()}
        t = np.tile(sol.t[columns], n)
        aux = auxiliaries(t, flat_y, at_time(t, p), ref)
        for name in flows:
            key, per_day = _FLOW_SOURCES[name]
            out[name] = np.broadcast_to(aux[key], (n * m,)).reshape(n, m) * (DAYS_PER_YEAR if per_day else 1.0)
    return {name: out[name] for name in names}
