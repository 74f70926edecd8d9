"""Figures for reports and notebooks (matplotlib).

Figures are built as :class:`matplotlib.figure.Figure` objects without pyplot, so that
nothing here changes the user's backend or keeps figures alive in pyplot's registry: each
function returns its figure, and saves it as PNG when given a path.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import matplotlib.dates as mdates
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..outcomes import GOAL_DAYS
from ..run import RunResult

# (column, title, unit label, scale)
PANELS = [
    ("russia_willingness", "Russia's willingness to negotiate", "index 0-1", 1.0),
    ("ukraine_willingness", "Ukraine's willingness to negotiate", "index 0-1", 1.0),
    ("strain", "Perceived strain on Russia's war economy", "index 0-1", 1.0),
    ("reserves", "Liquid National Wealth Fund", "US$ bn", 1.0),
    ("territory", "Territory held by Russia", "% of Ukraine", 100.0),
    ("oil_revenue", "Russian oil and gas budget revenue", "US$ bn per year", 1.0),
]
_PNG_META = {"Software": None}


class ModelFigure(Figure):
    """A matplotlib Figure that shows itself as PNG in Jupyter, whatever the backend.

    Built without pyplot, it would otherwise print as ``<Figure size ...>`` unless the
    user had imported pyplot first.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100, metadata=_PNG_META)
        return buffer.getvalue()


def _save(fig: Figure, path: Path | None) -> Figure:
    """Save ``fig`` as PNG at ``path`` (without the matplotlib version, so files compare byte for byte)."""
    if path is not None:
        fig.savefig(path, dpi=110, metadata=_PNG_META)
    return fig


def _goal_line(ax: Axes, start: pd.Timestamp) -> None:
    goal = start + pd.Timedelta(days=GOAL_DAYS)
    ax.axvline(goal, color="0.3", linestyle=":", linewidth=1)
    ax.text(goal, ax.get_ylim()[1], " 100 days", va="top", ha="left", fontsize=7, color="0.3")


def _style(ax: Axes, title: str, unit: str) -> None:
    ax.set_title(title, fontsize=9)
    ax.set_ylabel(unit, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 7)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    ax.grid(alpha=0.3)


def _thresholds(ax: Axes, column: str, thresholds: dict[str, float]) -> None:
    side = column.split("_")[0]
    if side in thresholds:
        ax.axhline(thresholds[side], color="firebrick", linestyle="--", linewidth=1, label="threshold for talks")


def trajectories_figure(runs: Sequence[RunResult], path: Path | None, title: str) -> Figure:
    """Six panels of key trajectories, one line per run, with the 100-day mark (saved as PNG if ``path``)."""
    fig = ModelFigure(figsize=(10, 9.5))
    axes = fig.subplots(3, 2, sharex=True)
    start = runs[0].trajectories.index[0]
    for ax, (column, panel_title, unit, scale) in zip(axes.flat, PANELS):
        for run in runs:
            style = {"color": "black", "linewidth": 2.2, "zorder": 3} if (
                run.label == "status_quo" and len(runs) > 1) else {"linewidth": 1.4}
            ax.plot(run.trajectories.index, run.trajectories[column] * scale, label=run.label, **style)
        if len(runs) == 1:
            _thresholds(ax, column, {"russia": runs[0].params["russia.threshold"],
                                     "ukraine": runs[0].params["ukraine.threshold"]})
            if column == "reserves":
                ax.axhline(runs[0].params["fiscal.reserves_exhausted"], color="firebrick", linestyle="--",
                           linewidth=1, label="counted as exhausted")
        _style(ax, panel_title, unit)
        if column.endswith("willingness"):
            ax.set_ylim(0, 1)
        _goal_line(ax, start)
    handles, labels = [], []
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 4), fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    return _save(fig, path)


def uncertainty_figure(shares: pd.DataFrame, path: Path | None, n: int) -> Figure:
    """Horizontal bars: for each scenario, the share of sampled assumption sets with each outcome."""
    fig = ModelFigure(figsize=(9, 0.6 * len(shares) + 2.6))
    ax = fig.subplots()
    shares.iloc[::-1].mul(100).plot.barh(ax=ax, width=0.8)
    ax.set_xlim(0, 100)
    ax.set_xlabel(f"% of {n} sampled sets of assumptions", fontsize=8)
    ax.set_ylabel("")
    ax.tick_params(labelsize=8)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, frameon=False)
    ax.set_title("How often each outcome happens across the plausible range of the assumptions", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


FAN_PANELS = {
    "russia_willingness": ("Russia's willingness to negotiate", "index 0-1", 1.0),
    "ukraine_willingness": ("Ukraine's willingness to negotiate", "index 0-1", 1.0),
    "strain": ("Perceived strain on Russia's war economy", "index 0-1", 1.0),
    "reserves": ("Liquid National Wealth Fund", "US$ bn", 1.0),
    "territory": ("Territory held by Russia", "% of Ukraine", 100.0),
}


def _panel(var: str) -> tuple[str, str, float]:
    """Title, unit label and scale of a variable's panel."""
    if var in FAN_PANELS:
        return FAN_PANELS[var]
    from ..model import FLOWS, STATES

    return var.replace("_", " "), STATES.get(var, FLOWS.get(var, "")), 1.0


def fan_figure(fans: dict[str, pd.DataFrame], run: RunResult | None, path: Path | None, n: int, *,
               start: pd.Timestamp | None = None, title: str | None = None) -> Figure:
    """Fan charts (5-95% and 25-75% bands, median) of each variable in ``fans``, with the 100-day mark.

    ``fans`` maps a variable to a DataFrame indexed by day with columns ``p5``, ``p25``,
    ``p50``, ``p75``, ``p95``. ``run``, if given, is drawn dashed (the central assumptions).
    """
    if run is not None:
        start = pd.Timestamp(run.params.start_date)
    start = pd.Timestamp("2025-01-20") if start is None else start
    cols = 3 if len(fans) > 2 else len(fans)
    rows = -(-(len(fans) + 1) // cols) if len(fans) > 2 else 1
    fig = ModelFigure(figsize=(11 if cols == 3 else 4.5 * cols + 2, 3.25 * rows + 0.5))
    axes = list(fig.subplots(rows, cols, sharex=True, squeeze=False).flat)
    for ax, var in zip(axes, fans):
        panel_title, unit, scale = _panel(var)
        table = fans[var] * scale
        dates = start + pd.to_timedelta(table.index, unit="D")
        ax.fill_between(dates, table["p5"], table["p95"], color="tab:blue", alpha=0.18, label="5-95%")
        ax.fill_between(dates, table["p25"], table["p75"], color="tab:blue", alpha=0.35, label="25-75%")
        ax.plot(dates, table["p50"], color="tab:blue", linewidth=1.6, label="median")
        if run is not None and var in run.trajectories:
            ax.plot(run.trajectories.index, run.trajectories[var] * scale, color="black", linewidth=1,
                    linestyle="--", label="central assumptions")
        _style(ax, panel_title, unit)
        if var.endswith("willingness"):
            ax.set_ylim(0, 1)
        _goal_line(ax, start)
    handles, labels = axes[0].get_legend_handles_labels()
    legend_title = f"{n} sampled sets of assumptions"
    if len(fans) % cols or len(fans) <= 2:
        for ax in axes[len(fans):]:
            ax.axis("off")
    if len(fans) > 2 and len(fans) % cols:
        axes[len(fans)].legend(handles, labels, loc="center", fontsize=9, frameon=False, title=legend_title)
    else:
        axes[0].legend(handles, labels, fontsize=7, title=legend_title, title_fontsize=7)
    label = run.label if run is not None else ""
    fig.suptitle(title or f"{label}: the range of outcomes across the assumptions", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return _save(fig, path)


def indices_over_time_figure(indices: dict[float, pd.DataFrame], labels: dict[str, str], start: pd.Timestamp,
                             title: str, path: Path | None, top: int = 6) -> Figure:
    """Total Sobol' index (with its interval) of the ``top`` inputs at each output day.

    ``indices`` maps a day to a Sobol' table (input x ``ST``, ``ST_conf``); inputs are ranked
    by their mean total index over the days, and labelled with ``labels``.
    """
    days = sorted(indices)
    st = pd.DataFrame({d: indices[d]["ST"] for d in days})
    conf = pd.DataFrame({d: indices[d]["ST_conf"] for d in days})
    order = st.mean(axis=1).sort_values(ascending=False).index[:top]
    dates = start + pd.to_timedelta(days, unit="D")
    fig = ModelFigure(figsize=(10, 5.5))
    ax = fig.subplots()
    for name in order:
        line, = ax.plot(dates, st.loc[name], marker="o", markersize=3, linewidth=1.4, label=labels[name])
        ax.fill_between(dates, st.loc[name] - conf.loc[name], st.loc[name] + conf.loc[name],
                        color=line.get_color(), alpha=0.15)
    _style(ax, title, "total Sobol' index (share of variance)")
    ax.set_ylim(bottom=0)
    _goal_line(ax, start)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, frameon=False)
    fig.tight_layout()
    return _save(fig, path)
