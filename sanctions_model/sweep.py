"""``sanctions_model.sweep`` is ``sanctions_model.runs.sweep``: the name notebooks
imported before the package was arranged in layers still gives the same module."""

import sys

from .runs import sweep as _module

sys.modules[__name__] = _module
