"""The Python API for one run or a batch: parameters in, pandas out.

>>> import sanctions_model as sm
>>> run = sm.simulate("hard_way", overrides={"oil.brent_price": 65})
>>> run.outcomes["p_ceasefire_horizon"]
>>> run.trajectories[["strain", "p_ceasefire"]].plot()
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._version import __version__
from ..core.model import FLOWS, STATE_NAMES, STATES
from ..core.outcomes import OUTCOMES, compute, trajectory_values
from ..errors import InputError, SolverError, suggest
from ..inputs.params import ParameterSet, hard_bounds, load_params
from .evaluate import integrate

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .evaluate import Evaluation

MAX_DAYS = 3650


@dataclass(frozen=True, repr=False)
class RunResult:
    """One run of the model.

    Attributes
    ----------
    params : ParameterSet
        Every parameter used, with unit, range and source; ``params.scenarios`` lists the
        scenarios applied in order.
    trajectories : pandas.DataFrame
        Indexed by date; a ``day`` column, one column per stock and key flow.
    outcomes : pandas.Series of float64
        The outcomes of :data:`sanctions_model.core.outcomes.OUTCOMES`: probabilities 0-1, days,
        and levels; a crossing that does not happen is NaN, so the Series is numeric
        (``.round()`` and arithmetic work).
    units : dict
        Unit of every trajectory column and outcome.
    """

    params: ParameterSet
    days: float
    trajectories: pd.DataFrame
    outcomes: pd.Series
    units: dict[str, str]

    @property
    def scenarios(self) -> tuple[str, ...]:
        return self.params.scenarios

    @property
    def label(self) -> str:
        """Scenarios joined with '+', or 'base'."""
        return "+".join(self.params.scenarios) or "base"

    def plot(self, title: str | None = None) -> Figure:
        """Key trajectories (the chances of talks and of a ceasefire, the bargaining range, a
        ceasefire's hold, strain, reserves, territory, oil revenue) with the 100-day mark.

        Parameters
        ----------
        title : str, optional

        Returns
        -------
        matplotlib.figure.Figure
        """
        from ..report.figures import trajectories_figure

        return trajectories_figure([self], None, title or f"sanctions-model: {self.label}")

    def to_markdown(self) -> str:
        """What the run finds, in plain words, and its outcomes as a Markdown table.

        Returns
        -------
        str
        """
        from .describe import outcomes_table, summary

        return (f"**sanctions-model run: {self.label}**, {self.days:g} days from "
                f"{self.params.start_date.isoformat()}\n\n{summary(self)}\n\n{outcomes_table(self)}\n")

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __repr__(self) -> str:
        from .describe import format_outcome

        start = self.params.start_date

        def show(name: str) -> str:
            text = format_outcome(name, self.outcomes[name], start)
            unit = OUTCOMES[name][0]
            return text if unit in ("bool", "day") else f"{text} {unit}"

        return (f"RunResult {self.label}: {self.days:g} days from {start.isoformat()} "
                f"(parameter hash {self.params.digest()})\n"
                f"  talks within 100 days: {show('p_talks_100_days')}; ceasefire within a year: "
                f"{show('p_ceasefire_1_year')}; ceasefire within the horizon: {show('p_ceasefire_horizon')}\n"
                f"  reserves at horizon: "
                f"{show('reserves_at_horizon')}; territory held by Russia at horizon: "
                f"{show('territory_at_horizon')}\n"
                f"  .outcomes ({len(self.outcomes)} values), .trajectories ({len(self.trajectories)} days x "
                f"{self.trajectories.shape[1]} columns), .units, .plot()")

    def _repr_html_(self) -> str:
        from html import escape

        from .describe import format_outcome, summary

        start = self.params.start_date
        rows = "".join(
            f"<tr><td><code>{name}</code></td><td>{escape(format_outcome(name, self.outcomes[name], start))}"
            f"</td><td>{escape(unit if unit not in ('bool', 'day') else '')}</td></tr>"
            for name, (unit, _) in OUTCOMES.items())
        return (f"<p><b>sanctions-model run: {escape(self.label)}</b>, {self.days:g} days from "
                f"{self.params.start_date.isoformat()} (parameter hash {self.params.digest()})</p>"
                f"<p>{escape(summary(self))}</p>"
                f"<table><thead><tr><th>outcome</th><th>value</th><th>unit</th></tr></thead><tbody>{rows}</tbody></table>")

    def provenance(self) -> dict[str, object]:
        """What produced this run.

        Returns
        -------
        dict
            Package version, scenarios, overrides, parameter hash, horizon, start date.
        """
        return {
            "version": __version__,
            "scenarios": list(self.params.scenarios),
            "overrides": dict(self.params.overrides),
            "parameter_hash": self.params.digest(),
            "days": self.days,
            "start_date": self.params.start_date.isoformat(),
            "seed": None,
        }


def check_days(days: object) -> float:
    """Validate a horizon in days: a finite number in (0, MAX_DAYS]."""
    if isinstance(days, bool) or not isinstance(days, (int, float, np.integer, np.floating)):
        raise InputError(f"days must be a number, got {type(days).__name__} {days!r}.")
    if not math.isfinite(days) or not 1 <= days <= MAX_DAYS:
        raise InputError(f"days must be between 1 and {MAX_DAYS}, got {days}.")
    return float(days)


def simulate(
    scenario: str | Path | Iterable[str | Path] | None = None,
    overrides: Mapping[str, object] | None = None,
    days: float = 730,
    *,
    params: ParameterSet | None = None,
    step: float = 1.0,
    rtol: float = 1e-6,
) -> RunResult:
    """Run the model once.

    Parameters
    ----------
    scenario : str, path or list of them, optional
        Scenarios applied in order over the base (see :func:`list_scenarios`).
    overrides : dict, optional
        Parameter values set last, e.g. ``{"sanctions.level": 0.8}``; each is checked
        against its range.
    days : float [day]
        Horizon after 2025-01-20, at most 3650.
    params : ParameterSet, optional
        Use these parameters instead of loading ``scenario`` and ``overrides``.
    step : float [day]
        Output interval of the trajectories.
    rtol : float
        Relative tolerance of the solver.

    Returns
    -------
    RunResult
        ``.trajectories`` (DataFrame by date), ``.outcomes`` (Series), ``.units``.

    Raises
    ------
    InputError
        For an unknown scenario or parameter, a value outside its range, or a bad horizon.
    """
    days = check_days(days)
    step, rtol = check_step(step, days), check_rtol(rtol)
    if params is None:
        if isinstance(scenario, Mapping):
            raise InputError("scenario must be a name, a path or a list of them; give parameter values as "
                             "overrides={...}.")
        params = load_params(scenario, overrides)
    elif scenario is not None or overrides:
        raise InputError("give either params= or scenario/overrides, not both (params= already has its scenarios "
                         "applied: sm.load_params(scenario, overrides) makes one).")
    elif not isinstance(params, ParameterSet):
        raise InputError(f"params must be a ParameterSet (from sm.load_params), got {type(params).__name__}.")
    sol = integrate(params.values(), days, step=step, rtol=rtol)
    values = trajectory_values(sol, [*STATE_NAMES, *FLOWS], np.arange(sol.t.size))
    outcomes = {k: v[0] for k, v in compute(sol).items()}
    return _result(params, days, sol.t, {k: v[0] for k, v in values.items()}, outcomes)


def simulate_batch(values: Mapping[str, object], days: float = 730) -> pd.DataFrame:
    """Outcomes for a batch of parameter sets in one solver call.

    Parameters
    ----------
    values : mapping of every parameter name to a scalar or an array (n,)
        For example ``load_params().values()`` with some entries replaced by arrays.
        Values may go beyond a parameter's sampled range (its ``low`` to ``high``), but not beyond
        what the quantity allows (no negative price, stock or rate; no share above 1; no day past
        the longest horizon): that is an InputError naming the parameter.
    days : float [day]

    Returns
    -------
    pandas.DataFrame, one row per parameter set, one column per outcome.

    Raises
    ------
    SolverError
        Naming the sets the solver could not integrate (the others are computed first: see
        :func:`sanctions_model.runs.evaluate.evaluate`, which records them and goes on).

    Notes
    -----
    The batch is integrated with the policy every batch uses
    (:data:`sanctions_model.runs.evaluate.POLICY`: relative tolerance 1e-5, crossings located
    on a 2-day grid), so a set's outcomes agree with :func:`simulate`'s to far inside a day.
    """
    from .evaluate import evaluate

    days = check_days(days)
    result = evaluate(check_batch(values), days)
    if not result.ok.all():
        bad = np.flatnonzero(~result.ok)
        raise SolverError(f"{bad.size} of {result.n} parameter sets could not be integrated (rows "
                          f"{', '.join(map(str, bad[:10]))}{', ...' if bad.size > 10 else ''}); row {bad[0]}: "
                          f"{result.message[bad[0]]}")
    return pd.DataFrame(result.outcomes)


def run_from(params: ParameterSet, days: float, result: Evaluation, member: int) -> RunResult:
    """One member of an evaluated batch as a :class:`RunResult`: its kept trajectories (every
    stock and flow the batch kept) and outcomes, ``params`` being that member's parameters."""
    return _result(params, days, result.days, {k: v[member] for k, v in result.trajectories.items()},
                   {k: v[member] for k, v in result.outcomes.items()})


def _result(params: ParameterSet, days: float, t: np.ndarray, series: Mapping[str, np.ndarray],
            outcomes: Mapping[str, np.ndarray | float]) -> RunResult:
    """A :class:`RunResult` from one member's series at days ``t`` and its outcomes."""
    index = pd.DatetimeIndex(pd.Timestamp(params.start_date) + pd.to_timedelta(t, unit="D"), name="date")
    label = "+".join(params.scenarios) or "base"
    return RunResult(params, days, pd.DataFrame({"day": t, **series}, index=index),
                     pd.Series({k: float(v) for k, v in outcomes.items()}, name=label, dtype="float64"), _units())


def check_step(step: object, days: float) -> float:
    """An output interval: a finite number of days in (0, ``days``]."""
    if isinstance(step, bool) or not isinstance(step, (int, float, np.integer, np.floating)) \
            or not math.isfinite(step) or not 0 < step <= days:
        raise InputError(f"step must be a number of days above 0 and at most the horizon ({days:g}), got {step!r}.")
    return float(step)


def check_rtol(rtol: object) -> float:
    """A solver tolerance: a number in [1e-12, 1e-2]."""
    if isinstance(rtol, bool) or not isinstance(rtol, (int, float, np.integer, np.floating)) \
            or not 1e-12 <= rtol <= 1e-2:
        raise InputError(f"rtol must be a number from 1e-12 to 1e-2, got {rtol!r}.")
    return float(rtol)


def check_batch(values: object) -> dict[str, np.ndarray]:
    """A batch of parameter values: every parameter of the base file named (no unknown name),
    each a finite number or a 1-d array, all arrays of one length; an InputError otherwise."""
    if not isinstance(values, Mapping):
        raise InputError(f"values must be a dict of parameter name to value or array, got {type(values).__name__}.")
    known = load_params(calibration=False)
    unknown = [k for k in values if k not in known and not _is_step(k)]
    if unknown:
        raise InputError(f"unknown parameter '{unknown[0]}'.{suggest(str(unknown[0]), known)}")
    missing = [k for k in known if k not in values]
    if missing:
        raise InputError(f"values lacks '{missing[0]}' ({len(missing)} parameters missing); start from "
                         "sm.load_params().values() and replace some entries.")
    out, lengths = {}, {}
    for name, raw in values.items():
        try:
            array = np.atleast_1d(np.asarray(raw, dtype=float))
        except (TypeError, ValueError):
            raise InputError(f"'{name}' must be a number or an array of numbers, got {type(raw).__name__}.") from None
        if array.ndim != 1:
            raise InputError(f"'{name}' must be a number or a 1-d array, got shape {array.shape}.")
        if not np.isfinite(array).all():
            raise InputError(f"'{name}' holds a value that is not a finite number.")
        if name in known:
            spec = known.parameters[name]
            lo, hi = hard_bounds(spec)
            outside = array[(array < lo) | (array > hi)]
            if outside.size:
                raise InputError(f"'{name}' = {outside[0]:g} is beyond what the quantity allows ([{lo:g}, {hi:g}] "
                                 f"{spec.unit}; its sampled range is {spec.low:g} to {spec.high:g}).")
        if array.size > 1:
            lengths[name] = array.size
        out[name] = array
    if len(set(lengths.values())) > 1:
        (a, la), (b, lb) = sorted(lengths.items(), key=lambda kv: kv[1])[0], sorted(lengths.items(),
                                                                                     key=lambda kv: kv[1])[-1]
        raise InputError(f"the arrays differ in length: '{a}' has {la} values, '{b}' has {lb}; give every array "
                         "the same length (one value per parameter set).")
    return out


def _is_step(name: str) -> bool:
    parts = name.split(".")
    return len(parts) == 3 and parts[1].startswith("step") and parts[1][4:].isdigit()


def _units() -> dict[str, str]:
    units = {"day": "day", **STATES, **FLOWS}
    units.update({k: u for k, (u, _) in OUTCOMES.items()})
    return units
