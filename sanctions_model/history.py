"""``sanctions_model.history`` is ``sanctions_model.inputs.history``: the name notebooks
imported before the package was arranged in layers still gives the same module."""

import sys

from .inputs import history as _module

sys.modules[__name__] = _module
