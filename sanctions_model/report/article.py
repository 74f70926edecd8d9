"""The article's assumptions, one by one, and what the model finds for each: the section of the
full report written from :mod:`sanctions_model.analysis.article`'s map and the study's numbers.

It states numbers only: scenario contrasts over the same sampled assumption sets, and how
much the assumption's own parameters move the outcome.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ..analysis.article import (
    ARTICLE_ASSUMPTIONS,
    ENDS_SHARES,
    HELD_OVER_MEMBERS,
    REFERENCE,
    most_consequential,
    resolve,
    swing,
    where_to_vary,
)
from ..analysis.projection import SET_BY_MEMBERS, ConstrainedProjection
from ..inputs.params import ParameterSet
from ..runs.describe import percent, percents, share_with_interval
from ..runs.ensemble import Ensemble
from ..runs.run import RunResult
from .markdown import rank_range
from .projection import margin_points
from .sensitivity import label


def _scenario_table(scenarios: Sequence[str], runs: Mapping[str, RunResult], ensemble: Ensemble,
                    constrained: pd.DataFrame | None = None) -> list[str]:
    """The scenarios' chances at the central assumptions, over the sampled sets and, where ``constrained``
    (the constrained ensemble's shares) has every one of them, over the members that fit the record."""
    shares = ensemble.shares()
    fit = (constrained is not None and all(name in constrained.index for name in scenarios)
           and {"talks within 100 days", "ceasefire within horizon"} <= set(constrained.columns))
    extra = " talks within 100 days (fit the record) | ceasefire within the horizon (fit the record) |" if fit else ""
    lines = ["| scenario | talks within 100 days (central) | ceasefire within the horizon (central) | "
             "talks within 100 days (over the sets) | ceasefire within the horizon (over the sets) |" + extra,
             "|---|---|---|---|---|" + ("---|---|" if fit else "")]
    for name in scenarios:
        o, solved = runs[name].outcomes, ensemble.solved(name)
        row = (f"| `{name}` | {percent(o['p_talks_100_days'])}% | {percent(o['p_ceasefire_horizon'])}% | "
               f"{share_with_interval(shares.loc[name, 'talks within 100 days'], solved)} | "
               f"{share_with_interval(shares.loc[name, 'ceasefire within horizon'], solved)} |")
        if fit:
            assert constrained is not None
            row += (f" {percent(constrained.loc[name, 'talks within 100 days'])}% |"
                    f" {percent(constrained.loc[name, 'ceasefire within horizon'])}% |")
        lines.append(row)
    return lines


def _switches(ensemble: Ensemble, scenario: str, share: str) -> tuple[int, int]:
    """Sets in which ``share``'s probability is higher under ``scenario`` than under the reference,
    and sets in which it is lower (by more than 1e-6)."""
    a, b = ensemble.happens(scenario, share), ensemble.happens(REFERENCE, share)
    return int((a > b + 1e-6).sum()), int((a < b - 1e-6).sum())


def _contrast(name: str, ensemble: Ensemble) -> str:
    shares = ensemble.shares()
    parts = []
    for share, words in (("talks within 100 days", "the chance of direct talks within 100 days"),
                         ("ceasefire within horizon", "the chance of a ceasefire within the horizon")):
        ours, ref = shares.loc[name, share], shares.loc[REFERENCE, share]
        higher, lower = _switches(ensemble, name, share)
        if higher == lower == 0:
            change = f"is the same in every set as under `{REFERENCE}` ({percent(ref)}%)"
        else:
            ours_text, ref_text = percents(ours, ref)
            change = (f"is {ours_text}% against {ref_text}% under `{REFERENCE}` "
                      f"(higher in {_sets(higher)}, lower in {_sets(lower)})")
        parts.append(f"{words} {change}")
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
                        sobol: Mapping[str, pd.DataFrame], params: ParameterSet,
                        members: pd.DataFrame | None = None, over: str = "", as_of: str = "",
                        top: int = HELD_OVER_MEMBERS) -> list[str]:
    """The assumption's parameters, most consequential first: the chances with each held at its low and
    high, over the sampled sets and, where ``members`` has it, over the constrained members (``over``
    says which, in words) from their cut date ``as_of`` on."""
    cols = ENDS_SHARES
    ranked = most_consequential(ends, names)
    if not ranked:
        return ["None of this point's parameters is among the sampled uncertainties."]
    lines = []
    for name in ranked[:top]:
        p = params.parameters[name]
        low, high = ends.loc[(name, "low")], ends.loc[(name, "high")]
        ceasefire, talks = percents(low[cols[0]], high[cols[0]]), percents(low[cols[1]], high[cols[1]])
        line = (f"- *{label(params, name)}* (`{name}`, {p.low:g} to {p.high:g}). Held at its low, then its high, "
                f"across the same {n:,} sampled sets under `{scenario}`: the chance of a ceasefire within the horizon "
                f"is {ceasefire[0]}% then {ceasefire[1]}%, and of direct talks within 100 days {talks[0]}% then "
                f"{talks[1]}%.")
        if members is not None and name in members.index.get_level_values(0):
            low, high = members.loc[(name, "low")], members.loc[(name, "high")]
            ceasefire, talks = percents(low[cols[0]], high[cols[0]]), percents(low[cols[1]], high[cols[1]])
            line += (f" Over {over}, under `{scenario}`, with it at that end from {as_of} on: {ceasefire[0]}% then "
                     f"{ceasefire[1]}% for a ceasefire, {talks[0]}% then {talks[1]}% for talks.")
        elif members is not None and name in SET_BY_MEMBERS:
            line += (f" Over {over} it is not held: each member's own history sets it (its state on {as_of}, or the "
                     "frame its battlefield is measured in).")
        ranks = _rank(sobol["p_ceasefire_horizon"], name), _rank(sobol["p_talks_100_days"], name)
        if scenario != REFERENCE and ranks == ("no measurable effect",) * 2 and swing(ends, name) >= 0.01:
            # the Sobol' analysis runs under the reference, where what the assumption acts through may be off
            lines.append(line + f" Its total Sobol' index under `{REFERENCE}` shows no measurable effect there, "
                         f"where what it acts through is not in play as under `{scenario}` (the Sobol' analysis "
                         f"runs under `{REFERENCE}` only): it does not say the assumption is without effect under "
                         f"`{scenario}`, where it moves the chances as above.")
            continue
        lines.append(line + f" Its total Sobol' index under `{REFERENCE}`: "
                     f"{ranks[0]} for the chance of a ceasefire; {ranks[1]} for the chance of talks within 100 days.")
    if len(ranked) > top:
        rest = ", ".join(f"`{name}` ({100 * swing(ends, name):.0f})" for name in ranked[top:])
        lines.append("- The others, with the largest change they make to either chance over the sampled sets, in "
                     f"points: {rest}.")
    return lines


def walkthrough(runs: Mapping[str, RunResult], ensemble: Ensemble, sobol: Mapping[str, pd.DataFrame],
                ends: Mapping[str, pd.DataFrame], params: ParameterSet,
                constrained: pd.DataFrame | None = None, member_ends: Mapping[str, pd.DataFrame] | None = None,
                projection: ConstrainedProjection | None = None, member_note: str = "") -> list[str]:
    """Markdown lines: each of the article's assumptions, how the model holds it, and what it finds.

    ``sobol`` maps ``p_ceasefire_horizon`` and ``p_talks_100_days`` to their Sobol' indices
    under the reference scenario; ``ends`` maps each assumption's title to
    :func:`sanctions_model.runs.ensemble.at_each_end` of its parameters under
    :func:`where_to_vary`; ``runs`` hold every scenario at its central values; ``constrained``, the
    constrained ensemble's shares per scenario, adds its columns to each scenario table;
    ``member_ends`` (:func:`sanctions_model.analysis.studies.ends_over_members` over the members
    ``projection`` projected) adds the first parameters' ends over the members, and ``member_note``
    says why it is empty.
    """
    if member_ends and projection is None:
        raise ValueError("walkthrough: member_ends needs the projection of the members they were held over")
    members = projection.outcomes["member"].nunique() if projection is not None else 0
    as_of = projection.as_of if projection is not None else ""
    effective = float(projection.effective_sizes().min()) if projection is not None else 0.0
    over = f"the {members:,} members that fit the record"
    if member_ends:
        held = (f"then, for the {HELD_OVER_MEMBERS} that move the chances most over the sampled sets, over {over} "
                f"(weighted, each from its own state on {as_of}; worth {effective:,.0f} equally weighted members, so "
                f"each figure's sampling margin is at most ±{margin_points(effective):.0f} points). A member's path "
                f"to {as_of} was produced with its own value of the parameter; from then on the value is held at the "
                "end, which for a parameter the record constrains may be one the record makes unlikely.")
    else:
        held = "not over the constrained members" + (f": {member_note.rstrip('.')}." if member_note else ".")
    lines = [
        "Each point below quotes the article, says how the model represents it, and reports what the "
        f"model finds: first the scenarios that act on it, against `{REFERENCE}` and over the same sampled "
        "assumption sets (and, where the constrained ensemble was projected, over the members that fit the "
        "record, the last two columns of each table); then the uncertain parameters that describe it, each held "
        "at the low and then the high end of its range, first over the sampled sets while every other assumption "
        f"keeps its sampled values; {held} The model's findings "
        "depend on those assumptions; none of them is a verdict on the article's claims.",
        "",
    ]
    for i, item in enumerate(ARTICLE_ASSUMPTIONS, 1):
        lines += [f"### {i}. {item.title}", "", f"> \"{item.quote}\"", "", f"**In the model.** {item.model}", ""]
        present = [s for s in item.scenarios if s in runs]
        if present and REFERENCE in runs:
            lines += ["**What the scenarios show.** " + " ".join(_contrast(s, ensemble) for s in present), ""]
            lines += [*_scenario_table([REFERENCE, *present], runs, ensemble, constrained), ""]
        elif item.scenarios:
            lines += [f"(Scenarios {', '.join(item.scenarios)} were not part of this report.)", ""]
        else:
            lines += ["No scenario changes this point: it is an assumption about the two sides' positions, "
                      "so the model's finding comes from varying it.", ""]
        names = resolve(item.parameters, list(params.parameters))
        scenario = where_to_vary(item, list(runs))
        lines += ["**What its assumptions do.**", "",
                  *_parameter_findings(names, ends[item.title], scenario, ensemble.n, sobol, params,
                                       member_ends.get(item.title, pd.DataFrame()) if member_ends else None, over,
                                       as_of), ""]
    return lines
