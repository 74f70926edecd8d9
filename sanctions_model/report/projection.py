"""The chances over the constrained ensemble, beside the figure without it: the table every report
that gives chances of talks and a ceasefire shows first (issue 16: the full report's summary, the
comparison, a single run)."""

from __future__ import annotations

from collections.abc import Container

import pandas as pd

from ..analysis.projection import ConstrainedProjection
from ..errors import InputError
from ..runs.describe import percent

#: The columns of the table: (column of the shares, heading; {h} is the horizon).
COLUMNS = (("talks within 100 days", "direct talks within 100 days"),
           ("talks within horizon", "direct talks within {h}"),
           ("ceasefire within 1 year", "ceasefire within a year"),
           ("ceasefire within horizon", "ceasefire within {h}"))


def columns_for(days: float, *present: Container[str]) -> list[tuple[str, str]]:
    """:data:`COLUMNS` that every table of ``present`` (share tables, by column) holds, less the chance
    within a year when the horizon is a year (the same figure twice), headings filled in."""
    horizon = f"{days:g} days"
    return [(col, h.format(h=horizon)) for col, h in COLUMNS
            if all(col in table for table in present) and not _twice(col, days)]


def distinct(shares: pd.DataFrame, days: float) -> pd.DataFrame:
    """A share table (outcomes as columns) without the chance within a year when the horizon is a year."""
    return shares.drop(columns=[col for col in shares.columns if _twice(col, days)])


def _twice(column: str, days: float) -> bool:
    """Whether ``column`` repeats the horizon's chance of a ceasefire (a year, over a horizon of a year)."""
    return column == "ceasefire within 1 year" and days == 365


#: Why the chances over the members differ from those over the sampled sets, where the report does not
#: take the difference apart (the full report does, for its reference scenario).
WHY = ("The two differ because the record rules out some of the assumptions the other figure counts, and "
       "because each member starts from its own simulated state on 2025-01-20 rather than the base file's "
       "(the record where there is one, else a stated assumption).")


def margin_points(effective_size: float) -> float:
    """The largest 95% sampling margin, in percentage points, of a weighted share over members worth
    ``effective_size`` equally weighted ones (a share of one half: 1.96 sqrt(0.25 / size))."""
    return 100 * 1.96 * (0.25 / effective_size) ** 0.5


def constrained_lines(proj: ConstrainedProjection | None, note: str, beside: pd.DataFrame, beside_name: str,
                      days: float, *, why: str) -> list[str]:
    """A paragraph and a table: each scenario's chances over the constrained ensemble's members (each from
    its own state on the cut date, weighted by the chance it gave what happened), with ``beside``'s
    figure for the same scenario in the column before it, or why there is none.

    Parameters
    ----------
    proj : ConstrainedProjection or None
        The members projected under each scenario (None: ``note`` says why not).
    note : str
        Why there is no projection.
    beside : DataFrame
        The figures without the constraint (scenario x share column, 0-1): over the sampled sets,
        or the run at the central assumptions.
    beside_name : str
        What ``beside`` is, for the table's heads ("all sets", "central assumptions").
    days : float [day]
        The horizon, for the heads.
    why : str
        The sentence after the table that says why the two figures differ.
    """
    head = "**Constrained by the record.** "
    if proj is None:
        return [head + note, ""]
    try:
        constrained = proj.shares()
    except InputError as exc:
        return [head + f"Not reported: {exc}", ""]
    columns = columns_for(days, constrained, beside)
    heads = " | ".join(f"{h}: {beside_name} | {h}: fit the record" for _, h in columns)
    size = float(proj.effective_sizes().min())  # the members each scenario's shares are averaged over
    lines = [head + f"Each scenario from each of the {proj.outcomes['member'].nunique():,} members of the "
             f"constrained ensemble (`params/{proj.path.name}`: the sets of assumptions that come closest to the "
             f"record of 2022-02-24 to {proj.as_of}; `reports/constrained/report.md`), each continuing from its own "
             f"state on {proj.as_of} and weighted by the chance it gave what happened (talks in spring 2022, no "
             f"ceasefire); worth at least {size:,.0f} equally weighted members under each scenario, so each figure's "
             f"sampling margin is at most ±{margin_points(size):.0f} points (95%). Beside each, the same chance "
             f"{'over every sampled set' if beside_name == 'all sets' else 'at the ' + beside_name}:", "",
             f"| scenario | {heads} |", "|---|" + "---|" * (2 * len(columns))]
    for name in constrained.index:
        cells = " | ".join((f"{percent(beside.loc[name, col])}%" if name in beside.index else "-")
                           + f" | **{percent(constrained.loc[name, col])}%**" for col, _ in columns)
        lines.append(f"| `{name}` | {cells} |")
    return lines + ["", why, ""]


def ensemble_provenance(proj: ConstrainedProjection | None) -> str:
    """The provenance table's line on the constrained ensemble a report projected."""
    if proj is None:
        return "none"
    return (f"{proj.path.name} ({proj.outcomes['member'].nunique():,} members, effective size "
            f"{proj.effective_size:,.0f}, cut on {proj.as_of})")

