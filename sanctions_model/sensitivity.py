"""``sanctions_model.sensitivity`` is ``sanctions_model.analysis.sensitivity``: the name notebooks
imported before the package was arranged in layers still gives the same module."""

import sys

from .analysis import sensitivity as _module

sys.modules[__name__] = _module
