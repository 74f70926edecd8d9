"""sanctions-model: Western sanctions on Russia, the strain on its war economy, and the
willingness of both sides to negotiate, as a system-dynamics model solved with SciPy.

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

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sanctions-model")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from typing import TYPE_CHECKING  # noqa: E402

#: Where each public name lives. They are imported on first use (PEP 562), so that
#: ``import sanctions_model`` and commands that need little (``params``, ``scenarios``, a
#: refused argument) do not pay for SciPy's and pandas' imports.
_PUBLIC = {
    "BacktestResult": "backtesting", "backtest": "backtesting",
    "Design": "designs",
    "Ensemble": "ensemble", "run_ensemble": "ensemble",
    "InputError": "errors", "SolverError": "errors",
    "execution": "parallel",
    "ParameterSet": "params", "list_scenarios": "params", "load_params": "params",
    "RunResult": "run", "simulate": "run", "simulate_batch": "run",
    "run_sweep": "sweep",
    "SweepResult": "sweep_result", "open_sweep": "sweep_result",
}

if TYPE_CHECKING:
    from .backtesting import BacktestResult, backtest
    from .designs import Design
    from .ensemble import Ensemble, run_ensemble
    from .errors import InputError, SolverError
    from .parallel import execution
    from .params import ParameterSet, list_scenarios, load_params
    from .run import RunResult, simulate, simulate_batch
    from .sweep import run_sweep
    from .sweep_result import SweepResult, open_sweep


def __getattr__(name: str) -> object:
    if name in _PUBLIC:
        import importlib

        value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sanctions_model' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})


__all__ = [
    "BacktestResult",
    "Design",
    "Ensemble",
    "InputError",
    "ParameterSet",
    "RunResult",
    "SolverError",
    "SweepResult",
    "__version__",
    "backtest",
    "execution",
    "list_scenarios",
    "load_params",
    "open_sweep",
    "run_ensemble",
    "run_sweep",
    "simulate",
    "simulate_batch",
]
