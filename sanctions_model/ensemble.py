"""``sanctions_model.ensemble`` is ``sanctions_model.runs.ensemble``: the name notebooks
imported before the package was arranged in layers still gives the same module."""

import sys

from .runs import ensemble as _module

sys.modules[__name__] = _module
