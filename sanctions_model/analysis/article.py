"""The article's assumptions, each tied to the scenarios that act on it and the uncertain
parameters that describe it (``docs/model.md`` has the full map). The full study varies each
one's parameters; ``report/article.py`` writes the walk through them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


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
              "bite depends on evasion, on oil export volumes and discounts, and on how strongly strain and "
              "relief move Russia's willingness.",
        scenarios=("hard_way", "easy_way"),
        parameters=("evasion.implementation_delay_days", "evasion.initial", "evasion.max",
                    "evasion.secondary_effect", "evasion.adaptation_days", "oil.volume_sanctions_sensitivity",
                    "oil.discount_sensitivity", "oil.discount_max", "russia.strain_effect", "russia.relief_effect",
                    "russia.relief_half"),
    ),
    ArticleAssumption(
        title="Territorial concessions",
        quote="Mr Zelensky, meanwhile, may be willing to accept the loss of some territory but it is unlikely "
              "he will give up land currently not under Russian control",
        model="Russia's territorial demand, the share of held land Ukraine would concede and the weight of "
              "territory in the gap between the two sides are parameters (`demands.*`); the front moves with "
              "the balance of forces, and momentum makes Russia less willing to stop while it advances.",
        scenarios=(),
        parameters=("demands.russia_territory", "demands.ukraine_concession", "demands.territory_weight",
                    "russia.gap_effect", "ukraine.gap_effect", "forces.advance_", "forces.momentum_days",
                    "russia.momentum_effect", "russia.attrition_effect", "forces.kursk_", "russia.kursk_effect"),
    ),
    ArticleAssumption(
        title="Security guarantees",
        quote="Ukraine says the US must offer security guarantees and that European assurances alone are "
              "not enough.",
        model="A Western-backed force in a demilitarised zone and US participation in it are levers "
              "(`security_arrangement`, `us_backstop`); how much they reassure Ukraine, how much they "
              "deter Russia from talks, ruling out NATO and the durability of a ceasefire are parameters.",
        scenarios=("security_guarantee",),
        parameters=("ukraine.security_effect", "ukraine.europe_only_factor", "russia.western_force_effect",
                    "demands.nato_", "demands.russia_political", "ukraine.durability_"),
    ),
    ArticleAssumption(
        title="The $300bn of frozen Russian assets",
        quote="Others have suggested Mr Trump backs the transfer of roughly $300 billion (£240bn) in frozen "
              "Russian assets so Ukraine can arm itself.",
        model="The amount transferred and its pace are a lever (`frozen_assets`); it reaches the front as "
              "materiel, with a delay, and changes both sides' prospects on the battlefield.",
        scenarios=("frozen_assets", "us_aid_cut"),
        parameters=("ukraine.aid_effect", "forces.materiel_life_days", "forces.aid_reference"),
    ),
    ArticleAssumption(
        title="Russia's allies: China, Iran and North Korea",
        quote="Mr Trump could look to disrupt these alliances to slow support for Russia's war, or he could "
              "put pressure on these allies to stop funding Mr Putin.",
        model="Pressure on the allies is a lever (`ally_pressure`); the share of evasion that runs through "
              "them and the share of Russia's supply they provide are parameters.",
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
