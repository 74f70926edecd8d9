"""What the explorer lets a reader move: a slider per policy lever of the article and per key assumption.

Each control is a parameter of ``params/base.toml`` and carries what the file says of it: the
description, the unit, the range (the slider's ends) and the source. The titles are the page's
short names; everything else is read from the parameter file, so a change there shows on the page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ..inputs.params import ParameterSet

#: The article's policy levers (``kind = "lever"`` groups of ``params/base.toml``), with the page's
#: short title of each: the level every lever's schedule moves to, and the day it starts for the
#: levers the article ties to a deadline.
LEVERS: tuple[tuple[str, str], ...] = (
    ("sanctions.level", "Western sanctions"),
    ("sanctions.start_day", "Sanctions: day the move starts"),
    ("secondary_tariffs.level", "Secondary tariffs on buyers of Russian goods"),
    ("secondary_tariffs.start_day", "Secondary tariffs: day they start"),
    ("relief_offer.level", "Sanctions relief offered if talks start"),
    ("relief_offer.start_day", "Relief: day the offer starts"),
    ("us_aid.level", "US aid to Ukraine"),
    ("other_aid.level", "Aid to Ukraine from Europe and others"),
    ("frozen_assets.level", "Frozen Russian assets transferred to Ukraine"),
    ("frozen_assets.start_day", "Frozen assets: day transfers start"),
    ("security_arrangement.level", "Western-backed force in a demilitarised zone"),
    ("us_backstop.level", "US participation in that force"),
    ("ally_pressure.level", "Pressure on Russia's allies"),
)
#: The assumptions the chances depend on most (the largest total Sobol' indices of the full report,
#: ``reports/analysis/report.md``), and the oil price the article's sanctions act through.
ASSUMPTIONS: tuple[tuple[str, str], ...] = (
    ("russia.strain_cost", "Cost to Russia of economic strain"),
    ("ukraine.claim_weight", "Weight Ukraine puts on land it will not cede"),
    ("demands.ukraine_concession", "Share of held land Ukraine would concede"),
    ("russia.optimism", "Russia's optimism about its advance"),
    ("oil.brent_price", "Brent oil price"),
)
#: Steps a slider's range is cut into, at most.
STEPS = 100


@dataclass(frozen=True)
class Control:
    """One slider: a parameter with its title, description, unit, range, step and source.

    Attributes
    ----------
    name : str
        The parameter, ``GROUP.FIELD``.
    title : str
        The page's short name.
    kind : {"lever", "assumption"}
    description, unit, source : str
        As ``params/base.toml`` gives them.
    low, high : float
        The slider's ends: the parameter's range, in ``unit``.
    step : float
        The slider's step, in ``unit``.
    """

    name: str
    title: str
    kind: Literal["lever", "assumption"]
    description: str
    unit: str
    source: str
    low: float
    high: float
    step: float

    @property
    def slug(self) -> str:
        """The name as an HTML id part: ``sanctions.level`` -> ``sanctions-level``."""
        return self.name.replace(".", "-").replace("_", "-")


def nice_step(low: float, high: float, steps: int = STEPS) -> float:
    """A round step (1, 2 or 5 times a power of ten) that cuts ``[low, high]`` into at most ``steps``.

    Parameters
    ----------
    low, high : float
        The range, ``low < high``.
    steps : int

    Returns
    -------
    float
    """
    raw = (high - low) / steps
    if not raw > 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))


def controls(params: ParameterSet, levers: Sequence[tuple[str, str]] = LEVERS,
             assumptions: Sequence[tuple[str, str]] = ASSUMPTIONS) -> list[Control]:
    """The explorer's controls, described from ``params``.

    Parameters
    ----------
    params : ParameterSet
        Gives each control's description, unit, range and source.
    levers, assumptions : list of (name, title)

    Returns
    -------
    list of Control
        Levers first, then assumptions, in the order given.
    """
    def control(name: str, title: str, kind: Literal["lever", "assumption"]) -> Control:
        p = params.parameters[name]
        return Control(name, title, kind, p.description, p.unit, p.source, p.low, p.high, nice_step(p.low, p.high))

    return [*(control(n, t, "lever") for n, t in levers), *(control(n, t, "assumption") for n, t in assumptions)]
