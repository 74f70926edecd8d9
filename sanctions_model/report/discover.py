"""The scenario-discovery report (``sanctions-model discover``): PRIM's box in words and as a table,
CART's leaves, the peeling trajectory as a figure, and the tables as CSV. The full report's
discovery section reuses :func:`discovery_lines`."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from ..analysis.discover import SIGNIFICANT, Discovery
from ..analysis.studies import DiscoveryStudy
from ..inputs.resources import standing_inputs
from ..outdir import atomic_directory, check_target
from .figures import ModelFigure, _save
from .markdown import provenance

#: CART leaves shown in a report's table.
LEAVES_SHOWN = 5


def peeling_figure(discovery: Discovery, path: Path | None) -> ModelFigure:
    """PRIM's peeling trajectory: each step's coverage against its density, coloured by how many
    assumptions it restricts, with the chosen box and the base rate marked (saved as PNG at ``path``)."""
    traj = discovery.trajectory
    fig = ModelFigure(figsize=(7.5, 4.6))
    ax = fig.subplots()
    points = ax.scatter(traj["coverage"], traj["density"], c=traj["restricted"], cmap="viridis", s=18, zorder=2)
    fig.colorbar(points, ax=ax, label="assumptions restricted")
    if discovery.chosen >= 0:
        chosen = traj.loc[discovery.chosen]
        why = (f"the largest coverage at a density of {discovery.threshold:.0%} or more" if discovery.reached
               else f"the densest (none reaches {discovery.threshold:.0%})")
        ax.scatter([chosen["coverage"]], [chosen["density"]], s=110, facecolors="none", edgecolors="firebrick",
                   linewidths=1.5, zorder=3, label=f"step {discovery.chosen}: {why}")
    if not discovery.limits.empty:
        k = discovery.restricted
        ax.scatter([discovery.coverage], [discovery.density], marker="*", s=160, color="firebrick", zorder=4,
                   label=f"the box kept: its {k} limit{'s' if k != 1 else ''} unlikely to be chance"
                         + (" (weighted)" if discovery.weighted else ""))
    ax.axhline(discovery.base_rate, color="0.4", linestyle="--", linewidth=1,
               label=f"base rate ({discovery.base_rate:.0%} of all {discovery.rows})")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("coverage: share of the cases inside the box")
    ax.set_ylabel("density: share of the box that are cases")
    ax.set_title(textwrap.fill(f"Where {discovery.outcome} is found: PRIM's peeling trajectory", 70), fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left", framealpha=0.95)
    fig.tight_layout()
    _save(fig, path)
    return fig


def _limit(row: object) -> str:
    side, low, high = row["side"], row["low"], row["high"]  # type: ignore[index]
    return {"at least": f"at least {low:.4g}", "at most": f"at most {high:.4g}"}.get(
        str(side), f"{low:.4g} to {high:.4g}")


def discovery_lines(discovery: Discovery, figure: str | None = None) -> list[str]:
    """Markdown for one discovery: the sentence, the box's limits with their quasi-p-values, the
    trade-off it makes, CART's leaves, and (where ``figure`` names one) the peeling trajectory."""
    d = discovery
    lines = [d.sentence(), ""]
    if not d.limits.empty:
        lines += ["| assumption | parameter | the box | unit | quasi-p-value |", "|---|---|---|---|---|"]
        for name, row in d.limits.iterrows():
            qp, what, unit = row["qp"], row.get("description", "") or "", row.get("unit", "") or ""
            lines.append(f"| {what} | `{name}` | {_limit(row)} | {unit} | {'n/a' if np.isnan(qp) else f'{qp:.2g}'} |")
        lines += ["", f"Coverage {d.coverage:.0%}, density {d.density:.0%} (base rate {d.base_rate:.0%}), mass "
                  f"{d.mass:.0%}, {d.restricted} assumption{'s' if d.restricted != 1 else ''} restricted.", ""]
    if d.dropped:
        names = ", ".join(f"`{n}`" for n in d.dropped[:8]) + (" and others" if len(d.dropped) > 8 else "")
        lines += [f"The step of PRIM's trajectory the box starts from (step {d.chosen}) also limited {len(d.dropped)} "
                  f"other assumption{'s' if len(d.dropped) != 1 else ''}, but each of those limits may be chance "
                  f"(quasi-p-value above {SIGNIFICANT}), so they were dropped one at a time, the least significant "
                  f"first: {names}." if not d.limits.empty else
                  f"The step of PRIM's trajectory a box would start from (step {d.chosen}) limited {names}; each "
                  f"limit may be chance (quasi-p-value above {SIGNIFICANT}), so none is kept.", ""]
    if d.weighted:
        lines += ["PRIM peels counting members, as if equally likely (its quasi-p-values too); the base rate and the "
                  "box's coverage, density and mass are weighted by how well each member reproduced the record, and "
                  "CART fits with the weights.", ""]
    if figure:
        lines += [f"![PRIM's peeling trajectory]({figure})", ""]
    if d.leaves.empty:
        lines += [f"CART, the second view, finds no box of its tree (at most three splits, each at least 5% of the "
                  f"{d.rows}) where it is more likely than not.", ""]
    else:
        lines += [f"CART, the second view, splits the {d.rows} into boxes (at most three splits, each at least 5% of "
                  "them); in these it is more likely than not (a box is not tested for chance as PRIM's limits are):",
                  "", *(f"- {text}" for text in d.leaf_sentences()[:LEAVES_SHOWN]), ""]
    return lines


def write_discovery(study: DiscoveryStudy, out: Path | str, command: str, force: bool = False) -> Path:
    """Write a discovery as ``report.md``, ``box.csv``, ``trajectory.csv``, ``leaves.csv`` and
    ``peeling.png``."""
    check_target(out, force, standing_inputs())
    d = study.discovery
    out = Path(out)
    with atomic_directory(out, force=force, inputs=standing_inputs()) as tmp:
        # the limits to the last digit: PRIM's lie on sampled values, and a rounded one would leave the members
        # on it out of the box (its coverage and mass, recomputed from the file, would not be the report's)
        d.limits.rename_axis("parameter").to_csv(tmp / "box.csv")
        d.trajectory.rename_axis("step").to_csv(tmp / "trajectory.csv", float_format="%.6g")
        d.leaves.to_csv(tmp / "leaves.csv", index=False)
        peeling_figure(d, tmp / "peeling.png")
        failed = (f" {study.failed:,} of the {study.rows:,} rows are left out: their run failed or the outcome is "
                  "undefined for them." if study.failed else "")
        lines = [
            f"# Where {d.outcome} is found",
            "",
            f"Scenario discovery over {study.source}.{failed} The question: in which ranges of the assumptions is "
            f"{d.outcome} found much more often than in the sample as a whole ({d.base_rate:.0%} of {d.n:,} sets)?",
            "",
            "PRIM (Friedman and Fisher 1999, as EMA Workbench implements it) peels the sample down to a box, one "
            "range per assumption it restricts, trading **coverage** (the share of the cases inside the box) for "
            f"**density** (the share of the box that are cases). The box below is, of the steps that restrict an "
            f"assumption and whose density reaches {d.threshold:.0%} (the densest such step where none does), the one "
            f"with the largest coverage, less the limits that may be chance: a **quasi-p-value** above {SIGNIFICANT} "
            "says a limit may be chance. A box left with no limit is no box.",
            "",
            *discovery_lines(d, "peeling.png"),
            "## How to read this",
            "",
            "A box describes the model's answers under its assumptions, not the world: it says which assumptions "
            "the outcome depends on in this sample, not which are true. A box of low density, or one that keeps "
            "no limit, means no simple range of the assumptions brings the outcome about; a box of high "
            "density but small coverage is one way among others. `box.csv`, `trajectory.csv` and `leaves.csv` "
            "hold the tables.",
            "",
            provenance({"source": f"`{study.path}`", "outcome": f"`{study.outcome}` {'>' if study.above else '<'} "
                        f"{study.cut:g}", "horizon": f"{study.days:g} days", "rows": f"{study.rows:,}",
                        "weights": "the members' (how well each reproduced the record)" if d.weighted else "none",
                        "seed": study.seed}, command),
            "",
        ]
        (tmp / "report.md").write_text("\n".join(lines))
    return out
