"""The explorer's numbers in words: a chance as the page shows it, and the sentences under the numbers.

One rule for every chance on the page (:func:`sanctions_model.runs.describe.percent`: one decimal
below 10%, whole points above), the rule the reports use, so that the page and a report print the
same number for the same run.
"""

from __future__ import annotations

import datetime as dt
import math

from ..runs.describe import percent
from .compute import CHANCES, View

CAVEAT = ("These are what the model computes under the stated assumptions, not forecasts. The chances come from a "
          "small bargaining model whose base rates are sourced (how often long wars end, how often ceasefires fail) "
          "but whose prices of costs, aims and terms are assumptions; each slider says where its value comes from.")


def chance(share: float) -> str:
    """A chance 0-1 as the page shows it: ``34%``, ``9.5%``, or ``n/a`` for NaN.

    Parameters
    ----------
    share : float

    Returns
    -------
    str
    """
    return f"{percent(share)}%" if math.isfinite(share) else "n/a"


def points(margin: float) -> str:
    """A sampling margin 0-1 in percentage points: ``± 9.7 pts``.

    Parameters
    ----------
    margin : float

    Returns
    -------
    str
    """
    return f"± {100 * margin:.1f} pts" if math.isfinite(margin) else ""


def members_line(view: View, outcome: str) -> str:
    """A chance over the members, with its margin and what it is over.

    Parameters
    ----------
    view : View
    outcome : str
        One of :data:`~sanctions_model.explore.compute.CHANCES`.

    Returns
    -------
    str
    """
    c = view.chances[outcome]
    return f"{chance(c.members)} {points(c.margin)} over {view.n_ok} members"


def when(view: View, outcome: str) -> str:
    """The date a chance is counted to: day 100's, or the horizon's.

    Parameters
    ----------
    view : View
    outcome : str

    Returns
    -------
    str
        ``"by 2025-04-30 (day 100)"``.
    """
    days = 100.0 if outcome.endswith("100_days") else view.central.days
    date = view.params.start_date + dt.timedelta(days=days)
    return f"by {date.isoformat()} (day {days:g})"


def summary(view: View, titles: dict[str, str], scenario_title: str) -> str:
    """What the numbers say, in two sentences a reader could quote (the page adds :data:`CAVEAT`).

    Parameters
    ----------
    view : View
    titles : dict
        Control -> the page's title of it.
    scenario_title : str

    Returns
    -------
    str
    """
    c = view.chances
    t100, th, c100, ch = (c[k] for k in CHANCES)
    horizon = (view.params.start_date + dt.timedelta(days=view.central.days)).isoformat()
    filed = view.filed.params
    changed = [f"{titles.get(k, k)} {float(v):g} ({filed[k]:g} as filed)"  # type: ignore[arg-type]
               for k, v in view.params.overrides.items()]
    setting = (f"With {scenario_title} and {'; '.join(changed)}" if changed else f"With {scenario_title} as filed")
    return (f"{setting}, the model gives a {chance(t100.central)} chance that direct talks start within 100 days "
            f"and {chance(th.central)} by {horizon}; a {chance(c100.central)} chance of a ceasefire agreed within "
            f"100 days and {chance(ch.central)} by {horizon}. Over the {view.n_ok} constrained members (assumption "
            f"sets that fit the record to {view.params.start_date.isoformat()}, each from its own state), the same "
            f"chances are {chance(t100.members)}, {chance(th.members)}, {chance(c100.members)} and "
            f"{chance(ch.members)}, each within about {points(max(x.margin for x in c.values()))} of what all "
            "members would give.")
