"""The explorer's trajectory panels, as Plotly figures (interactive hover, drawn in the browser).

Each panel shows one variable by date: the run at the page's settings (solid), the scenario as
filed (dotted, for what the change did), and the band of the constrained members (their 5th to
95th percentiles, shaded, with their median dashed). The page draws one legend for all of them
(:data:`LEGEND`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from .compute import View

#: Colours: the run at the settings, the members' band and median, the scenario as filed.
CENTRAL, BAND, MEDIAN, FILED = "#1f4e79", "rgba(214, 96, 77, 0.22)", "#b2182b", "#7f7f7f"
GRID = "#edf0f4"


#: The legend the page shows above the panels: (colour, line style, what it is).
LEGEND = ((CENTRAL, "solid", "at these settings"), (FILED, "dotted", "the scenario as filed"),
          (BAND, "band", "members that fit the record: 5th-95th percentile"), (MEDIAN, "dashed", "their median"))


@dataclass(frozen=True)
class Panel:
    """One panel: a trajectory, its title, its unit as shown, and the factor it is shown in."""

    variable: str
    title: str
    unit: str
    scale: float = 1.0


#: A panel's height [px].
PANEL_HEIGHT = 220
#: The panels, in the page's order (the page writes each title above its panel).
PANELS = (
    Panel("p_ceasefire", "Chance a ceasefire has been agreed", "% (cumulative)", 100.0),
    Panel("strain", "Strain on Russia's war economy", "index 0-1"),
    Panel("reserves", "Russia's liquid reserves (National Wealth Fund)", "US$ bn"),
    Panel("territory", "Territory of Ukraine held by Russia", "% of Ukraine", 100.0),
)


def _dates(start: dt.date, days: np.ndarray) -> np.ndarray:
    """ISO date-times of days after ``start`` (what Plotly reads as a date axis)."""
    seconds = np.round(np.asarray(days, dtype=float) * 86400.0).astype("timedelta64[s]")
    return np.datetime_as_string(np.datetime64(start.isoformat(), "s") + seconds, unit="s")


def _line(x: np.ndarray, y: np.ndarray, name: str, **style: Any) -> dict[str, Any]:
    return {"type": "scatter", "mode": "lines", "x": x, "y": np.asarray(y, dtype=float), "name": name, **style}


def panel_figure(view: View, panel: Panel, scenario_title: str) -> dict[str, Any]:
    """One panel of ``view`` as a Plotly figure (its title is the page's, above it).

    Written as the figure's JSON structure rather than with ``plotly.graph_objects``, whose
    validation took a tenth of a second of every redraw.

    Parameters
    ----------
    view : View
    panel : Panel
    scenario_title : str
        How the hover names the scenario as filed.

    Returns
    -------
    dict
        A Plotly figure: ``data`` and ``layout``.
    """
    start = view.params.start_date
    band = view.band[panel.variable] * panel.scale
    band_x = _dates(start, band.index.to_numpy())
    x = _dates(start, view.central.trajectories["day"].to_numpy())
    filed_x = _dates(start, view.filed.trajectories["day"].to_numpy())
    hover = "%{y:.3g} " + panel.unit
    data = [
        _line(band_x, band["p5"].to_numpy(), "members: 5th percentile", line={"width": 0}, hoverinfo="skip"),
        _line(band_x, band["p95"].to_numpy(), "members: 5-95%", line={"width": 0}, fill="tonexty", fillcolor=BAND,
              hoverinfo="skip"),
        _line(band_x, band["p50"].to_numpy(), "members: median", line={"color": MEDIAN, "dash": "dash", "width": 1.5},
              hovertemplate=hover),
        _line(filed_x, view.filed.trajectories[panel.variable].to_numpy() * panel.scale, f"{scenario_title} as filed",
              line={"color": FILED, "dash": "dot", "width": 1.5}, hovertemplate=hover),
        _line(x, view.central.trajectories[panel.variable].to_numpy() * panel.scale, "at these settings",
              line={"color": CENTRAL, "width": 2.5}, hovertemplate=hover),
    ]
    day_100 = str(_dates(start, np.array([100.0]))[0])
    layout = {
        "height": PANEL_HEIGHT, "paper_bgcolor": "white", "plot_bgcolor": "white",
        "font": {"family": "Segoe UI, Roboto, Helvetica, Arial, sans-serif", "size": 11, "color": "#333"},
        "margin": {"l": 46, "r": 12, "t": 22, "b": 28},
        "hovermode": "x unified", "showlegend": False, "uirevision": panel.variable,
        "xaxis": {"type": "date", "hoverformat": "%Y-%m-%d", "gridcolor": GRID, "linecolor": "#ccc"},
        "yaxis": {"rangemode": "tozero", "gridcolor": GRID, "zeroline": False},
        "shapes": [{"type": "line", "xref": "x", "yref": "paper", "x0": day_100, "x1": day_100, "y0": 0, "y1": 1,
                    "line": {"color": "#999", "width": 1, "dash": "dot"}}],
        "annotations": [{"x": day_100, "xref": "x", "y": 1, "yref": "paper", "text": "day 100", "showarrow": False,
                         "xanchor": "left", "yanchor": "top", "font": {"size": 10, "color": "#666"}}],
    }
    return {"data": data, "layout": layout}
