"""What the explorer's page shows, computed without Dash: the run at the settings, the band over
constrained members, and the chances of talks and a ceasefire.

For a scenario and the values of the page's controls, :meth:`Explorer.view` gives:

- the **central run**: :func:`sanctions_model.runs.run.simulate` of the scenario with the values
  that differ from the scenario's set as overrides (``sanctions-model run --scenario S --set ...``);
- the **scenario as filed**: the same scenario with no override, the reference a change is read
  against;
- the **band**: a fixed, seeded, weighted resample of the constrained ensemble's members
  (``params/constrained-ensemble.parquet``), each projected from its own state on the cut date as
  :func:`sanctions_model.analysis.projection.project` projects it (the same values, the same starting
  states, the same batch function), equally weighted after the resample; the 5th to 95th percentiles
  of the trajectories over them, and the mean of each chance with its sampling margin. A value set
  on the page (one that differs from the scenario's) is held for every member, as ``--set`` is; a
  control left at the scenario's value leaves each member its own value of that assumption.

Systematic resampling (one seeded uniform offset, then every ``1/n`` of the cumulative weights)
draws each member about ``n`` times its weight, with less sampling noise than ``n`` independent
draws; no member's weight in the file exceeds ``1/n`` for the default ``n``, so no member is drawn
twice.
"""

from __future__ import annotations

import math
import os
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis.constrain import SCENARIO as HISTORY_SCENARIO
from ..analysis.projection import SEED as PROJECTION_SEED
from ..analysis.projection import ProjectionTask, default_path, member_values, project_batch
from ..core.model import STATE_NAMES
from ..core.outcomes import GOAL_DAYS
from ..errors import InputError
from ..inputs import ensemble_file
from ..inputs.params import ParameterSet, load_params, load_scenario, scenario_names
from ..runs.ensemble import percentile_table
from ..runs.run import MAX_DAYS, RunResult, simulate
from ..runs.run import check_days as check_run_days
from .controls import Control, controls

#: Members the band is drawn from by default: the whole redraw (the central run and the members)
#: stays near half a second on one core (docs/explorer.md gives the measurement).
DEFAULT_MEMBERS = 100
#: The horizons the explorer accepts [day]: the chances by day 100 need at least 100 days.
MIN_DAYS = GOAL_DAYS
#: Seed of the weighted resample of members.
RESAMPLE_SEED = 20250120
#: The normal quantile of a two-sided 95% interval.
Z95 = 1.959963984540054
#: The chances the page leads with: outcome -> what it is, in words.
CHANCES: dict[str, str] = {
    "p_talks_100_days": "Direct talks by day 100",
    "p_talks_horizon": "Direct talks within the horizon",
    "p_ceasefire_100_days": "A ceasefire agreed by day 100",
    "p_ceasefire_horizon": "A ceasefire agreed within the horizon",
}
#: Trajectories drawn with the members' band (each one of ``runs.ensemble.FAN_VARIABLES``).
BAND_VARIABLES = ("p_ceasefire", "strain", "reserves", "territory")
#: Views kept, so that returning to a setting is instant.
CACHE_SIZE = 32


def check_days(days: object) -> float:
    """A horizon for the explorer: a number of days in [:data:`MIN_DAYS`, :data:`MAX_DAYS`].

    Parameters
    ----------
    days : object

    Returns
    -------
    float [day]

    Raises
    ------
    InputError
        If ``days`` is not a finite number in range.
    """
    if isinstance(days, bool) or not isinstance(days, (int, float, np.integer, np.floating)):
        raise InputError(f"days must be a number from {MIN_DAYS:g} to {MAX_DAYS:g}, got {days!r}.")
    if not MIN_DAYS <= days <= MAX_DAYS:  # NaN fails too
        raise InputError(f"days must be between {MIN_DAYS:g} and {MAX_DAYS:g} (the chances by day 100 need at "
                         f"least 100 days), got {days!r}.")
    return check_run_days(days)


def check_members(members: object, available: int | None = None) -> int:
    """A number of members for the band: a whole number from 1 to ``available``.

    Parameters
    ----------
    members : object
    available : int, optional
        The ensemble's members.

    Returns
    -------
    int

    Raises
    ------
    InputError
    """
    if isinstance(members, bool) or not isinstance(members, (int, np.integer)) or members < 1:
        raise InputError(f"members must be a whole number of at least 1, got {members!r}.")
    if available is not None and members > available:
        raise InputError(f"members must be at most {available:,} (the constrained ensemble's members), got "
                         f"{members:,}.")
    return int(members)


def scenario_choices(extra: str | None = None) -> dict[str, str]:
    """The scenarios the page offers: key (a name, or a scenario file's path) -> title.

    Parameters
    ----------
    extra : str, optional
        A scenario file given on the command line, offered after the named ones.

    Returns
    -------
    dict
        The named scenarios of ``params/scenarios`` (``status_quo`` first), then ``extra``.
    """
    choices = {name: load_scenario(name).title for name in scenario_names()}
    if extra is not None and extra not in choices:
        choices[extra] = f"{load_scenario(extra).title} ({Path(extra).name})"
    return choices


def check_scenario(scenario: object) -> str:
    """A scenario the explorer can start from: a name of ``params/scenarios`` or a scenario file that
    starts on the base file's start date.

    Parameters
    ----------
    scenario : object

    Returns
    -------
    str
        The name, or the file's path.

    Raises
    ------
    InputError
        For anything else, with the known names.
    """
    if isinstance(scenario, os.PathLike):
        scenario = os.fspath(scenario)
    if not isinstance(scenario, str) or not scenario.strip():
        raise InputError(f"scenario must be a scenario's name or a scenario file, got {type(scenario).__name__} "
                         f"{scenario!r}. Known scenarios: {', '.join(scenario_names())}.")
    sc = load_scenario(scenario)  # an unknown name is refused here, with the nearest known one
    if sc.start_date is not None:
        raise InputError(f"scenario '{scenario}' starts on {sc.start_date}; the explorer projects from the base "
                         f"file's start date. Known scenarios: {', '.join(scenario_names())}.")
    load_params(scenario)  # its values are checked against their ranges
    return scenario


def resample(weights: np.ndarray, n: int, seed: int = RESAMPLE_SEED) -> np.ndarray:
    """Systematic resampling: the rows of ``n`` draws by weight, each about ``n`` times its weight.

    Parameters
    ----------
    weights : array (m,)
        Non-negative, not all zero.
    n : int
    seed : int
        Seed of the one uniform offset.

    Returns
    -------
    array of int (n,)
        Row numbers, ascending.
    """
    cumulative = np.cumsum(np.asarray(weights, dtype=float))
    positions = (np.random.default_rng(seed).random() + np.arange(n)) / n * cumulative[-1]
    return np.minimum(np.searchsorted(cumulative, positions, side="right"), len(cumulative) - 1)


def margin(share: float, n: int) -> float:
    """The sampling margin of a mean chance over ``n`` members: ``1.96 sqrt(p (1 - p) / n)``, 0-1.

    Conservative for an average of chances (a quantity in [0, 1] varies at most as a yes/no one of
    the same mean); NaN when ``n`` is 0 or ``share`` NaN.

    Parameters
    ----------
    share : float
    n : int

    Returns
    -------
    float
    """
    if n < 1 or not math.isfinite(share):
        return math.nan
    return Z95 * math.sqrt(max(share * (1 - share), 0.0) / n)


@dataclass(frozen=True)
class Chance:
    """One chance of the page, 0-1: at the central values, in the scenario as filed, and over members.

    Attributes
    ----------
    central, filed, members : float
    margin : float
        The sampling margin of ``members`` (see :func:`margin`).
    """

    central: float
    filed: float
    members: float
    margin: float


@dataclass(frozen=True)
class View:
    """Everything the page shows for one setting.

    Attributes
    ----------
    scenario : str
        The key of the scenario the values are set over.
    params : ParameterSet
        The central run's parameters (``params.overrides``: the values set on the page).
    central, filed : RunResult
        The run at the settings, and the scenario's run with no override.
    band : dict of variable -> DataFrame
        The members' percentiles ``p5`` ... ``p95`` by day [day after the start] of each of
        :data:`BAND_VARIABLES`.
    members : DataFrame
        One row per member drawn: ``member`` (the ensemble file's ``member``: the member's row in the
        prior design the ensemble was drawn from, not its row in the file), ``status`` and the outcomes.
    chances : dict of outcome -> Chance
        The outcomes of :data:`CHANCES`.
    seconds : dict of str -> float
        How long the ``central`` run, the ``members`` and the whole view (``total``) took [s].
    """

    scenario: str
    params: ParameterSet
    central: RunResult
    filed: RunResult
    band: dict[str, pd.DataFrame]
    members: pd.DataFrame
    chances: dict[str, Chance]
    seconds: dict[str, float]

    @property
    def n_members(self) -> int:
        """Members drawn."""
        return len(self.members)

    @property
    def n_ok(self) -> int:
        """Members the solver integrated (what the band and the chances are over)."""
        return int((self.members["status"] == "ok").sum())


class Explorer:
    """The explorer's model side: the scenarios, the controls, the members drawn, and the views.

    Parameters
    ----------
    scenario : str
        The scenario the page opens on (a name, or a scenario file).
    days : float [day]
        Horizon, from :data:`MIN_DAYS` to :data:`MAX_DAYS`.
    ensemble : path, optional
        The constrained ensemble (default ``params/constrained-ensemble.parquet``).
    members : int
        Members the band is drawn from.
    seed : int
        Seed of the resample.

    Raises
    ------
    InputError
        For an unknown scenario, a bad horizon or member count, or an ensemble file that cannot be
        read or starts on another day than the scenarios.
    """

    def __init__(self, scenario: str = "status_quo", days: float = 730, ensemble: str | os.PathLike[str] | None = None,
                 members: int = DEFAULT_MEMBERS, seed: int = RESAMPLE_SEED) -> None:
        self.days = check_days(days)
        self.scenario = check_scenario(scenario)
        if ensemble is not None and not isinstance(ensemble, (str, os.PathLike)):
            raise InputError(f"ensemble must be a path to a constrained ensemble file, got "
                             f"{type(ensemble).__name__} {ensemble!r}.")
        check_members(members)
        self.choices = scenario_choices(self.scenario)
        self.file = ensemble_file.read(default_path() if ensemble is None else ensemble)
        self.members = check_members(members, len(self.file.members))
        start = load_params(self.scenario).start_date
        if str(self.file.meta.get("as_of")) != start.isoformat():
            raise InputError(f"{self.file.path}: the ensemble is cut on {self.file.meta.get('as_of')}, the scenarios "
                             f"start on {start.isoformat()}; the explorer needs an ensemble cut on the scenarios' "
                             "start date.")
        self.history = load_params(self.file.meta.get("scenario", HISTORY_SCENARIO))
        weights = self.file.members["weight"].to_numpy(dtype=float)
        self.rows = resample(weights, self.members, seed)
        self.start = self.file.states[list(STATE_NAMES)].to_numpy(dtype=float).T[:, self.rows]
        self.reference = self.file.members["reference.strain"].to_numpy(dtype=float)[self.rows]
        self.controls: list[Control] = controls(load_params())
        self._filed: dict[str, tuple[ParameterSet, RunResult]] = {}
        self._views: OrderedDict[tuple[str, tuple[tuple[str, float], ...]], View] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def ensemble_path(self) -> Path:
        """The constrained ensemble's file."""
        return self.file.path

    def filed(self, scenario: str) -> tuple[ParameterSet, RunResult]:
        """A scenario's parameters and run with no override (computed once).

        Parameters
        ----------
        scenario : str
            A key of :attr:`choices`.

        Returns
        -------
        (ParameterSet, RunResult)
        """
        if scenario not in self.choices:
            raise InputError(f"unknown scenario '{scenario}'; the page offers {', '.join(self.choices)}.")
        with self._lock:
            found = self._filed.get(scenario)
        if found is None:
            params = load_params(scenario)
            found = (params, simulate(params=params, days=self.days))
            with self._lock:
                self._filed[scenario] = found
        return found

    def values(self, scenario: str) -> dict[str, float]:
        """The controls' values in a scenario as filed.

        Parameters
        ----------
        scenario : str

        Returns
        -------
        dict
            Parameter -> value, in the controls' order.
        """
        params, _ = self.filed(scenario)
        return {c.name: params[c.name] for c in self.controls}

    def overrides(self, scenario: str, values: Mapping[str, object]) -> dict[str, float]:
        """The values set on the page that differ from the scenario's.

        Parameters
        ----------
        scenario : str
        values : dict
            Control -> value, as the page gives them (a number, or None for an emptied box).

        Returns
        -------
        dict
            Parameter -> value.

        Raises
        ------
        InputError
            For an unknown control or a value that is not a number.
        """
        if not isinstance(values, Mapping):
            raise InputError(f"values must be a dict of parameter to value, got {type(values).__name__}.")
        filed, _ = self.filed(scenario)
        known = {c.name: c for c in self.controls}
        out = {}
        for name, raw in values.items():
            if name not in known:
                raise InputError(f"explorer: '{name}' is not one of the page's controls.")
            c = known[name]
            if raw is None or isinstance(raw, bool) or not isinstance(raw, (int, float, np.integer, np.floating)):
                got = "the box is empty" if raw is None or raw == "" else f"got {raw!r}"
                raise InputError(f"{c.title} ({name}): enter a number from {c.low:g} to {c.high:g} {c.unit}; {got}.")
            value = float(raw)
            if not math.isclose(value, filed[name], rel_tol=1e-12, abs_tol=1e-12):
                out[name] = value
        return out

    def is_cached(self, scenario: str, values: Mapping[str, object] | None = None) -> bool:
        """Whether :meth:`view` has the view for these inputs already (False for inputs it would refuse).

        Parameters
        ----------
        scenario : str
        values : dict, optional

        Returns
        -------
        bool
        """
        try:
            key = (scenario, tuple(sorted(self.overrides(scenario, values or {}).items())))
        except InputError:
            return False
        with self._lock:
            return key in self._views

    def view(self, scenario: str, values: Mapping[str, object] | None = None) -> View:
        """The page for a scenario and the controls' values.

        Parameters
        ----------
        scenario : str
            A key of :attr:`choices`.
        values : dict, optional
            Control -> value; a value equal to the scenario's is not an override.

        Returns
        -------
        View

        Raises
        ------
        InputError
            For an unknown scenario or control, or a value that is not a number within its range
            (the message names the parameter and its range, as ``--set``'s does).
        """
        began = time.perf_counter()
        overrides = self.overrides(scenario, values or {})
        key = (scenario, tuple(sorted(overrides.items())))
        with self._lock:
            cached = self._views.get(key)
            if cached is not None:
                self._views.move_to_end(key)
                return cached
        params = load_params(scenario, overrides, origin="explorer")
        _, filed = self.filed(scenario)
        t0 = time.perf_counter()
        central = simulate(params=params, days=self.days)
        t1 = time.perf_counter()
        band, members = self.project(params)
        t2 = time.perf_counter()
        ok = members[members["status"] == "ok"]
        chances = {}
        for name in CHANCES:
            share = float(ok[name].mean()) if len(ok) else math.nan
            chances[name] = Chance(float(central.outcomes[name]), float(filed.outcomes[name]), share,
                                   margin(share, len(ok)))
        view = View(scenario, params, central, filed, band, members, chances,
                    {"central": t1 - t0, "members": t2 - t1, "total": time.perf_counter() - began})
        with self._lock:
            self._views[key] = view
            while len(self._views) > CACHE_SIZE:
                self._views.popitem(last=False)
        return view

    def project(self, params: ParameterSet) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
        """The members drawn, projected from their own states under ``params``.

        The values and the batch are :func:`sanctions_model.analysis.projection.project`'s for the
        same members (:func:`~sanctions_model.analysis.projection.member_values`,
        :func:`~sanctions_model.analysis.projection.project_batch`), so a member's outcomes are the
        same here as in a projection of the whole ensemble.

        Parameters
        ----------
        params : ParameterSet

        Returns
        -------
        band : dict of variable -> DataFrame
            Percentiles by day of :data:`BAND_VARIABLES` over the members that solved.
        members : DataFrame
            ``member``, ``status`` and every outcome, one row per member drawn.
        """
        names, x = member_values(self.file, self.history, params, PROJECTION_SEED)
        task = ProjectionTask(tuple((k, float(v)) for k, v in params.values().items()), tuple(names), x[self.rows],
                              self.start, self.reference, self.days, True)
        result = project_batch(task)
        with warnings.catch_warnings():  # no member solved: the band is NaN, and the page says so
            warnings.simplefilter("ignore", RuntimeWarning)
            band = {var: percentile_table(result.trajectories[var][result.ok] if result.ok.any() else
                                          np.full((1, result.days.size), np.nan), result.days)
                    for var in BAND_VARIABLES}
        members = pd.DataFrame({"member": self.file.members["member"].to_numpy()[self.rows],
                                "status": result.status.astype(str), **result.outcomes})
        return band, members
