"""The sensitivity report: indices as CSV, a chart per outcome, and Markdown."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis.studies import SensitivityStudy
from ..core.outcomes import OUTCOMES
from ..inputs.params import ParameterSet
from ..inputs.resources import standing_inputs
from ..outdir import atomic_directory, check_target
from .figures import ModelFigure, _save
from .markdown import calibration_note, provenance

RANK_BY = {"oat": "swing", "morris": "mu_star", "sobol": "ST", "mc": "abs"}
TOP = 15


def label(params: ParameterSet, name: str) -> str:
    """An input's plain-language description with its unit, for charts and tables."""
    p = params.parameters.get(name)
    return f"{p.description} [{p.unit}]" if p is not None else name


def plain_name(outcome: str) -> str:
    """An outcome's name in plain words, for titles and headings: its meaning from
    :data:`sanctions_model.core.outcomes.OUTCOMES` without the note in brackets, else the name in words
    (``day_360`` -> 'the value on day 360')."""
    if outcome in OUTCOMES:
        return OUTCOMES[outcome][1].split(" (")[0]
    if outcome.startswith("day_"):
        return f"the value on day {outcome.removeprefix('day_')}"
    return outcome.replace("_", " ")


def censoring_note(outcome: str, horizon: float | None) -> str:
    """For a crossing day: what a value of the horizon plus one day means; else ''."""
    if horizon is None or outcome not in OUTCOMES or OUTCOMES[outcome][0] != "day":
        return ""
    return (f"Day {horizon + 1:g} means not within the {horizon:g}-day horizon: a crossing that does not come "
            f"by then is counted (censored) at the horizon plus one day.")


def index_chart(method: str, table: pd.DataFrame, params: ParameterSet, outcome: str, path: Path | None,
                horizon: float | None = None) -> ModelFigure:
    """A bar chart of the inputs with the largest indices (saved as PNG at ``path``); for a crossing
    day, ``horizon`` [day] explains the censored value ``horizon + 1``."""
    top = table.sort_values(RANK_BY[method], ascending=False).head(TOP).iloc[::-1]
    labels = [textwrap.fill(label(params, n), 48) for n in top.index]
    note = censoring_note(outcome, horizon)
    fig = ModelFigure(figsize=(11, 0.5 * len(top) + 1.6 + (0.4 if note else 0)))
    ax = fig.subplots()
    y = np.arange(len(top))
    unit = OUTCOMES[outcome][0] if outcome in OUTCOMES else "as the outcome"
    name = plain_name(outcome)
    if method == "oat":
        base = float(top["base"].iloc[0])
        ax.barh(y, top["low"] - base, left=base, color="tab:blue", label="input at its low")
        ax.barh(y, top["high"] - base, left=base, color="tab:orange", label="input at its high")
        censored = horizon + 1 if note and horizon is not None else None
        if censored is not None and base == censored:
            ax.axvline(base, color="black", linewidth=1.5,
                       label=f"all at central values: not within the horizon (day {censored:g})")
            note += (f" At the central values the crossing does not come within the horizon, so each bar runs from "
                     f"day {censored:g} to the day the assumption, at that end of its range, brings it.")
        else:
            ax.axvline(base, color="black", linewidth=1, label=f"all at central values ({base:.4g})")
            if censored is not None:
                ax.axvline(censored, color="firebrick", linestyle="--", linewidth=1,
                           label=f"day {censored:g}: not within the horizon")
        if censored is not None:
            low, high = ax.get_xlim()
            ax.set_xlim(low, max(high, censored + 0.03 * (censored - low)))
        ax.set_xlabel(f"{name} [{unit}]")
    elif method == "sobol":
        ax.barh(y + 0.2, top["ST"], height=0.4, xerr=top["ST_conf"], label="total (ST)", color="tab:orange")
        ax.barh(y - 0.2, top["S1"], height=0.4, xerr=top["S1_conf"], label="first order (S1)", color="tab:blue")
        ax.set_xlabel("Sobol' index (share of variance), with 95% interval")
    elif method == "morris":
        ax.barh(y, top["mu_star"], xerr=top["mu_star_conf"], color="tab:blue", label="mu* (95% interval)")
        ax.set_xlabel(f"mean absolute elementary effect [{unit} over the input's range]")
    else:
        ax.barh(y, top["spearman"], color=np.where(top["spearman"] > 0, "tab:orange", "tab:blue"))
        ax.set_xlabel("rank correlation with the outcome")
    ax.set_yticks(y, labels, fontsize=7)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", alpha=0.3)
    if method in ("oat", "sobol", "morris"):
        ax.legend(fontsize=8, loc="best", framealpha=0.95)
    what = {"oat": "each assumption at its low and its high, the others central",
            "sobol": "Sobol' indices", "morris": "Morris screening", "mc": "rank correlations"}.get(method, method)
    ax.set_title(textwrap.fill(f"{name}: the {min(TOP, len(table))} most influential assumptions ({what})", 90),
                 fontsize=10)
    if note:
        fig.text(0.01, 0.01, textwrap.fill(note, 150), fontsize=8, color="0.25", ha="left", va="bottom")
        fig.tight_layout(rect=(0, 0.04, 1, 1))
    else:
        fig.tight_layout()
    _save(fig, path)
    return fig


def outcome_section(method: str, table: pd.DataFrame, params: ParameterSet, outcome: str, directory: Path,
                    figure: str, rows: int = 10, horizon: float | None = None) -> list[str]:
    """Markdown for one outcome's indices: its meaning, a table of the top ``rows`` inputs
    (labelled by description and unit) and a chart written to ``directory / figure``; for a
    crossing day, ``horizon`` [day] explains the censored value ``horizon + 1``."""
    note = censoring_note(outcome, horizon)
    lines = [f"{plain_name(outcome)} (`{outcome}`). {note}".strip() if note else _meaning(outcome) + ".", ""]
    if not (table[RANK_BY[method]].abs() > 0).any():
        return lines + ["No assumption moves this outcome in this analysis: it came out the same in every run.", ""]
    index_chart(method, table, params, outcome, directory / figure, horizon)
    ranked = table.sort_values(RANK_BY[method], ascending=False).head(rows)
    lines += ["| assumption | parameter | " + " | ".join(ranked.columns) + " |",
              "|---|---|" + "---|" * len(ranked.columns)]
    for name, row in ranked.iterrows():
        lines.append(f"| {label(params, name)} | `{name}` | " + " | ".join(_fmt(v) for v in row) + " |")
    return lines + ["", f"![{plain_name(outcome)}: the most influential assumptions]({figure})", ""]


def _meaning(outcome: str) -> str:
    if outcome in OUTCOMES:
        return OUTCOMES[outcome][1]
    return outcome.replace("_", " ")


def _fmt(v: float) -> str:
    return f"{v:.3g}" if np.isfinite(v) else "n/a"


def write_sensitivity(study: SensitivityStudy, out: Path | str, command: str, force: bool = False) -> Path:
    """Write a sensitivity study as ``indices.csv``, charts and ``report.md``."""
    check_target(out, force, standing_inputs())
    method, params, days = study.method, study.params, study.days
    per = study.per_outcome()
    out = Path(out)
    with atomic_directory(out, force=force, inputs=standing_inputs()) as tmp:
        tidy = pd.concat({o: t for o, t in per.items()}, names=["outcome", "input"]).reset_index()
        tidy.to_csv(tmp / "indices.csv", index=False, float_format="%.6g")
        source = (f"The indices were computed from the sweep in `{study.sweep}` ({study.runs:,} runs, its design's "
                  f"n = {study.n}, seed {study.seed})" if study.sweep else
                  f"The model was run {study.runs:,} times (n = {study.n}, seed {study.seed})")
        lines = [
            f"# Sensitivity of the model's outcomes: {method}",
            "",
            (f"Method `{method}` over {len(study.names)} parameters, each varied over the range the sweep's design "
             f"gives it (its `manifest.json`), under the sweep's scenario '{study.result.attrs.get('scenario')}'. "
             f"{source}, each over "
             f"{days:g} days." if study.sweep else
             f"Method `{method}` over {len(study.names)} assumptions, each varied over its range in "
             f"`params/base.toml`, with the scenario(s) {', '.join(params.scenarios) or 'none (the base)'} setting "
             f"the policy levers. {source}, each over {days:g} days."),
            "",
            "Conventions: a yes/no outcome counts as 1 or 0, so its mean is a probability; a crossing day "
            f"that does not happen within the horizon counts as day {days + 1:g}, so indices of a "
            "crossing day describe the model up to the horizon only.",
            "",
        ]
        if study.note:
            lines += [f"**Note:** {study.note}", ""]
        if study.warnings:
            lines += ["**Warning:** " + " ".join(study.warnings) + " The ranking below is not reliable.", ""]
        for outcome, table in per.items():
            lines += [f"## {plain_name(outcome)} (`{outcome}`)", "",
                      *outcome_section(method, table, params, outcome, tmp, f"{outcome}.png", horizon=days)]
        lines.append(provenance({"method": method, "scenarios": ", ".join(params.scenarios) or "(none)",
                                 "parameter hash": study.digest, "calibration": calibration_note(params),
                                 **({"sweep": f"`{study.sweep}`"} if study.sweep else {}),
                                 "seed": study.seed, "n": study.n, "model runs": study.runs}, command))
        lines.append("")
        (tmp / "report.md").write_text("\n".join(lines))
    return out
