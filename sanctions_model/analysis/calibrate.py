"""Calibration: fit a declared set of uncertain parameters to the record with least squares.

The back-test's residuals (relative errors of the model against ``data/history.csv``),
weighted by each figure's confidence and so that every series counts the same, are
minimised by :func:`scipy.optimize.least_squares` within each parameter's range: a
parameter is never moved outside the range its source gives. Standard errors come from the
Jacobian at the solution. The result is written to ``params/calibrated.toml``, each value
marked with the fit that produced it, together with the projection's default starting
state (:data:`JOINED`): the record on 2025-01-20 where the record gives the stock
(:data:`FROM_RECORD`), the calibrated back-test's state on that day where it does not.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._version import __version__
from ..core.model import FLOWS, STATES
from ..errors import InputError
from ..inputs.history import load_history
from ..inputs.params import ParameterSet, load_params, load_scenario
from ..runs.designs import overlay
from ..runs.evaluate import SolverPolicy, evaluate
from ..runs.run import run_from, simulate
from .backtesting import END, SCENARIO, compare

#: Parameters the calibration fits by default: the oil tax take, the discount's response to
#: the sanctions' bite and evasion's ceiling (against the Urals price, oil revenue and the
#: shadow fleet's share of seaborne crude), the Fund's liquid assets in 2022, and the monetary
#: block's response to inflation and to the rouble, the time over which the bank reads
#: inflation, the pass-through, inflation's response to defence spending and its pace (against
#: the key rate and inflation by year, over twelve months and over three months).
PARAMETERS = (
    "oil.tax_take",
    "oil.discount_sensitivity",
    "evasion.max",
    "fiscal.reserves_initial",
    "macro.key_rate_response",
    "macro.key_rate_fx_response",
    "macro.inflation_observed_days",
    "macro.exchange_rate_passthrough",
    "macro.inflation_per_defence_share",
    "macro.inflation_adjustment_days",
)
#: Parameters the calibration does not fit, each kept at its value in params/base.toml and
#: labelled there as an assumption or a record (issue 14, item 7):
#:
#: - the base discount, the volume's response to the bite and evasion's pace: fitted beside the
#:   fiscal parameters (calibration of 2026-11-26, cost 0.0463 against 0.0492 without them) their
#:   standard errors were 26 US$/bbl (range 1-5), 0.47 (range 0.05-0.5) and 1,500 days (range
#:   120-730): the record does not identify them in this model;
#: - the neutral real rate: fitted with the monetary block (the calibration of commit aa50b4e, cost 0.124)
#:   it went to its range's bottom, 1%, with a standard error of 1.9 (range 1-5); it is fixed at
#:   the Bank of Russia's own estimate instead;
#: - the Fund's investment in illiquid assets: fitted beside :data:`PARAMETERS` from the 2024
#:   reading, 12 US$bn a year, it went to its range's bottom, 0 (with the neutral rate fixed and the
#:   discount still linear in the bite, cost 0.107), and from 0 it stays there (calibration of
#:   2026-11-26, cost 0.1032, as without it): the liquid Fund's record is matched without it; it
#:   is fixed at 0, an assumption (the 1.1 trn RUB the Fund's other assets grew by in 2024 may be
#:   investment or revaluation);
#: - six of the monetary block: fitted beside :data:`PARAMETERS` (calibration of 2026-11-26, 244
#:   runs, cost 0.0917 against 0.1032 without them) the share of the pass-through on a rising
#:   rouble went to 0 (range 0-1), the pass-through's delay to 15 days (standard error 42, range
#:   15-120), the premium's decay to 15 days (37, range 15-180), inflation per point of GDP
#:   borrowed to 2 (2.2, range 0-2) and per point of real rate to 0.6 (0.44, range 0.1-0.6): each
#:   to an edge of its range, where the first three are fixed, the last two keeping their base
#:   values (1 and 0.3); the stance's time constant came out at 60 days with a standard error of
#:   222 (range 30-180) and is fixed at 30 (the bank meets about every six weeks). With all six,
#:   the standard errors of the time over which the bank reads inflation (141 days, range 30-183)
#:   and of inflation's response to defence spending (0.97 at its top, 3; range 0.3-3) widen to
#:   most or a third of their ranges: the record cannot tell these parameters apart;
#: - the discount's saturation: fitted beside :data:`PARAMETERS` it went to its range's top, 80
#:   US$/bbl, with a standard error of 690 (range 30-80; cost 0.1029 against 0.1032 without it):
#:   the back-test's bites, 0.05-0.16, are too small to show where the discount levels off, so
#:   the saturation is an assumption.
NOT_IDENTIFIED = (
    "oil.base_discount",
    "oil.volume_sanctions_sensitivity",
    "evasion.adaptation_days",
    "macro.neutral_real_rate",
    "fiscal.fund_investment",
    "macro.appreciation_passthrough_share",
    "macro.passthrough_days",
    "macro.rouble_defence_decay_days",
    "macro.key_rate_adjustment_days",
    "macro.inflation_per_borrowing",
    "macro.inflation_per_real_rate",
    "oil.discount_max",
)
#: Stocks whose starting value the calibration sets, and the starting parameter each sets:
#: the record where it exists (:data:`FROM_RECORD`), else the calibrated back-test's state on
#: 2025-01-20. The other stocks start as the model defines them:
#: debt, lost revenue and Ukraine's funding count from the start, civilian capacity is an
#: index of its level at the start, perceived strain and momentum start at their indicated
#: values, Ukraine's materiel from its first day's inflow, each side's perceived cost of fighting on
#: at its indicated value, the hazards' totals at 0 (no probability before the start), and
#: sanctions from the lever's schedule.
JOINED = {
    "evasion": "evasion.initial",
    "reserves": "fiscal.reserves_initial",
    "inflation": "macro.inflation_initial",
    "inflation_observed": "macro.inflation_observed_initial",
    "key_rate": "macro.key_rate_initial",
    "russia_forces": "forces.russia_initial",
    "ukraine_forces": "forces.ukraine_initial",
    "territory": "forces.territory_initial",
}
#: Stocks the record gives on 2025-01-20 (params/base.toml cites it: CPI Dec/Dec 2024, the key
#: rate held in December 2024, the NWF's liquid assets on 2025-01-01, the front): the projection
#: starts from the record, not from the back-test's miss of it (issue 14), until constrained
#: ensembles give each member its own start. The back-test's value widens the range.
FROM_RECORD = ("inflation", "key_rate", "reserves", "territory")
#: Recorded series the fit uses.
SERIES = ("oil_gas_revenue", "nwf_liquid", "urals_price", "export_volume", "federal_revenue", "deficit",
          "key_rate", "cpi_dec_dec", "cpi_momentum", "cpi_yoy", "shadow_fleet_share")
#: Series whose error the fit measures in points of a rate, not relative to the recorded value:
#: a miss of 1 point counts as a relative miss of 1 / scale (10% at a scale of 10). A relative
#: error would weigh a point of inflation at 2.3% four times as much as at 9.5%, and a point of
#: the key rate at 7.5% three times as much as at 21%.
POINT_SCALES = {"key_rate": 10.0, "cpi_dec_dec": 10.0, "cpi_momentum": 10.0, "cpi_yoy": 10.0}
#: Weight of a figure by the confidence of its source.
CONFIDENCE = {"high": 1.0, "med": 0.7, "low": 0.4}


@dataclass(frozen=True)
class Calibration:
    """The result of :func:`calibrate`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per fitted parameter: ``before``, ``value``, ``standard_error``, ``low``,
        ``high``, ``unit``, ``at_bound``.
    cost_before, cost_after : float
        Half the sum of squared weighted residuals at the start and at the solution.
    residuals : pandas.DataFrame
        Each figure used: ``series``, ``date``, ``weight``, relative error before and after.
    status : int
    message : str
        From :func:`scipy.optimize.least_squares`.
    evaluations : int
        Model runs, the Jacobian's included.
    scenario : str
    start : pandas.DataFrame
        The projection's starting state, one row per starting parameter of :data:`JOINED`
        (:func:`joined_start`).
    restated : tuple of str
        Fitted parameters the historical scenario restates (their values apply to it only).
    """

    table: pd.DataFrame
    cost_before: float
    cost_after: float
    residuals: pd.DataFrame
    status: int
    message: str
    evaluations: int
    scenario: str
    start: pd.DataFrame
    restated: tuple[str, ...]


def _weights(history: pd.DataFrame, series: Sequence[str], start: pd.Timestamp) -> pd.DataFrame:
    """Each figure of ``series`` dated within the run, with its weight: its source's confidence,
    divided by the square root of its series' count so that every series weighs the same."""
    rows = history[history["series"].isin(series) & (history["date"] >= start)].copy()
    counts = rows.groupby("series")["series"].transform("size")
    rows["weight"] = rows["confidence"].map(CONFIDENCE).fillna(0.5) / np.sqrt(counts)
    return rows[["series", "date", "period", "weight"]].reset_index(drop=True)


#: How the calibration integrates: tighter than a sweep, so that a finite-difference step of
#: 1e-3 of a parameter's value moves the residuals by far more than the solver's error.
CALIBRATION_POLICY = SolverPolicy(rtol=1e-7, step=2.0)
#: Relative finite-difference step of the Jacobian (SciPy's ``diff_step``).
DIFF_STEP = 1e-3


def _residual_function(params: ParameterSet, names: Sequence[str], series: Sequence[str], history: pd.DataFrame,
                       counter: list[int]) -> Callable[[np.ndarray], np.ndarray]:
    """``residuals(X)``: the weighted relative errors of each row of ``X`` (rows, k), shape (rows, m)
    (for the rates of :data:`POINT_SCALES`, the error in points over the scale),
    all rows integrated as one batch through the evaluator."""
    weights = _weights(history, series, pd.Timestamp(params.start_date))
    days = float((END - pd.Timestamp(params.start_date)).days)
    every = CALIBRATION_POLICY.grid(days, np.empty(0))  # as simulate(step=2) reports it
    keep = (*STATES, *FLOWS)

    def residuals(x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(x)
        counter[0] += x.shape[0]
        result = evaluate(overlay(params.values(), names, x), days, keep=keep, at=every, policy=CALIBRATION_POLICY)
        out = np.full((x.shape[0], len(weights)), 10.0)  # an unsolvable set is a bad fit, not a crash
        for i in np.flatnonzero(result.ok):
            trial = params.with_values(dict(zip(names, map(float, x[i]))), origin="calibration")
            fit, _ = compare(run_from(trial, days, result, int(i)), history)
            merged = weights.merge(fit[["series", "date", "period", "error", "relative_error"]],
                                   on=["series", "date", "period"], how="left")
            scale = merged["series"].map(POINT_SCALES)
            error = merged["relative_error"].where(scale.isna(), merged["error"] / scale)
            out[i] = (merged["weight"] * error.fillna(0.0)).to_numpy()
        return out

    return residuals


def _jacobian(residuals: Callable[[np.ndarray], np.ndarray], lows: np.ndarray, highs: np.ndarray
              ) -> Callable[[np.ndarray], np.ndarray]:
    """Forward differences of ``residuals`` at ``x``, every column from one batch of k + 1 runs
    (the point itself among them, so that each difference compares runs the solver took together).

    The steps are SciPy's for ``least_squares(..., diff_step=DIFF_STEP)`` (2-point): ``DIFF_STEP *
    |x|`` in the direction of ``x``'s sign (``sqrt(eps) * max(1, |x|)`` where that is 0), taken
    the other way where the step would leave the bounds, and to the farther bound where neither
    way fits."""

    def jac(x: np.ndarray) -> np.ndarray:
        sign = np.where(x >= 0, 1.0, -1.0)
        h = DIFF_STEP * sign * np.abs(x)
        h = np.where((x + h) - x == 0, np.sqrt(np.finfo(float).eps) * sign * np.maximum(1.0, np.abs(x)), h)
        lower, upper = x - lows, highs - x
        outside = (x + h < lows) | (x + h > highs)
        fits = np.abs(h) <= np.maximum(lower, upper)
        h = np.where(outside & fits, -h, h)
        h = np.where(~fits, np.where(upper >= lower, upper, -lower), h)
        rows = np.vstack([x, x + np.diag(h)])
        r = residuals(rows)
        return ((r[1:] - r[0]) / h[:, None]).T

    return jac


def calibrate(scenario: str = SCENARIO, names: Sequence[str] = PARAMETERS, series: Sequence[str] = SERIES, *,
              max_evaluations: int = 200) -> Calibration:
    """Fit ``names`` to the recorded ``series`` over the back-test's period.

    Parameters
    ----------
    scenario : str
        The historical scenario the back-test runs.
    names : list of str
        Parameters to fit, each within its range.
    series : list of str
        Recorded series to fit (see :data:`sanctions_model.analysis.backtesting.comparisons`).
    max_evaluations : int
        Most evaluations of the fit the optimiser may make (SciPy's ``max_nfev``); each
        finite-difference Jacobian costs one batch of one run per parameter and one at the
        point, integrated together.

    Returns
    -------
    Calibration
    """
    from scipy.optimize import least_squares

    from ..runs.executors import ProgressBar, current_execution

    params = load_params(scenario, calibration=False)
    for name in names:
        if name not in params:
            raise InputError(f"cannot calibrate unknown parameter '{name}'.")
        spec = params.parameters[name]
        if not spec.low < spec.high:
            raise InputError(f"cannot calibrate '{name}': its range [{spec.low:g}, {spec.high:g}] is a point.")
    if isinstance(max_evaluations, bool) or not isinstance(max_evaluations, int) or max_evaluations < 2:
        raise InputError(f"max_evaluations must be a whole number of at least 2, got {max_evaluations!r}.")
    history = load_history()
    unknown = sorted(set(series) - set(history["series"]))
    if unknown:
        raise InputError(f"unknown recorded series: {', '.join(unknown)}.")
    counter = [0]
    residuals_of = _residual_function(params, names, series, history, counter)
    bar = ProgressBar(None, "back-test runs", current_execution().progress, unit="run")

    def f(x: np.ndarray) -> np.ndarray:
        out = residuals_of(x)[0]
        bar.update()
        return out

    def jac(x: np.ndarray) -> np.ndarray:
        out = jacobian(x)
        bar.update(len(x) + 1)
        return out

    specs = [params.parameters[n] for n in names]
    lows, highs = np.array([s.low for s in specs]), np.array([s.high for s in specs])
    x0 = np.clip([s.value for s in specs], lows, highs)
    jacobian = _jacobian(residuals_of, lows, highs)
    r0 = f(x0)
    try:
        sol = least_squares(f, x0, jac=jac, bounds=(lows, highs), x_scale=highs - lows, max_nfev=max_evaluations,
                            method="trf")
    finally:
        bar.close()
    m, k = sol.fun.size, len(names)
    s2 = 2.0 * sol.cost / max(m - k, 1)
    try:
        cov = np.linalg.pinv(sol.jac.T @ sol.jac) * s2
        se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    except np.linalg.LinAlgError:
        se = np.full(k, math.nan)
    span = highs - lows
    table = pd.DataFrame({
        "before": x0, "value": sol.x, "standard_error": se, "low": lows, "high": highs,
        "unit": [s.unit for s in specs],
        "at_bound": (np.abs(sol.x - lows) < 1e-6 * span) | (np.abs(sol.x - highs) < 1e-6 * span),
    }, index=pd.Index(list(names), name="parameter"))
    weights = _weights(history, series, pd.Timestamp(params.start_date))
    residuals = weights.assign(before=r0 / weights["weight"], after=sol.fun / weights["weight"])
    fitted = params.with_values(dict(zip(names, map(float, sol.x))), origin="calibration")
    restated = tuple(n for n in names if n in {name for name, _, _ in load_scenario(scenario).changes})
    return Calibration(table, float(0.5 * np.sum(r0 ** 2)), float(sol.cost), residuals, int(sol.status),
                       str(sol.message), counter[0], scenario, joined_start(fitted), restated)


def joined_start(params: ParameterSet) -> pd.DataFrame:
    """The projection's starting value for each stock of :data:`JOINED`: the record or the back-test's state.

    Parameters
    ----------
    params : ParameterSet
        The historical scenario's parameters (with the fitted values).

    Returns
    -------
    pandas.DataFrame
        Indexed by starting parameter: ``stock``, ``value`` (where the projection starts),
        ``backtest`` (the calibrated back-test's state on 2025-01-20), ``recorded`` (the value
        of params/base.toml), ``source`` (``"record"`` for the stocks of :data:`FROM_RECORD`,
        whose ``value`` is ``recorded``; ``"back-test"`` for the others, whose ``value`` is
        ``backtest``), ``unit``.
    """

    days = float((END - pd.Timestamp(params.start_date)).days)
    if days < 1:
        raise InputError(f"the back-test's parameters start on {params.start_date}, not before {END.date()}.")
    run = simulate(params=params, days=days, step=1.0, rtol=1e-7)
    last = run.trajectories.iloc[-1]
    base = load_params(calibration=False)
    rows = {}
    for stock, param in JOINED.items():
        recorded = stock in FROM_RECORD
        rows[param] = {"stock": stock, "value": base[param] if recorded else float(last[stock]),
                       "backtest": float(last[stock]), "recorded": base[param],
                       "source": "record" if recorded else "back-test", "unit": STATES[stock]}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "parameter"
    return frame


def write_calibrated(result: Calibration, path: str | os.PathLike[str], command: str, force: bool = False) -> Path:
    """Write the fitted values to a TOML file, each marked with the fit that produced it.

    Parameters
    ----------
    result : Calibration
    path : path
        The file (``params/calibrated.toml`` by convention); replaced only with ``force``,
        and atomically.
    command : str
        The command line recorded in the file.
    force : bool

    Returns
    -------
    pathlib.Path
    """
    from ..inputs import calibration_file
    from ..provenance import git_commit

    fit_id = f"calibration of {dt.date.today().isoformat()}, {__version__}, commit {git_commit()}"
    fit = {"id": fit_id, "scenario": result.scenario, "command": command,
           "series": sorted(set(result.residuals["series"])), "cost_before": float(result.cost_before),
           "cost_after": float(result.cost_after), "evaluations": int(result.evaluations),
           "status": int(result.status), "message": str(result.message)}
    parameters = {str(name): {"value": float(row["value"]),
                              "applies": result.scenario if name in result.restated else "",
                              "standard_error": float(row["standard_error"]), "before": float(row["before"]),
                              "low": float(row["low"]), "high": float(row["high"]), "unit": str(row["unit"]),
                              "at_bound": bool(row["at_bound"]), "fit": fit_id}
                  for name, row in result.table.iterrows()}
    start = {str(name): {"value": float(row["value"]), "stock": str(row["stock"]),
                         "backtest": float(row["backtest"]), "recorded": float(row["recorded"]),
                         "source": str(row["source"]), "unit": str(row["unit"]), "fit": fit_id}
             for name, row in result.start.iterrows()}
    return calibration_file.write(path, fit, parameters, start, force=force)


def load_calibrated(path: str | os.PathLike[str] | None = None) -> tuple[dict[str, object], pd.DataFrame, pd.DataFrame]:
    """Read a file written by :func:`write_calibrated`.

    Parameters
    ----------
    path : path, optional
        Default ``params/calibrated.toml``.

    Returns
    -------
    fit : dict
        What produced it: ``id``, ``scenario``, ``series``, costs, ``evaluations``.
    table : pandas.DataFrame
        One row per fitted parameter: ``value``, ``applies`` (``""`` for every run, or the
        scenario it applies to), ``standard_error``, ``before``, ``low``, ``high``, ``unit``,
        ``at_bound``.
    start : pandas.DataFrame
        The projection's starting state, one row per starting parameter: ``value``,
        ``stock``, ``backtest``, ``recorded``, ``source``, ``unit`` (:func:`joined_start`).
    """
    from ..inputs import calibration_file
    from ..inputs.params import params_dir

    file = calibration_file.read(path if path is not None else params_dir() / "calibrated.toml")
    table = pd.DataFrame.from_dict(file.parameters, orient="index").drop(columns=["fit"])
    start = pd.DataFrame.from_dict(file.start, orient="index").drop(columns=["fit"])
    table.index.name = start.index.name = "parameter"
    return file.fit, table, start


def cost_at(values: dict[str, float], scenario: str = SCENARIO, series: Sequence[str] = SERIES) -> float:
    """Half the sum of squared weighted residuals with ``values`` set (the calibration's objective).

    Parameters
    ----------
    values : dict
        Parameter name to value.
    scenario : str
    series : list of str

    Returns
    -------
    float
    """
    params = load_params(scenario, calibration=False)
    names = list(values)
    f = _residual_function(params, names, series, load_history(), [0])
    r = f(np.array([values[n] for n in names], dtype=float))
    return float(0.5 * np.sum(r ** 2))
