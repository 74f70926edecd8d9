"""Figures for reports and notebooks (matplotlib).

Figures are built as :class:`matplotlib.figure.Figure` objects without pyplot, so that
nothing here changes the user's backend or keeps figures alive in pyplot's registry: each
function returns its figure, and saves it as PNG when given a path.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..core.outcomes import GOAL_DAYS
from ..runs.run import RunResult
from .projection import distinct

if TYPE_CHECKING:
    from ..runs.ensemble import Ensemble

# (column, title, unit label, scale)
PANELS = [
    ("p_talks", "Chance direct talks have started", "probability", 1.0),
    ("p_ceasefire", "Chance a ceasefire has been agreed", "probability", 1.0),
    ("bargaining_range", "Bargaining range (above 0: a ceasefire both prefer)", "stake (share of Ukraine)", 1.0),
    ("ceasefire_durability", "Chance a ceasefire agreed that day holds a year", "probability", 1.0),
    ("strain", "Perceived strain on Russia's war economy", "index 0-1", 1.0),
    ("reserves", "Liquid National Wealth Fund", "US$ bn", 1.0),
    ("territory", "Territory held by Russia", "% of Ukraine", 100.0),
    ("oil_revenue", "Russian oil and gas budget revenue", "budget US$ bn per year", 1.0),
]
#: Panels whose values are probabilities (drawn on 0-1), and those with a line at 0 that means something.
PROBABILITY_PANELS = ("p_talks", "p_ceasefire", "ceasefire_durability")
ZERO_LINE_PANELS = ("bargaining_range", "russia_margin", "ukraine_margin")
_PNG_META = {"Software": None}
#: Resolution of saved figures [dots per inch].
SAVE_DPI = 110


class ModelFigure(Figure):
    """A matplotlib Figure that shows itself as PNG in Jupyter, whatever the backend.

    Built without pyplot, it would otherwise print as ``<Figure size ...>`` unless the
    user had imported pyplot first. It draws on an Agg canvas from the start, so that
    ``tight_layout`` measures text as the saved PNG will show it (no label cut at the edge:
    text does not scale exactly with the resolution).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("dpi", SAVE_DPI)  # laid out at the resolution it is saved at
        super().__init__(*args, **kwargs)
        FigureCanvasAgg(self)

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100, metadata=_PNG_META)
        return buffer.getvalue()


def _save(fig: Figure, path: Path | None) -> Figure:
    """Save ``fig`` as PNG at ``path`` (without the matplotlib version, so files compare byte for byte)."""
    if path is not None:
        fig.savefig(path, dpi=SAVE_DPI, metadata=_PNG_META)
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


def _reference_lines(ax: Axes, column: str) -> None:
    """A probability panel is drawn on 0-1; a margin or range panel gets its zero line, above which
    a ceasefire is preferred to fighting on."""
    if column in PROBABILITY_PANELS:
        ax.set_ylim(0, 1)
    if column in ZERO_LINE_PANELS:
        ax.axhline(0.0, color="firebrick", linestyle="--", linewidth=1)
        ax.text(ax.get_xlim()[0], 0.0, " above: a ceasefire both prefer" if column == "bargaining_range"
                else " above: prefers a ceasefire", va="bottom", ha="left", fontsize=7, color="firebrick")


def coincident(lines: Mapping[str, np.ndarray], rtol: float = 1e-3) -> dict[str, list[str]]:
    """Series that a chart would draw on top of each other: each name that has followers, mapped
    to the later names whose values differ from its own by at most ``rtol`` times the span of
    all the values (every point; NaN equal to NaN). Names keep their order; each follower is
    counted under the first name it matches."""
    finite = [v[np.isfinite(v)] for v in lines.values()]
    values = np.concatenate(finite) if finite else np.array([])
    span = float(values.max() - values.min()) if values.size else 0.0
    groups: dict[str, list[str]] = {}
    taken: set[str] = set()
    names = list(lines)
    for i, lead in enumerate(names):
        if lead in taken:
            continue
        for other in names[i + 1:]:
            a, b = np.asarray(lines[lead], float), np.asarray(lines[other], float)
            if other in taken or a.shape != b.shape:
                continue
            same_nan = np.array_equal(np.isnan(a), np.isnan(b))
            ok = np.isfinite(a)
            if same_nan and (not ok.any() or float(np.max(np.abs(a[ok] - b[ok]))) <= rtol * span):
                groups.setdefault(lead, []).append(other)
                taken.add(other)
    return groups


def _names(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def coincidence_notes(runs: Sequence[RunResult]) -> dict[str, str]:
    """For each panel of :func:`trajectories_figure` in which some runs' lines coincide, the words
    that say so, e.g. 'hard_way and easy_way coincide with status_quo' (the highlighted
    ``status_quo`` first, so lines hidden under it are named)."""
    ordered = sorted(runs, key=lambda r: r.label != "status_quo")
    notes = {}
    for column, title, _, scale in PANELS:
        groups = coincident({r.label: r.trajectories[column].to_numpy() * scale for r in ordered})
        if groups:
            notes[title] = "; ".join(f"{_names(f)} {'coincides' if len(f) == 1 else 'coincide'} with {lead}"
                                     for lead, f in groups.items())
    return notes


def coincidence_caption(runs: Sequence[RunResult]) -> str:
    """One sentence for a report, under the figure: which lines of which panels lie on top of others."""
    notes = coincidence_notes(runs)
    if not notes:
        return ""
    return ("In the figure, some lines lie on top of others and hide them. "
            + " ".join(f"*{title}*: {words}." for title, words in notes.items()))


def trajectories_figure(runs: Sequence[RunResult], path: Path | None, title: str) -> Figure:
    """Eight panels of key trajectories, one line per run, with the 100-day mark and the bargaining
    range's zero line; a panel where lines coincide says which (saved as PNG if ``path``)."""
    fig = ModelFigure(figsize=(10, 12))
    axes = fig.subplots(4, 2, sharex=True)
    start = runs[0].trajectories.index[0]
    notes = coincidence_notes(runs) if len(runs) > 1 else {}
    for ax, (column, panel_title, unit, scale) in zip(axes.flat, PANELS):
        for run in runs:
            style = {"color": "black", "linewidth": 2.2, "zorder": 3} if (
                run.label == "status_quo" and len(runs) > 1) else {"linewidth": 1.4}
            ax.plot(run.trajectories.index, run.trajectories[column] * scale, label=run.label, **style)
        _reference_lines(ax, column)
        if len(runs) == 1 and column == "reserves":
            ax.axhline(runs[0].params["fiscal.reserves_exhausted"], color="firebrick", linestyle="--",
                       linewidth=1, label="reserves counted as exhausted")
        _style(ax, panel_title, unit)
        if panel_title in notes:
            note = textwrap.fill(notes[panel_title], 80)
            ax.set_title(panel_title, fontsize=9, pad=4 + 8 * (note.count("\n") + 1))
            ax.text(0.5, 1.015, note, transform=ax.transAxes, fontsize=6.5, ha="center", va="bottom",
                    color="0.3", style="italic")
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


def uncertainty_figure(shares: pd.DataFrame, path: Path | None, n: int, titles: Mapping[str, str] | None = None
                       ) -> Figure:
    """Horizontal bars: for each scenario, the probability of each outcome over ``n`` sampled
    assumption sets (the mean of the sets' probabilities, or the share of sets for a yes/no
    outcome), with the 95% Wilson interval that bounds its sampling error as an error bar."""
    from ..runs.describe import wilson_interval

    fig = ModelFigure(figsize=(9, 0.75 * len(shares) + 2.8))
    ax = fig.subplots()
    rows, cols = list(shares.index)[::-1], list(shares.columns)
    height = 0.8 / len(cols)
    for j, col in enumerate(cols):
        y = np.arange(len(rows)) - 0.4 + height * (j + 0.5)
        values = np.array([float(shares.loc[r, col]) for r in rows])
        bounds = np.array([wilson_interval(v, n) for v in values])
        err = 100 * np.abs(np.vstack([values - bounds[:, 0], bounds[:, 1] - values]))
        ax.barh(y, 100 * values, height=height, xerr=err, label=col, color=f"C{j}",
                error_kw={"elinewidth": 0.8, "capsize": 1.5, "ecolor": "0.15"})
    ax.set_yticks(np.arange(len(rows)), [_scenario_label(r, (titles or {}).get(r)) for r in rows])
    ax.set_xlim(0, 100)
    ax.set_xlabel(f"chance, %, over {n:,} sampled sets of assumptions; error bars: 95% interval (Wilson) of the "
                  "sampling error", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, frameon=False)
    ax.set_title("The chance of each outcome across the plausible range of the assumptions", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def _scenario_label(name: str, title: str | None) -> str:
    """A scenario's title with its name, e.g. 'The hard way\n(hard_way)', or the name alone."""
    return f"{title}\n({name})" if title and title != name else name


FAN_PANELS = {
    "p_ceasefire": ("Chance a ceasefire has been agreed", "probability", 1.0),
    "bargaining_range": ("Bargaining range (above 0: a ceasefire both prefer)", "stake (share of Ukraine)", 1.0),
    "strain": ("Perceived strain on Russia's war economy", "index 0-1", 1.0),
    "reserves": ("Liquid National Wealth Fund", "US$ bn", 1.0),
    "territory": ("Territory held by Russia", "% of Ukraine", 100.0),
}


def _panel(var: str) -> tuple[str, str, float]:
    """Title, unit label and scale of a variable's panel."""
    if var in FAN_PANELS:
        return FAN_PANELS[var]
    from ..core.model import FLOWS, STATES

    return var.replace("_", " "), STATES.get(var, FLOWS.get(var, "")), 1.0


def fan_figure(fans: dict[str, pd.DataFrame], run: RunResult | None, path: Path | None, n: int, *,
               start: pd.Timestamp | None = None, title: str | None = None,
               constrained: dict[str, pd.DataFrame] | None = None) -> Figure:
    """Fan charts (5-95% and 25-75% bands, median) of each variable in ``fans``, with the 100-day mark.

    ``fans`` maps a variable to a DataFrame indexed by day with columns ``p5``, ``p25``,
    ``p50``, ``p75``, ``p95``. ``run``, if given, is drawn dashed (the central assumptions);
    ``constrained``, the same percentiles over the constrained ensemble's members, in orange lines.
    """
    if run is not None:
        start = pd.Timestamp(run.params.start_date)
    start = pd.Timestamp("2025-01-20") if start is None else start
    cols = 3 if len(fans) > 2 else len(fans)
    rows = -(-len(fans) // cols)  # the legend takes the first free panel, or sits in the first
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
        if constrained is not None and var in constrained:
            band = constrained[var] * scale
            when = start + pd.to_timedelta(band.index, unit="D")
            ax.plot(when, band["p5"], color="tab:orange", linewidth=1, label="fit the record: 5-95%")
            ax.plot(when, band["p95"], color="tab:orange", linewidth=1)
            ax.plot(when, band["p50"], color="tab:orange", linewidth=1.6, linestyle="-.",
                    label="fit the record: median")
        _reference_lines(ax, var)
        _style(ax, panel_title, unit)
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
    label = _scenario_label(run.label, run.params.title()).replace("\n", " ") if run is not None else ""
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


def scenario_figures(runs: Sequence[RunResult], ensemble: Ensemble | None, directory: Path, samples: int,
                     constrained: Mapping[str, dict[str, pd.DataFrame]] | None = None) -> dict[str, str]:
    """The figures every comparison of scenarios draws into ``directory``: key trajectories, and
    with an ensemble the shares of each outcome and a fan chart per scenario (with the constrained
    ensemble's band where ``constrained``, scenario -> fans, has the scenario); their file names."""
    figures = {"trajectories": "scenarios.png"}
    trajectories_figure(runs, directory / figures["trajectories"], "Key trajectories by scenario")
    if ensemble is not None:
        figures["uncertainty"] = "uncertainty.png"
        uncertainty_figure(distinct(ensemble.shares(), runs[0].days), directory / figures["uncertainty"], samples,
                           {r.label: r.params.title() for r in runs})
        for run in runs:
            figures[f"fan:{run.label}"] = f"fan-{run.label}.png"
            fan_figure(ensemble.fans[run.label], run, directory / figures[f"fan:{run.label}"], samples,
                       constrained=(constrained or {}).get(run.label))
    return figures
