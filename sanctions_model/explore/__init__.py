"""The explorer: a local web page (Dash) with a slider per policy lever of the article and per key
assumption, showing the trajectories, the chances of talks and a ceasefire, and the band of the
constrained ensemble's members; ``sanctions-model explore`` starts it.

:mod:`.compute` computes what the page shows, without Dash; :mod:`.app` lays the page out and
serves it; :mod:`.scenario_file` writes its settings as a scenario file. Dash is imported only
when the page is built, so ``import sanctions_model`` never needs it.
"""

from .app import build_app, serve
from .compute import Explorer, View

__all__ = ["Explorer", "View", "build_app", "serve"]
