"""The constrained ensemble's report: how many worlds fit the record, how sure that makes us, and
what the record says about each assumption (prior against posterior, a table and a figure)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..analysis.constrain import CONSTRAINED_SHIFT, CONSTRAINED_WIDTH, MIN_EFFECTIVE, ConstrainedEnsemble
from ..inputs.resources import standing_inputs
from ..outdir import atomic_directory, check_target
from ..runs.describe import markdown_table
from .figures import _save
from .markdown import provenance

#: Parameters drawn in the figure: the most constrained ones.
FIGURE_PANELS = 12


def posterior_figure(table: pd.DataFrame, values: pd.DataFrame, weights: np.ndarray, as_of: object,
                     path: Path) -> None:
    """The uniform prior of each of the most constrained parameters against the kept members' weighted
    distribution (``values``: a column per parameter, a row per member)."""
    order = table.assign(strength=np.minimum(table["narrowing"], 1 - table["shift"].abs())).sort_values("strength")
    names = list(order.index[:FIGURE_PANELS])
    cols = 4
    rows = -(-len(names) // cols)
    fig = Figure(figsize=(12, 2.4 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, name in zip(axes.flat, names):
        lo, hi = float(table.loc[name, "low"]), float(table.loc[name, "high"])
        ax.fill_between([lo, hi], [0.0, 0.0], [1 / (hi - lo)] * 2, color="0.8", label="prior (uniform)")
        ax.hist(values[name].to_numpy(), bins=np.linspace(lo, hi, 21), weights=weights, density=True,
                histtype="step", color="C3", linewidth=1.6, label="kept, weighted")
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, loc="upper right")
    fig.suptitle(f"What the record to {as_of} says: prior against constrained ensemble "
                 f"(the {len(names)} parameters it moves most)", fontsize=10)
    fig.tight_layout()
    _save(fig, path)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%" if x < 0.1 else f"{100 * x:.0f}%"


def summary_lines(ens: ConstrainedEnsemble) -> list[str]:
    """The plain-language finding: how many fit, and whether that is enough to report from."""
    ess = ens.effective_size
    lines = [
        f"Of {ens.n_prior:,} sets of assumptions drawn over their stated ranges, **{ens.n_accepted:,} "
        f"({_pct(ens.n_accepted / ens.n_prior)}) come closest to the record** from {ens.start_date} to "
        f"{ens.as_of} and are kept: their errors against the back-test's {ens.rms.shape[1]} series average at "
        f"most {ens.accept:g} times the back-test's tolerances. That is not a perfect fit: "
        + _missed(ens) + " Weighted by the chance each gave what happened "
        f"(direct talks by the end of spring 2022, no ceasefire), they are worth **{ess:,.0f} equally weighted "
        f"members** (the effective sample size).",
        "",
    ]
    if ens.enough:
        lines.append(f"That is enough to report shares from: at least {MIN_EFFECTIVE} effective members keep the "
                     "sampling error of a share under 2.5 points (a 95% margin of 5 points at most).")
    else:
        lines.append(f"**That is too few to report shares from** (fewer than {MIN_EFFECTIVE} effective members, "
                     "below which the sampling error of a share could exceed 2.5 points). Draw a larger prior "
                     "(`-n`), or accept a looser fit (`--accept`), and say so.")
    if ens.failed:
        lines += ["", f"{ens.failed:,} members could not be integrated and are left out."]
    return lines + [""]


def _width(hindcast: pd.DataFrame, pick: Callable[[pd.Series], float]) -> str:
    """The narrowest or widest 5-95% band of ``hindcast`` relative to its recorded value, in words."""
    relative = ((hindcast["p95"] - hindcast["p5"]) / hindcast["recorded"].abs()).replace(np.inf, np.nan).dropna()
    return f"{100 * pick(relative):.0f}%" if len(relative) else "?"


def hindcast_lines(hindcast: pd.DataFrame, as_of: object) -> list[str]:
    """The out-of-sample test: the figures recorded after the cut against the kept members' 5-95% band."""
    if hindcast.empty:
        return []
    covered = int(hindcast["covered"].sum())
    by = hindcast.groupby("series", sort=False)["covered"].agg(["sum", "count"])
    missed = [f"`{name}` ({int(r['count'] - r['sum'])} of {int(r['count'])})" for name, r in by.iterrows()
              if r["sum"] < r["count"]]
    table = hindcast.assign(**{c: hindcast[c].map(lambda v: f"{v:.3g}") for c in ("recorded", "p5", "p50", "p95")},
                            covered=hindcast["covered"].map({True: "yes", False: "**no**"})
                            ).drop(columns=["target"]).set_index("series")
    return [
        f"## Out of sample: the record after {as_of}",
        "",
        f"The ensemble was given the record up to {as_of} only. Run on along the path actually taken (it is "
        "given the recorded levers and drivers after that date: the oil price, the exchange rate, the budget's "
        "spending, casualties and recruitment, the sanctions; what it must find is oil revenue, the Fund, "
        "inflation, the key rate and the front), its kept "
        f"members' 5-95% band covers **{covered} of the {len(hindcast)}** target figures recorded after that date"
        + (". Missed: " + ", ".join(missed) + "." if missed else ", every one.")
        + " A well-calibrated 5-95% band misses about one figure in ten; figures of one series are not independent. "
        "Figures averaging a period that began more than a month before the cut (twelve months' inflation read "
        "early in the year) are left out: the ensemble was given most of them. The bands are wide (from "
        f"{_width(hindcast, min)} to {_width(hindcast, max)} of the recorded value): a band that covers a "
        "figure says the record is among the outcomes the kept members allow, not that the model pins it down.",
        "",
        markdown_table(table),
        "",
    ]


def _missed(ens: ConstrainedEnsemble) -> str:
    """The series most kept members still miss (outside the tolerance on average)."""
    if not ens.n_accepted:
        return "no member comes that close."
    within = {name: float((ens.weights * (ens.rms[name] <= 1.0).to_numpy()).sum()) for name in ens.rms.columns}
    missed = [f"{name} ({_pct(1 - share)} miss it)" for name, share in sorted(within.items(), key=lambda kv: kv[1])
              if share < 0.5]
    return ("most kept members still miss " + "; ".join(missed) + "." if missed
            else "most kept members meet every series within its tolerance on average.")


def series_table(ens: ConstrainedEnsemble) -> pd.DataFrame:
    """Per target series: the share of the prior within its tolerance on average, and of the kept ensemble."""
    rms = ens.rms
    w = ens.weights
    rows = []
    for name in rms.columns:
        within = (rms[name] <= 1.0).to_numpy()
        rows.append({"series": name, "prior within tolerance": _pct(float(np.mean(within))),
                     "kept ensemble within tolerance (weighted)": _pct(float((w * within).sum())) if w.sum() else "-",
                     "median error, prior (tolerances)": f"{np.nanmedian(rms[name]):.2f}",
                     "median error, kept (tolerances)": (f"{np.nanmedian(rms[name][ens.accepted]):.2f}"
                                                         if ens.n_accepted else "-")})
    return pd.DataFrame(rows).set_index("series")


def write_constrain_report(ens: ConstrainedEnsemble, out: Path | str, command: str, force: bool = False,
                           ensemble_path: Path | str | None = None) -> Path:
    """Write ``report.md``, ``prior-posterior.csv``, ``series.csv`` and ``constrained.png`` into ``out``.

    Parameters
    ----------
    ens : ConstrainedEnsemble
    out : path
        Output directory, written whole or not at all.
    command : str
        The command line, for the provenance table.
    force : bool
        Replace an existing ``out``.
    ensemble_path : path, optional
        Where the ensemble's file was written (named in the report; the commit in the provenance
        table is not marked dirty for it).

    Returns
    -------
    pathlib.Path
    """
    check_target(out, force, standing_inputs())
    out = Path(out)
    table = ens.prior_posterior()
    constrained = table[table["verdict"] == "constrained"]
    series = series_table(ens)
    with atomic_directory(out, force=force, inputs=standing_inputs()) as tmp:
        table.to_csv(tmp / "prior-posterior.csv", float_format="%.6g")
        series.to_csv(tmp / "series.csv")
        if not ens.hindcast.empty:
            ens.hindcast.to_csv(tmp / "out-of-sample.csv", index=False, float_format="%.6g")
        if ens.n_accepted:
            kept = ens.accepted
            posterior_figure(table, pd.DataFrame(ens.prior[kept], columns=list(ens.names)), ens.weights[kept],
                             ens.as_of, tmp / "constrained.png")
        shown = table.assign(**{c: table[c].map(lambda v: f"{v:.4g}") for c in ("low", "high", "p5", "median", "p95")},
                             narrowing=table["narrowing"].map(lambda v: f"{v:.2f}"),
                             shift=table["shift"].map(lambda v: f"{v:+.2f}"))
        shown = shown.sort_values("narrowing")
        w = ens.weights
        events = pd.DataFrame({
            "chance": ["direct talks by 2022-05-31", f"a ceasefire by {ens.as_of}"],
            "prior (mean)": [_pct(float(np.nanmean(ens.p_talks))), _pct(float(np.nanmean(ens.p_ceasefire)))],
            "kept ensemble (weighted mean)": [_pct(float(np.nansum(w * ens.p_talks))) if w.sum() else "-",
                                              _pct(float(np.nansum(w * ens.p_ceasefire))) if w.sum() else "-"],
        }).set_index("chance")
        lines = [
            f"# sanctions-model: the constrained ensemble, record to {ens.as_of}",
            "",
            "Instead of one set of assumptions fitted to the record, many sets are drawn over the ranges each "
            "assumption is given (`params/`), each is run through the history on the path actually taken, and "
            "those that reproduce what was recorded are kept, after the constrained ensembles of the climate "
            "model FaIR (Leach et al. 2021; Smith et al. 2024). Projections from the kept members start each from "
            "its own state on the last recorded day. The method is in `docs/ensembles.md`.",
            "",
            "## What it finds",
            "",
            *summary_lines(ens),
            ("**What the record pins down** cannot be said from fewer than "
             f"{MIN_EFFECTIVE} effective members: the table below gives the percentiles, without a verdict."
             if not ens.enough else
             f"**What the record pins down.** {len(constrained)} of the {len(table)} assumptions come out "
            f"constrained: the kept members' 5-95% range is at most {CONSTRAINED_WIDTH:g} of the drawn one, or "
            f"their median has moved by at least {CONSTRAINED_SHIFT:g} of the range. The others are left about as "
            "wide as assumed: the record says little about them, and projections carry their full uncertainty. "
            "Constrained: " + (", ".join(f"`{n}`" for n in constrained.sort_values("narrowing").index) or "none")
            + "."),
            "",
            "**The events.** The decision core's chances are weights, not thresholds: a member that made a "
            "ceasefire likely before it happened counts for less, not nothing.",
            "",
            markdown_table(events),
            "",
            "## Series by series",
            "",
            "Each member's errors over a series' recorded figures are measured in the series' tolerance (set "
            "for the back-test before any ensemble was run: `TARGETS` in "
            "`sanctions_model/analysis/backtesting.py`); 1 is an error as large as the tolerance on average.",
            "",
            markdown_table(series),
            "",
            *hindcast_lines(ens.hindcast, ens.as_of),
            "## Prior against posterior, every assumption",
            "",
            "The prior is uniform over each range. `narrowing` is the kept members' 5-95% width over the prior's "
            "(1: as wide as assumed); `shift` is the move of the median as a share of the range. Sorted by "
            "narrowing.",
            "",
        ]
        if ens.n_accepted:
            lines += ["![Prior against the constrained ensemble](constrained.png)", ""]
        lines += [markdown_table(shown), ""]
        items = {"prior members": f"{ens.n_prior:,}", "seed": ens.seed, "scenario": ens.scenario,
                 "record used": f"{ens.start_date} to {ens.as_of}", "largest score kept": f"{ens.accept:g}",
                 "kept": f"{ens.n_accepted:,}", "effective size": f"{ens.effective_size:,.0f}",
                 "history runs": f"{ens.seconds:,.0f} s"}
        if ensemble_path is not None:
            items["ensemble file"] = f"`{ensemble_path}`"
        # the ensemble file this command wrote just before does not make the tree "dirty"
        lines += [provenance(items, command, written=[ensemble_path] if ensemble_path is not None else []), ""]
        (tmp / "report.md").write_text("\n".join(lines))
    return out
