"""Studies: an analysis run end to end, returned as data for ``report/`` to render.

A study holds everything its report says (results, settings, warnings) and nothing about
Markdown or figures; the renderer never runs the model or opens a parameter file.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..inputs.params import ParameterSet, load_params, scenario_names
from . import sensitivity as sa

#: The command line's method names and the functions behind them.
SENSITIVITY_METHODS: dict[str, Callable[..., pd.DataFrame]] = {
    "oat": sa.oat, "morris": sa.morris, "sobol": sa.sobol, "mc": sa.monte_carlo}
#: The command line's name of each :func:`~sanctions_model.analysis.sensitivity.analyze` method.
CLI_NAME = {"oat": "oat", "morris": "morris", "sobol": "sobol", "monte_carlo": "mc"}
#: Default sample size of each method.
DEFAULT_N = {"oat": 1, "morris": 20, "sobol": 256, "mc": 1000}


@dataclass(frozen=True)
class SensitivityStudy:
    """One sensitivity analysis: which assumptions decide the outcomes, and by how much.

    Attributes
    ----------
    method : str
        ``oat``, ``morris``, ``sobol`` or ``mc`` (rank correlations).
    result : DataFrame
        The indices, as :func:`sanctions_model.analysis.sensitivity.analyze` returns them.
    params : ParameterSet
        The scenario's parameters (the levers, and each assumption's description and range).
    names, outcomes : list of str
        The assumptions varied and the outcomes analysed.
    n : int
        The method's sample size.
    seed : int
    days : float [day]
    runs : int
        Model runs behind the indices.
    warnings : list of str
        Indices too uncertain to rank the assumptions.
    sweep : str, optional
        The sweep directory the indices were computed from (None: run for this study).
    """

    method: str
    result: pd.DataFrame
    params: ParameterSet
    names: list[str]
    outcomes: list[str]
    n: int
    seed: int
    days: float
    runs: int
    warnings: list[str] = field(default_factory=list)
    sweep: str | None = None

    def per_outcome(self) -> dict[str, pd.DataFrame]:
        """The indices of each outcome as its own table."""
        if isinstance(self.result.columns, pd.MultiIndex):
            return {o: self.result[o] for o in self.outcomes}
        return {self.outcomes[0]: self.result}


def _caught(run: Callable[[], pd.DataFrame]) -> tuple[pd.DataFrame, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", sa.SensitivityWarning)
        result = run()
    return result, [str(w.message) for w in caught if issubclass(w.category, sa.SensitivityWarning)]


def sensitivity_study(method: str, params: ParameterSet, names: Sequence[str], outcomes: Sequence[str], n: int,
                      seed: int, days: float) -> SensitivityStudy:
    """Run one sensitivity method on the model (see ``sanctions-model sensitivity``)."""
    if method not in SENSITIVITY_METHODS:
        raise InputError(f"unknown method '{method}'; one of {', '.join(SENSITIVITY_METHODS)}.")
    problem = sa.problem_from_params(params, names)
    f = sa.model_function(params, names, outcomes, days)
    result, wide = _caught(lambda: SENSITIVITY_METHODS[method](problem, f, n, seed=seed))
    return SensitivityStudy(method, result, params, list(names), list(outcomes), n, seed, days,
                            int(result.attrs["n_evaluations"]), wide)


def sweep_sensitivity_study(sweep: str | Path, outcomes: Sequence[str] | None = None, scenario: str | None = None,
                            method: str | None = None) -> SensitivityStudy:
    """Indices of a stored sweep (``sanctions-model sensitivity --from SWEEP_DIR``)."""
    from ..runs.designs import Design
    from ..runs.sweep_result import open_sweep

    stored = open_sweep(sweep)
    analysis = {v: k for k, v in CLI_NAME.items()}.get(method, method) if method else None
    result, wide = _caught(lambda: sa.analyze_sweep(stored, outcomes, scenario, analysis))
    design = Design.from_dict(stored.settings["design"])
    label = str(result.attrs["scenario"])
    # the sweep's levers came from its scenario; labels and ranges from the same files
    params = load_params([s for s in label.split("+") if s in scenario_names()] or None)
    chosen = list(outcomes) if outcomes else list(sa.DEFAULT_OUTCOMES)
    return SensitivityStudy(CLI_NAME[str(result.attrs["method"])], result, params, list(design.names), chosen,
                            design.n, design.seed, float(stored.settings["days"]), int(result.attrs["n_evaluations"]),
                            wide, str(stored.path))
