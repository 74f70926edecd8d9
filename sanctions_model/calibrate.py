"""``sanctions_model.calibrate`` is ``sanctions_model.analysis.calibrate``: the name notebooks
imported before the package was arranged in layers still gives the same module."""

import sys

from .analysis import calibrate as _module

sys.modules[__name__] = _module
