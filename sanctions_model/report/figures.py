"""Figures for the reports (matplotlib, Agg backend, PNG)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from ..outcomes import GOAL_DAYS  # noqa: E402
from ..run import RunResult  # noqa: E402

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


def _goal_line(ax, start: pd.Timestamp) -> None:
    goal = start + pd.Timedelta(days=GOAL_DAYS)
    ax.axvline(goal, color="0.3", linestyle=":", linewidth=1)
    ax.text(goal, ax.get_ylim()[1], " 100 days", va="top", ha="left", fontsize=7, color="0.3")


def _style(ax, title: str, unit: str) -> None:
    ax.set_title(title, fontsize=9)
    ax.set_ylabel(unit, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 7)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    ax.grid(alpha=0.3)


def _thresholds(ax, column: str, thresholds: dict[str, float]) -> None:
    side = column.split("_")[0]
    if side in thresholds:
        ax.axhline(thresholds[side], color="firebrick", linestyle="--", linewidth=1, label="threshold for talks")


def trajectories_figure(runs: Sequence[RunResult], path: Path, title: str) -> Path:
    """Six panels of key trajectories, one line per run, with the 100-day mark; saved as PNG."""
    fig, axes = plt.subplots(3, 2, figsize=(10, 9.5), sharex=True)
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
    fig.savefig(path, dpi=110, metadata=_PNG_META)
    plt.close(fig)
    return path


def uncertainty_figure(shares: pd.DataFrame, path: Path, n: int) -> Path:
    """Horizontal bars: for each scenario, the share of sampled assumption sets with each outcome."""
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(shares) + 2.6))
    shares.iloc[::-1].mul(100).plot.barh(ax=ax, width=0.8)
    ax.set_xlim(0, 100)
    ax.set_xlabel(f"% of {n} sampled sets of assumptions", fontsize=8)
    ax.set_ylabel("")
    ax.tick_params(labelsize=8)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, frameon=False)
    ax.set_title("How often each outcome happens across the plausible range of the assumptions", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata=_PNG_META)
    plt.close(fig)
    return path


FAN_PANELS = {
    "russia_willingness": ("Russia's willingness to negotiate", "index 0-1", 1.0),
    "ukraine_willingness": ("Ukraine's willingness to negotiate", "index 0-1", 1.0),
    "strain": ("Perceived strain on Russia's war economy", "index 0-1", 1.0),
    "reserves": ("Liquid National Wealth Fund", "US$ bn", 1.0),
    "territory": ("Territory held by Russia", "% of Ukraine", 100.0),
}


def fan_figure(fans: dict[str, pd.DataFrame], run: RunResult, path: Path, n: int) -> Path:
    """Fan charts (5-95% and 25-75% bands, median) of key variables for one scenario."""
    start = pd.Timestamp(run.params.start_date)
    fig, axes = plt.subplots(2, 3, figsize=(11, 6.5), sharex=True)
    for ax, (var, (title, unit, scale)) in zip(axes.flat, FAN_PANELS.items()):
        table = fans[var] * scale
        dates = start + pd.to_timedelta(table.index, unit="D")
        ax.fill_between(dates, table["p5"], table["p95"], color="tab:blue", alpha=0.18, label="5-95%")
        ax.fill_between(dates, table["p25"], table["p75"], color="tab:blue", alpha=0.35, label="25-75%")
        ax.plot(dates, table["p50"], color="tab:blue", linewidth=1.6, label="median")
        ax.plot(run.trajectories.index, run.trajectories[var] * scale, color="black", linewidth=1, linestyle="--",
                label="central assumptions")
        _style(ax, title, unit)
        if var.endswith("willingness"):
            ax.set_ylim(0, 1)
        _goal_line(ax, start)
    axes.flat[-1].axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    axes.flat[-1].legend(handles, labels, loc="center", fontsize=9, frameon=False,
                         title=f"{n} sampled sets of assumptions")
    fig.suptitle(f"{run.label}: the range of outcomes across the assumptions", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(path, dpi=110, metadata=_PNG_META)
    plt.close(fig)
    return path


def indices_over_time_figure(indices: dict[float, pd.DataFrame], labels: dict[str, str], start: pd.Timestamp,
                             title: str, path: Path, top: int = 6) -> Path:
    """Total Sobol' index (with its interval) of the ``top`` inputs at each output day.

    ``indices`` maps a day to a Sobol' table (input x ``ST``, ``ST_conf``); inputs are ranked
    by their mean total index over the days, and labelled with ``labels``.
    """
    days = sorted(indices)
    st = pd.DataFrame({d: indices[d]["ST"] for d in days})
    conf = pd.DataFrame({d: indices[d]["ST_conf"] for d in days})
    order = st.mean(axis=1).sort_values(ascending=False).index[:top]
    dates = start + pd.to_timedelta(days, unit="D")
    fig, ax = plt.subplots(figsize=(10, 5.5))
    for name in order:
        line, = ax.plot(dates, st.loc[name], marker="o", markersize=3, linewidth=1.4, label=labels[name])
        ax.fill_between(dates, st.loc[name] - conf.loc[name], st.loc[name] + conf.loc[name],
                        color=line.get_color(), alpha=0.15)
    _style(ax, title, "total Sobol' index (share of variance)")
    ax.set_ylim(bottom=0)
    _goal_line(ax, start)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata=_PNG_META)
    plt.close(fig)
    return path
