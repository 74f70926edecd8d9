"""The article's assumptions, one by one, and what the model finds for each: the section of the
full report written from :mod:`sanctions_model.analysis.article`'s map and the study's numbers.

It states numbers only: scenario contrasts over the same sampled assumption sets, and how
much the assumption's own parameters move the outcome.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from ..analysis.article import ARTICLE_ASSUMPTIONS, REFERENCE, resolve, where_to_vary
from ..inputs.params import ParameterSet
from ..runs.describe import percent, percents, share_with_interval
from ..runs.ensemble import Ensemble
from ..runs.run import RunResult
from .markdown import rank_range
from .sensitivity import label


def _when(value: float) -> str:
    return "not within the horizon" if math.isnan(value) else f"day {value:.0f}"


def _scenario_table(scenarios: Sequence[str], runs: Mapping[str, RunResult], ensemble: Ensemble) -> list[str]:
    shares = ensemble.shares()
    lines = ["| scenario | Russia willing (central) | Ukraine willing (central) | talks (central) | "
             "Russia willing within horizon | talks within horizon |", "|---|---|---|---|---|---|"]
    for name in scenarios:
        o, solved = runs[name].outcomes, ensemble.solved(name)
        lines.append(f"| `{name}` | {_when(o['days_to_russia_willing'])} | {_when(o['days_to_ukraine_willing'])} | "
                     f"{_when(o['days_to_talks'])} | "
                     f"{share_with_interval(shares.loc[name, 'Russia willing within horizon'], solved)} | "
                     f"{share_with_interval(shares.loc[name, 'talks within horizon'], solved)} |")
    return lines


def _switches(ensemble: Ensemble, scenario: str, share: str) -> tuple[int, int]:
    """Sets where ``share`` happens under ``scenario`` but not the reference, and the reverse."""
    a, b = ensemble.happens(scenario, share), ensemble.happens(REFERENCE, share)
    return int((a & ~b).sum()), int((~a & b).sum())


def _contrast(name: str, ensemble: Ensemble) -> str:
    shares = ensemble.shares()
    parts = []
    for share, words in (("Russia willing within horizon", "Russia becomes willing to negotiate"),
                         ("talks within horizon", "both sides are willing at once (talks)")):
        ours, ref = shares.loc[name, share], shares.loc[REFERENCE, share]
        gained, lost = _switches(ensemble, name, share)
        if gained == lost == 0:
            change = f"in exactly the same sets as under `{REFERENCE}` ({percent(ref)}%)"
        else:
            ours_text, ref_text = percents(ours, ref)
            change = (f"in {ours_text}% of sets against {ref_text}% under `{REFERENCE}` "
                      f"({_sets(gained)} gained, {_sets(lost)} lost)")
        parts.append(f"{words} within the horizon {change}")
    return f"Under `{name}`, over the same {ensemble.n:,} sampled assumption sets, " + "; ".join(parts) + "."


def _sets(count: int) -> str:
    return f"{count} set" if count == 1 else f"{count} sets"


def _rank(sobol: pd.DataFrame, name: str) -> str:
    st, conf = sobol.loc[name, "ST"], sobol.loc[name, "ST_conf"]
    if st + conf < 0.005:
        return "no measurable effect"
    best, worst = rank_range(name, {str(k): (float(r["ST"]), float(r["ST_conf"])) for k, r in sobol.iterrows()})
    if best == worst:
        return f"rank {best} of {len(sobol)}, ST {st:.2f} ± {conf:.2f}"
    return f"rank {best} to {worst} of {len(sobol)} within the 95% intervals, ST {st:.2f} ± {conf:.2f}"


def _parameter_findings(names: Sequence[str], ends: pd.DataFrame, scenario: str, n: int,
                        sobol: Mapping[str, pd.DataFrame], params: ParameterSet, top: int = 3) -> list[str]:
    """The assumption's parameters, most consequential first: the shares with each held at its low and high."""
    cols = ("Russia willing within horizon", "talks within horizon")
    names = [name for name in names if name in ends.index.get_level_values(0)]
    if not names:
        return ["None of this point's parameters is among the sampled uncertainties."]

    def swing(name: str) -> float:
        return max(abs(ends.loc[(name, "high"), c] - ends.loc[(name, "low"), c]) for c in cols)

    ranked = sorted(names, key=lambda name: (-swing(name), name))
    lines = []
    for name in ranked[:top]:
        p = params.parameters[name]
        low, high = ends.loc[(name, "low")], ends.loc[(name, "high")]
        willing, talks = percents(low[cols[0]], high[cols[0]]), percents(low[cols[1]], high[cols[1]])
        lines.append(
            f"- *{label(params, name)}* (`{name}`, {p.low:g} to {p.high:g}). Held at its low, then its high, "
            f"across the same {n:,} sampled sets under `{scenario}`: Russia becomes willing within the horizon in "
            f"{willing[0]}% then {willing[1]}% of sets, and talks happen in {talks[0]}% then {talks[1]}%. "
            f"Its total Sobol' index under `{REFERENCE}`: "
            f"{_rank(sobol['days_to_russia_willing'], name)} for when Russia becomes willing; "
            f"{_rank(sobol['days_to_talks'], name)} for when talks start.")
    if len(ranked) > top:
        rest = ", ".join(f"`{name}` ({100 * swing(name):.0f})" for name in ranked[top:])
        lines.append(f"- The others, with the largest change they make to either share, in points: {rest}.")
    return lines


def walkthrough(runs: Mapping[str, RunResult], ensemble: Ensemble, sobol: Mapping[str, pd.DataFrame],
                ends: Mapping[str, pd.DataFrame], params: ParameterSet) -> list[str]:
    """Markdown lines: each of the article's assumptions, how the model holds it, and what it finds.

    ``sobol`` maps ``days_to_russia_willing`` and ``days_to_talks`` to their Sobol' indices
    under the reference scenario; ``ends`` maps each assumption's title to
    :func:`sanctions_model.runs.ensemble.at_each_end` of its parameters under
    :func:`where_to_vary`; ``runs`` hold every scenario at its central values.
    """
    lines = [
        "Each point below quotes the article, says how the model represents it, and reports what the "
        f"model finds: first the scenarios that act on it, against `{REFERENCE}` and over the same sampled "
        "assumption sets; then the uncertain parameters that describe it, each held at the low and then the "
        "high end of its range while every other assumption keeps its sampled values. The model's findings "
        "depend on those assumptions; none of them is a verdict on the article's claims.",
        "",
    ]
    for i, item in enumerate(ARTICLE_ASSUMPTIONS, 1):
        lines += [f"### {i}. {item.title}", "", f"> \"{item.quote}\"", "", f"**In the model.** {item.model}", ""]
        present = [s for s in item.scenarios if s in runs]
        if present and REFERENCE in runs:
            lines += ["**What the scenarios show.** " + " ".join(_contrast(s, ensemble) for s in present), ""]
            lines += [*_scenario_table([REFERENCE, *present], runs, ensemble), ""]
        elif item.scenarios:
            lines += [f"(Scenarios {', '.join(item.scenarios)} were not part of this report.)", ""]
        else:
            lines += ["No scenario changes this point: it is an assumption about the two sides' positions, "
                      "so the model's finding comes from varying it.", ""]
        names = resolve(item.parameters, list(params.parameters))
        scenario = where_to_vary(item, list(runs))
        lines += ["**What its assumptions do.**", "",
                  *_parameter_findings(names, ends[item.title], scenario, ensemble.n, sobol, params), ""]
    return lines
