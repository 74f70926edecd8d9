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

from .backtest import BacktestResult, backtest  # noqa: E402
from .designs import Design  # noqa: E402
from .ensemble import Ensemble, run_ensemble  # noqa: E402
from .errors import InputError, SolverError  # noqa: E402
from .parallel import execution  # noqa: E402
from .params import ParameterSet, list_scenarios, load_params  # noqa: E402
from .run import RunResult, simulate, simulate_batch  # noqa: E402
from .sweep import run_sweep  # noqa: E402
from .sweep_result import SweepResult, open_sweep  # noqa: E402

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
