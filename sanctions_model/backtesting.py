"""``sanctions_model.backtesting`` is ``sanctions_model.analysis.backtesting``: the name notebooks
imported before the package was arranged in layers still gives the same module."""

import sys

from .analysis import backtesting as _module

sys.modules[__name__] = _module
