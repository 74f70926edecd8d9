"""The article's assumptions, each tied to the scenarios that act on it and the uncertain
parameters that describe it (``docs/model.md`` has the full map). The full study varies each
one's parameters; ``report/article.py`` writes the walk through them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class ArticleAssumption:
    title: str
    quote: str
    model: str
    scenarios: tuple[str, ...]
    parameters: tuple[str, ...]  # names or group prefixes ending in "."


ARTICLE_ASSUMPTIONS: tuple[ArticleAssumption, ...] = (
    ArticleAssumption(
        title="Sanctions: the easy way or the hard way",
        quote="If a deal is not reached, I will have no other choice but to put high levels of taxes, "
              "tariffs, and sanctions on anything being sold by Russia to the United States and other "
              "participating countries",
        model="Sanctions intensity, secondary tariffs on third-country buyers and an offer of relief to oil "
              "producers are policy levers (`sanctions`, `secondary_tariffs`, `relief_offer`); how much they "
              "bite depends on evasion, on oil export volumes and discounts; the strain it causes is a cost of "
              "fighting on for Russia, and relief is a term of a ceasefire it values (`russia.strain_cost`, "
              "`russia.relief_value`).",
        scenarios=("hard_way", "easy_way"),
        parameters=("evasion.implementation_delay_days", "evasion.initial", "evasion.max",
                    "evasion.secondary_effect", "evasion.adaptation_days", "oil.volume_sanctions_sensitivity",
                    "oil.discount_sensitivity", "oil.discount_max", "russia.strain_cost", "russia.relief_value",
                    "russia.relief_half"),
    ),
    ArticleAssumption(
        title="Territorial concessions",
        quote="Mr Zelensky, meanwhile, may be willing to accept the loss of some territory but it is unlikely "
              "he will give up land currently not under Russian control",
        model="Russia's territorial demand and the share of held land Ukraine would leave under Russian control "
              "are parameters (`demands.*`), and so is how much each side insists on its claim "
              "(`russia.claim_weight`, `ukraine.claim_weight`): the claims a ceasefire on the line leaves unmet "
              "close the bargaining range. The front moves with the balance of forces; the advance each side "
              "expects (with its optimism) makes Russia value fighting on more, and Ukraine less.",
        scenarios=(),
        parameters=("demands.russia_territory", "demands.ukraine_concession", "russia.claim_weight",
                    "ukraine.claim_weight", "forces.advance_", "forces.momentum_days", "russia.optimism",
                    "ukraine.optimism", "russia.attrition_cost", "forces.kursk_", "russia.kursk_weight"),
    ),
    ArticleAssumption(
        title="Security guarantees",
        quote="Ukraine says the US must offer security guarantees and that European assurances alone are "
              "not enough.",
        model="A Western-backed force in a demilitarised zone and US participation in it are levers "
              "(`security_arrangement`, `us_backstop`); what they are worth to Ukraine in a ceasefire, what "
              "Western forces on the line cost Russia, how much they make a ceasefire hold a year, and what "
              "ruling out NATO gives Russia and takes from a ceasefire's hold are parameters.",
        scenarios=("security_guarantee",),
        parameters=("ukraine.security_value", "ukraine.europe_only_factor", "russia.western_force_cost",
                    "demands.nato_", "demands.russia_political", "russia.political_weight", "ceasefire.",
                    "ukraine.commitment_cost"),
    ),
    ArticleAssumption(
        title="The $300bn of frozen Russian assets",
        quote="Others have suggested Mr Trump backs the transfer of roughly $300 billion (£240bn) in frozen "
              "Russian assets so Ukraine can arm itself.",
        model="The amount transferred and its pace are a lever (`frozen_assets`); it reaches the front as "
              "materiel, with a delay: it lowers Ukraine's cost of fighting on, raises Russia's losses, and shifts "
              "the balance of power, which the side it favours waits for.",
        scenarios=("frozen_assets", "us_aid_cut"),
        parameters=("ukraine.shortage_cost", "bargaining.shift_weight", "forces.materiel_life_days",
                    "forces.aid_reference"),
    ),
    ArticleAssumption(
        title="Russia's allies: China, Iran and North Korea",
        quote="Mr Trump could look to disrupt these alliances to slow support for Russia's war, or he could "
              "put pressure on these allies to stop funding Mr Putin.",
        model="Pressure on the allies is a lever (`ally_pressure`); the share of evasion that runs through "
              "them and the share of Russia's supply they provide are parameters. Both raise Russia's cost of "
              "fighting on (strain, and losses against a less supplied army).",
        scenarios=("allies_pressured",),
        parameters=("evasion.ally_share", "forces.ally_supply_share"),
    ),
)

REFERENCE = "status_quo"


def resolve(patterns: Sequence[str], names: Sequence[str]) -> list[str]:
    """The names matching each pattern (a name, or a prefix ending in '.' or '_'), in order, once each."""
    out: list[str] = []
    for pattern in patterns:
        for name in names:
            hit = name == pattern or (pattern.endswith((".", "_")) and name.startswith(pattern))
            if hit and name not in out:
                out.append(name)
    return out


def where_to_vary(item: ArticleAssumption, scenarios: Sequence[str]) -> str:
    """The scenario under which an assumption's parameters are varied: its first scenario in the
    report (where its levers are on), else the reference."""
    present = [s for s in item.scenarios if s in scenarios]
    return present[0] if present else REFERENCE


#: How many of each assumption's parameters (the most consequential over the sampled sets) are also
#: held at each end over the constrained members.
HELD_OVER_MEMBERS = 3

#: The chances the walk through the assumptions reads each parameter's two ends by (share columns).
ENDS_SHARES = ("ceasefire within horizon", "talks within 100 days")


def swing(ends: pd.DataFrame, name: str) -> float:
    """The largest change, 0-1, that holding ``name`` at its high rather than its low end makes to
    either of :data:`ENDS_SHARES` (``ends``: rows (parameter, ``low``/``high``), as
    :func:`~sanctions_model.runs.ensemble.at_each_end` gives)."""
    return max(abs(float(ends.loc[(name, "high"), c]) - float(ends.loc[(name, "low"), c])) for c in ENDS_SHARES)


def most_consequential(ends: pd.DataFrame, names: Sequence[str]) -> list[str]:
    """``names`` that ``ends`` holds, by :func:`swing`, largest first (ties by name)."""
    held = set(ends.index.get_level_values(0))
    return sorted((n for n in names if n in held), key=lambda n: (-swing(ends, n), n))
