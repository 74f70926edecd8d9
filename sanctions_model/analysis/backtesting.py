"""The back-test: the model run over 2022-02-24 to 2025-01-20 on the path actually taken,
compared series by series with what was recorded (``data/history.csv``).

The budget's money is roubles written as US dollars at the accounting rate of
``params/base.toml`` ([meta], 92 RUB/$), so recorded rouble figures are compared with the
model's budget dollars times 92. Oil revenue enters the budget, and the reserves (held in
foreign currency, in actual dollars) are valued, at the day's rate of the historical path
(``macro.rub_per_usd``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.model import ACCOUNTING_RUB_PER_USD
from ..core.schedules import at_time
from ..core.system import DAYS_PER_YEAR
from ..errors import InputError
from ..inputs.history import load_history
from ..inputs.params import ParameterSet, load_params
from ..runs.run import RunResult, simulate

SCENARIO = "history_2022_2025"
END = pd.Timestamp("2025-01-20")


@dataclass(frozen=True)
class Comparison:
    """How one recorded series is read from the model's trajectories, in the data's unit."""

    column: str
    how: str  # "at" (value on the date) or "mean" (average over the period ending on the date)
    scale: Callable[[float], float]
    meaning: str
    #: A figure's panel scaled to the record's periods alone (the model's values outside them
    #: dwarf the figure: the 2022 invasion against the 2024 gain of territory).
    zoom: bool = False


def _rub_trn(rate: float) -> Callable[[float], float]:
    return lambda usd_bn: usd_bn * rate / 1000.0


def comparisons(rub_per_usd: float) -> dict[str, Comparison]:
    """Recorded series the model has a counterpart for."""
    rub = _rub_trn(rub_per_usd)
    return {
        "oil_gas_revenue": Comparison("oil_revenue", "mean", rub, "federal oil and gas revenue"),
        "federal_revenue": Comparison("revenue", "mean", rub, "federal revenue (oil and gas plus the rest)"),
        "federal_spending": Comparison("spending", "mean", rub, "federal spending"),
        "defence_spending": Comparison("defence_spending", "mean", rub, "defence spending (followed as recorded)"),
        "deficit": Comparison("deficit", "mean", rub, "federal deficit"),
        "nwf_liquid": Comparison("reserves_budget", "at", rub, "liquid National Wealth Fund"),
        "cpi_dec_dec": Comparison("headline_inflation", "mean", float,
                                  "inflation (December on December: the model's headline rate averaged over the year)"),
        "cpi_momentum": Comparison("headline_inflation", "mean", float,
                                   "price growth over three months (seasonally adjusted and annualised: the "
                                   "model's headline rate averaged over them)"),
        "cpi_yoy": Comparison("headline_inflation", "mean", float,
                              "inflation over twelve months (the model's headline rate averaged over them)"),
        "key_rate": Comparison("key_rate", "at", float, "the central bank's key rate"),
        "urals_price": Comparison("urals_price", "mean", float, "Urals price"),
        "export_volume": Comparison("export_volume", "mean", float, "oil export volume"),
        "shadow_fleet_share": Comparison("evasion", "mean", lambda e: 100.0 * e,
                                         "shadow tankers' share of seaborne crude (the model's evasion, the share "
                                         "of sanctions' effect circumvented, read as it)"),
        "territory": Comparison("territory", "at", lambda s: 100.0 * s, "territory held by Russia"),
        "territory_gain": Comparison("territory_gain", "mean", float,
                                     "territory Russia gained over the year (its rate of change, averaged)",
                                     zoom=True),
    }


@dataclass(frozen=True)
class BacktestResult:
    """A back-test run and its comparison with the record.

    Attributes
    ----------
    run : RunResult
        The model from 2022-02-24 to 2025-01-20 on the historical path.
    fit : pandas.DataFrame
        One row per recorded figure the model has a counterpart for: ``series``, ``date``,
        ``period``, ``model``, ``recorded``, ``unit``, ``error`` (model - recorded) and
        ``relative_error`` (error / recorded).
    targets : pandas.DataFrame
        The back-test's targets, one row per check: ``target``, ``date``, ``model``,
        ``recorded``, ``error``, ``tolerance`` and ``met``.
    not_compared : list of str
        Recorded series the model has no counterpart for.
    """

    run: RunResult
    fit: pd.DataFrame
    targets: pd.DataFrame
    not_compared: list[str]

    def __repr__(self) -> str:
        met = int(self.targets["met"].sum()) if len(self.targets) else 0
        return (f"<BacktestResult: {self.run.params.start_date} to 2025-01-20, {met} of {len(self.targets)} target "
                f"checks met, {len(self.fit)} recorded figures compared; .targets, .fit, .trajectories>")

    @property
    def trajectories(self) -> pd.DataFrame:
        """The run's trajectories (the same columns as a projection's), 2022-02-24 to 2025-01-20."""
        return self.run.trajectories

    @property
    def params(self) -> ParameterSet:
        return self.run.params


def period_start(date: pd.Timestamp, period: str) -> pd.Timestamp:
    """The first day of the period a recorded figure dated ``date`` covers.

    Parameters
    ----------
    date : pandas.Timestamp
        The figure's date (the end of its period).
    period : str
        ``"year"``, ``"month"``, ``"months"`` (from January of the year) or ``"point"``.

    Returns
    -------
    pandas.Timestamp
    """
    if period == "year":
        return pd.Timestamp(year=date.year, month=1, day=1)
    if period == "month":
        return pd.Timestamp(year=date.year, month=date.month, day=1)
    if period == "months":  # "2022 Jan-Sep", "2023 Jan-Jun", "2023 (to 2023-07-04)": from January
        return pd.Timestamp(year=date.year, month=1, day=1)
    if period == "quarter":  # the three months ending at date: 2023-09-30 -> from 2023-07-01
        return pd.Timestamp(year=date.year, month=date.month, day=1) - pd.DateOffset(months=2)
    if period == "twelve_months":  # 2023-03-31 -> from 2022-04-01
        return pd.Timestamp(year=date.year, month=date.month, day=1) - pd.DateOffset(months=11)
    return date


def _model_value(traj: pd.DataFrame, comp: Comparison, date: pd.Timestamp, start: pd.Timestamp) -> float:
    """The model's counterpart on ``date`` (or averaged from ``start``), or NaN outside the run."""
    first, last = traj.index[0], traj.index[-1]
    if comp.how == "at":
        if not first <= date <= last:
            return math.nan
        day = (date - first) / pd.Timedelta(days=1)
        return float(comp.scale(float(np.interp(day, traj["day"].to_numpy(), traj[comp.column].to_numpy()))))
    window = traj.loc[max(start, first):min(date, last), comp.column]
    if date < first or len(window) == 0:
        return math.nan
    return float(comp.scale(float(window.mean())))


def compare(run: RunResult, history: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Each recorded figure next to the model's value for it.

    Parameters
    ----------
    run : RunResult
        A run starting on or before the first date to compare.
    history : pandas.DataFrame, optional
        :func:`sanctions_model.inputs.history.load_history` (the default).

    Returns
    -------
    fit : pandas.DataFrame
        ``series``, ``date``, ``period``, ``model``, ``recorded``, ``unit``, ``error``,
        ``relative_error``; figures dated before the run starts are left out (a yearly
        figure whose year the run covers in part is compared with the model's average
        over the part it covers).
    not_compared : list of str
        Series the model has no counterpart for.
    """
    history = load_history() if history is None else history
    traj = comparable(run)
    comps = comparisons(float(run.params.meta["rub_per_usd"]))  # type: ignore[arg-type]
    rows = []
    for rec in history.itertuples():
        comp = comps.get(rec.series)
        if comp is None:
            continue
        start = period_start(rec.date, rec.period)
        model = _model_value(traj, comp, rec.date, start)
        if math.isnan(model):
            continue
        rows.append({"series": rec.series, "date": rec.date, "period": rec.period, "model": model,
                     "recorded": rec.value, "unit": rec.unit, "error": model - rec.value,
                     "relative_error": (model - rec.value) / rec.value if rec.value else math.nan})
    fit = pd.DataFrame(rows)
    not_compared = sorted(set(history["series"]) - set(comps))
    return fit, not_compared


def comparable(run: RunResult) -> pd.DataFrame:
    """The run's trajectories with the budget columns the record has.

    Parameters
    ----------
    run : RunResult

    Returns
    -------
    pandas.DataFrame
        The trajectories plus ``revenue``, ``deficit`` and ``defence_spending`` [budget
        US$ bn per year], ``reserves_budget`` (the reserves at the day's rate, in budget
        US$ bn) and ``territory_gain`` [% of Ukraine per year].
    """
    traj = run.trajectories.copy()
    traj["revenue"] = traj["oil_revenue"] + traj["non_oil_revenue"]
    traj["deficit"] = -traj["balance"]
    traj["reserves_budget"] = traj["reserves"] * traj["rub_per_usd"] / ACCOUNTING_RUB_PER_USD
    # [% of Ukraine per year]: averaged over a year, the share gained that year
    traj["territory_gain"] = 100.0 * DAYS_PER_YEAR * np.gradient(traj["territory"].to_numpy(), traj["day"].to_numpy())
    p = {k: np.atleast_1d(v) for k, v in run.params.values().items()}
    defence = at_time(traj["day"].to_numpy(), p)["fiscal.defence_spending"]
    traj["defence_spending"] = np.broadcast_to(defence, (len(traj),))
    return traj


#: The targets of the back-test (issues 5 and 14): series, from when, tolerance, kind. Issue 14
#: added the key rate, inflation, the Urals price, export volumes, the deficit and the 2024 gain
#: of territory. The tolerances are judgements, set before the checks were run: inflation within
#: 2 points (about a fifth of its level), the key rate within 3 (two of the central bank's usual
#: steps), the Urals price within 20% and volumes within 5% (less than their recorded swings,
#: 50-83 US$/bbl and 7.3-8.3 mb/d), the deficit within 1 trn RUB (about half a percent of GDP),
#: and the 2024 gain within half of it (a front frozen since 2022 gains nothing and fails, which
#: the territory's level alone does not show). Item 4 added evasion against the share of
#: Russia's seaborne crude on shadow tankers (outside the price cap's reach), within 15 points
#: (the recorded shares differ by 5 points between routes and by 20 between two months of 2024).
TARGETS = (
    ("oil and gas revenue within 15% each year", "oil_gas_revenue", "2022-01-01", 0.15, "relative"),
    ("NWF liquid assets within 20% from 2023-08", "nwf_liquid", "2023-08-01", 0.20, "relative"),
    ("territory within 2 points from 2023", "territory", "2023-01-01", 2.0, "absolute"),
    ("territory gained in 2024 within half of it", "territory_gain", "2024-01-01", 0.5, "relative"),
    ("inflation within 2 points each year", "cpi_dec_dec", "2022-01-01", 2.0, "absolute"),
    ("price growth over three months within 3 points", "cpi_momentum", "2022-01-01", 3.0, "absolute"),
    ("inflation over twelve months within 2 points", "cpi_yoy", "2022-01-01", 2.0, "absolute"),
    ("key rate within 3 points", "key_rate", "2022-01-01", 3.0, "absolute"),
    ("Urals price within 20%", "urals_price", "2022-01-01", 0.20, "relative"),
    ("oil export volume within 5%", "export_volume", "2022-01-01", 0.05, "relative"),
    ("deficit within 1 trn RUB each year", "deficit", "2022-01-01", 1.0, "absolute"),
    ("evasion within 15 points of the shadow fleet's share", "shadow_fleet_share", "2022-01-01", 15.0, "absolute"),
)


#: The decision core against the record (data: Istanbul talks, 2022-03): direct talks happened in
#: spring 2022 (from 2022-02-28, in Istanbul on 2022-03-29, lapsing in May), and no ceasefire was
#: agreed to 2025-01-20. Each is checked as the chance the model gives the recorded event by the
#: date, against the event (1: it happened; 0: it did not): a chance of talks of at least 10%
#: ("non-negligible"), and of a ceasefire of at most 25% ("low"). Set before the model was run on
#: the record, as issue 15 asks, and not moved since.
EVENTS = (
    ("direct talks by the end of spring 2022 (chance at least 10%)", "p_talks", "2022-05-31", 1.0, 0.90),
    ("no ceasefire to 2025-01-20 (chance at most 25%)", "p_ceasefire", "2025-01-20", 0.0, 0.25),
)


def event_checks(run: RunResult) -> list[dict[str, object]]:
    """The rows of :data:`EVENTS` for ``run``: the chance the model gives each recorded event by its
    date, against the event (skipped where the date is outside the run)."""
    traj = run.trajectories
    rows: list[dict[str, object]] = []
    for name, column, when, recorded, tol in EVENTS:
        date = pd.Timestamp(when)
        if date < traj.index[0] or date > traj.index[-1]:
            continue
        model = float(traj[column].asof(date))
        rows.append({"target": name, "date": date, "model": model, "recorded": recorded, "error": model - recorded,
                     "tolerance": tol, "met": bool(abs(model - recorded) <= tol)})
    return rows


def targets(fit: pd.DataFrame, run: RunResult, history: pd.DataFrame | None = None) -> pd.DataFrame:
    """The back-test's targets, checked one figure at a time.

    Parameters
    ----------
    fit : pandas.DataFrame
        From :func:`compare`.
    run : RunResult
    history : pandas.DataFrame, optional

    Returns
    -------
    pandas.DataFrame
        ``target``, ``date``, ``model``, ``recorded``, ``error``, ``tolerance``, ``met``.
    """
    history = load_history() if history is None else history
    rows = []
    for name, series, since, tol, kind in TARGETS:
        sub = fit[(fit["series"] == series) & (fit["date"] >= pd.Timestamp(since))]
        for r in sub.itertuples():
            err = r.relative_error if kind == "relative" else r.error
            rows.append({"target": name, "date": r.date, "model": r.model, "recorded": r.recorded,
                         "error": err, "tolerance": tol, "met": bool(abs(err) <= tol)})
    # the direction of inflation each year: December-on-December inflation against the year
    # before's, in the model (its rate averaged over each year; before the run, its starting
    # rate) and in the record
    cpi = history[history["series"] == "cpi_dec_dec"].set_index("date")["value"].sort_index()
    model_cpi = fit[fit["series"] == "cpi_dec_dec"].set_index("date")["model"]
    first = run.trajectories.index[0]
    for year in (2022, 2023, 2024):
        end = pd.Timestamp(year=year, month=12, day=31)
        before = pd.Timestamp(year=year - 1, month=12, day=31)
        if end not in cpi.index or before not in cpi.index or end not in model_cpi.index:
            continue
        if before in model_cpi.index and before >= first:
            model_before = float(model_cpi[before])
        else:
            model_before = float(run.trajectories["inflation"].iloc[0])  # the underlying rate at the start
        model_change = float(model_cpi[end]) - model_before
        recorded_change = float(cpi[end] - cpi[before])
        rows.append({"target": "direction of inflation each year", "date": end, "model": model_change,
                     "recorded": recorded_change, "error": model_change - recorded_change, "tolerance": 0.0,
                     "met": bool(np.sign(model_change) == np.sign(recorded_change))})
    rows += event_checks(run)
    return pd.DataFrame(rows)


def backtest(scenario: str = SCENARIO, overrides: dict[str, object] | None = None, *,
             params: ParameterSet | None = None, calibration: bool | str | Path = True) -> BacktestResult:
    """Run the model over 2022-02-24 to 2025-01-20 on the historical path and compare it with the record.

    Parameters
    ----------
    scenario : str
        The historical scenario (default ``history_2022_2025``), or a path to another with
        its own ``start_date``.
    overrides : dict, optional
        Parameter values set last (each checked against its range).
    params : ParameterSet, optional
        Use these parameters instead of ``scenario``, ``overrides`` and ``calibration``.
    calibration : bool or path
        The calibration whose fitted values the run uses (default ``params/calibrated.toml``;
        ``False`` for the base file's values), as :func:`sanctions_model.inputs.params.load_params`.

    Returns
    -------
    BacktestResult
        ``.trajectories``, ``.fit``, ``.targets``.
    """
    params = load_params(scenario, overrides, calibration=calibration) if params is None else params
    days = float((END - pd.Timestamp(params.start_date)).days)
    if days < 1:
        raise InputError(f"a back-test runs up to {END.date()} from a scenario's own start_date; "
                         f"'{'+'.join(params.scenarios) or 'base'}' starts on {params.start_date}. "
                         f"Use {SCENARIO} or another scenario with start_date before {END.date()}.")
    run = simulate(params=params, days=days)
    history = load_history()
    fit, not_compared = compare(run, history)
    return BacktestResult(run, fit, targets(fit, run, history), not_compared)
