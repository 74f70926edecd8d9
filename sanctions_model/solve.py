"""Integration of a batch of parameter sets with ``scipy.integrate.solve_ivp``.

The batch is the second axis of the state (``(N_STATES, n)``, flattened for SciPy), so
one solver call advances every member at once; a single run is a batch of one.
Integration restarts at every lever breakpoint, so that steps and ramp corners fall on
segment ends and cost the adaptive solver no accuracy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from .errors import SolverError
from .model import N_STATES, STATE_SCALE, derivatives, initial_state
from .schedules import breakpoints

DEFAULT_RTOL = 1e-6
DEFAULT_ATOL_FACTOR = 1e-8  # absolute tolerance = factor * typical magnitude of the stock
MAX_RHS_CALLS = 200_000  # per segment: a guard against parameter sets that stall the solver


@dataclass(frozen=True)
class BatchSolution:
    """States of a batch on an output grid.

    Attributes
    ----------
    t : array (n_t,) [day]
    y : array (N_STATES, n, n_t)
    ref : dict of arrays (n,), reference values read at the start
    params : dict of arrays (n,)
    """

    t: np.ndarray
    y: np.ndarray
    ref: dict[str, np.ndarray]
    params: dict[str, np.ndarray]


def as_batch(values: Mapping[str, object]) -> dict[str, np.ndarray]:
    """Parameter mapping as float arrays of one common length ``n`` (scalars broadcast)."""
    arrays = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in values.items()}
    n = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    return {k: np.broadcast_to(a, n).copy() for k, a in arrays.items()}


def integrate(
    params: Mapping[str, object],
    days: float,
    *,
    step: float = 1.0,
    grid: np.ndarray | None = None,
    rtol: float = DEFAULT_RTOL,
    atol_factor: float = DEFAULT_ATOL_FACTOR,
    method: str = "RK45",
) -> BatchSolution:
    """Integrate a batch of parameter sets from day 0 to ``days``.

    Parameters
    ----------
    params : mapping of name to scalar or array (n,)
        Every parameter of ``params/base.toml``; values are not range-checked here.
    days : float [day]
        Horizon.
    step : float [day]
        Output interval.
    grid : array [day], optional
        Output times instead of a regular ``step`` (sorted, from 0 to ``days``).
    rtol, atol_factor : float
        Relative tolerance, and the absolute tolerance as a fraction of each stock's
        typical magnitude.
    method : str
        A ``solve_ivp`` method.

    Returns
    -------
    BatchSolution

    Raises
    ------
    SolverError
        If the solver fails or a state becomes non-finite.
    """
    p = as_batch(params)
    y0, ref = initial_state(p)
    n = y0.shape[1]
    if grid is None:
        grid = np.arange(0.0, days, step)
        grid = np.append(grid, float(days)) if days - grid[-1] > 1e-9 * step else grid
    grid = np.asarray(grid, dtype=float)
    edges = np.concatenate([[0.0], breakpoints(p, days), [float(days)]])
    atol = np.repeat(STATE_SCALE * atol_factor, n)
    out = np.empty((N_STATES, n, grid.size))
    out[:, :, 0] = y0
    y = y0.reshape(-1)
    for a, b in zip(edges[:-1], edges[1:]):
        t_hi = b - 1e-9 * max(b - a, 1.0)  # evaluate levers on this segment's side of b

        calls = [0]

        def rhs(t: float, flat: np.ndarray, t_hi: float = t_hi, calls: list[int] = calls, a: float = a,
                b: float = b) -> np.ndarray:
            calls[0] += 1
            if calls[0] > MAX_RHS_CALLS:
                raise SolverError(f"more than {MAX_RHS_CALLS} steps between day {a:g} and {b:g}: "
                                  "the parameters make the model too stiff")
            d = derivatives(min(t, t_hi), flat.reshape(N_STATES, n), p, ref).reshape(-1)
            if not np.isfinite(d).all():
                raise SolverError(f"the model is undefined at day {t:.1f} (a non-finite rate of change); "
                                  "the parameters are probably extreme")
            return d

        inside = (grid > a) & (grid <= b)
        t_eval = np.union1d(grid[inside], [b])
        sol = solve_ivp(rhs, (a, b), y, method=method, rtol=rtol, atol=atol, t_eval=t_eval)
        if not sol.success:
            raise SolverError(f"solver failed between day {a:g} and {b:g}: {sol.message}")
        states = sol.y.reshape(N_STATES, n, -1)
        if inside.any():
            out[:, :, inside] = states[:, :, np.isin(t_eval, grid[inside])]
        y = sol.y[:, -1]
    if not np.isfinite(out).all():
        raise SolverError("a state became non-finite; the parameters are probably extreme")
    return BatchSolution(grid, out, ref, p)

