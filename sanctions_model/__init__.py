"""sanctions-model: Western sanctions on Russia, the strain on its war economy, and the
willingness of both sides to negotiate (a small bargaining model of talks and a ceasefire), as a
system-dynamics model solved with SciPy.

The API a notebook needs:

- :func:`simulate` runs the model once and returns trajectories and outcomes;
- :func:`simulate_batch` runs many parameter sets in one solver call;
- :func:`load_params` and :func:`list_scenarios` read the parameter files;
- :func:`run_ensemble` runs the same sampled assumptions under several scenarios;
- :func:`run_sweep` runs a sampling design (:class:`Design`) at scale, and
  :func:`open_sweep` reads one back (tables, shares, fan charts, xarray);
- :func:`backtest` runs 2022-02-24 to 2025-01-20 on the historical path against the record;
- ``with execution(workers=..., scheduler=..., progress=...)`` says where every batch inside runs.
"""

from typing import TYPE_CHECKING

from ._version import __version__

#: Where each public name lives. They are imported on first use (PEP 562), so that
#: ``import sanctions_model`` and commands that need little (``params``, ``scenarios``, a
#: refused argument) do not pay for SciPy's and pandas' imports.
_PUBLIC = {
    "BacktestResult": "analysis.backtesting", "backtest": "analysis.backtesting",
    "ConstrainedEnsemble": "analysis.constrain", "constrain": "analysis.constrain",
    "Design": "runs.designs",
    "Discovery": "analysis.discover", "discover": "analysis.discover",
    "Ensemble": "runs.ensemble", "run_ensemble": "runs.ensemble",
    "InputError": "errors", "InputWarning": "errors", "SolverError": "errors",
    "execution": "runs.executors",
    "ParameterSet": "inputs.params", "list_scenarios": "inputs.params", "load_params": "inputs.params",
    "RunResult": "runs.run", "simulate": "runs.run", "simulate_batch": "runs.run",
    "run_sweep": "runs.sweep",
    "SweepResult": "runs.sweep_result", "open_sweep": "runs.sweep_result",
}
#: The modules a notebook uses by name (``sm.sensitivity``); each is a module of the package's
#: root (``sensitivity.py``) that stands for the module of that name in its layer.
_MODULES = ("sensitivity", "backtesting", "calibrate", "history", "ensemble", "sweep")

if TYPE_CHECKING:
    from .analysis.backtesting import BacktestResult, backtest
    from .analysis.constrain import ConstrainedEnsemble, constrain
    from .analysis.discover import Discovery, discover
    from .errors import InputError, InputWarning, SolverError
    from .inputs.params import ParameterSet, list_scenarios, load_params
    from .runs.designs import Design
    from .runs.ensemble import Ensemble, run_ensemble
    from .runs.executors import execution
    from .runs.run import RunResult, simulate, simulate_batch
    from .runs.sweep import run_sweep
    from .runs.sweep_result import SweepResult, open_sweep


def __getattr__(name: str) -> object:
    if name in _PUBLIC:
        import importlib

        value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _MODULES:
        import importlib

        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'sanctions_model' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC, *_MODULES})


__all__ = [
    "BacktestResult",
    "ConstrainedEnsemble",
    "Design",
    "Discovery",
    "Ensemble",
    "InputError",
    "InputWarning",
    "ParameterSet",
    "RunResult",
    "SolverError",
    "SweepResult",
    "__version__",
    "backtest",
    "constrain",
    "discover",
    "execution",
    "list_scenarios",
    "load_params",
    "open_sweep",
    "run_ensemble",
    "run_sweep",
    "simulate",
    "simulate_batch",
]
