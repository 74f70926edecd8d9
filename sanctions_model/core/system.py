"""The system's stocks and reported flows, declared once: name, unit, and what the solver and
the trajectories need to know about each.

``model.py`` takes the state-vector order, the units and the solver scales from
:data:`STOCKS`; ``run.py`` takes the reported flows, their units and their per-day to
per-year conversion from :data:`REPORTED_FLOWS`. Adding a stock is one line here (and its
equation in ``model.derivatives``); nothing positional can fall out of step.

"budget US$" is the federal budget's money: roubles written as dollars at the fixed accounting
rate of 92 RUB/US$ (``model.ACCOUNTING_RUB_PER_USD``), so that a budget dollar is always 92
roubles; plain "US$" is actual dollars (the Fund's reserves, oil prices, Western aid), converted
to and from the budget at the day's rate ``macro.rub_per_usd`` (docs/model.md).

"stake" is the decision core's unit of value: a share of Ukraine's area (0.01 is about 6,000
km2), in which each side's costs, aims and the terms on the table are priced (docs/model.md,
"The decision core").
"""

from __future__ import annotations

from dataclasses import dataclass

#: Days in a year: the conversion from the model's daily flows to the reported yearly ones.
DAYS_PER_YEAR = 365.0


@dataclass(frozen=True)
class Stock:
    """A stock of the state vector."""

    name: str
    unit: str
    #: Typical magnitude, for the solver's absolute tolerance (``atol = scale * atol_factor``).
    scale: float
    #: Where its starting value comes from: a parameter of ``params/base.toml``, or how it is derived.
    initial: str


@dataclass(frozen=True)
class Flow:
    """A flow or auxiliary reported beside the stocks in a run's trajectories."""

    name: str
    unit: str
    #: The key of ``model.auxiliaries`` it is read from.
    source: str
    #: True for a flow the model computes per day and reports per year (multiplied by
    #: :data:`DAYS_PER_YEAR`).
    per_year: bool = False


#: Stocks, in state-vector order. Reserves get a tiny scale so that the solver tracks them
#: relatively as they drain toward zero.
STOCKS: tuple[Stock, ...] = (
    Stock("sanctions_effective", "index 0-1", 1, "sanctions.initial"),
    Stock("evasion", "share 0-1", 1, "evasion.initial"),
    Stock("reserves", "US$ bn", 0.01, "fiscal.reserves_initial"),
    Stock("reserves_gold", "US$ bn (the reserves' part held in gold)", 0.01,
          "fiscal.reserves_gold_share times fiscal.reserves_initial"),
    Stock("war_debt", "budget US$ bn", 50, "0 (debt taken on since the start)"),
    Stock("fiscal_consolidation", "budget US$ bn per year (tax rises and spending cuts)", 10,
          "0 (no consolidation beyond the budget in force)"),
    Stock("inflation", "% per year (underlying)", 10, "macro.inflation_initial"),
    Stock("key_rate", "% per year", 20, "macro.key_rate_initial"),
    Stock("rouble_defence", "pp (the key rate's premium in defence of the rouble)", 1,
          "0 (the rouble held still before the start)"),
    Stock("passthrough", "% per year (the exchange rate's part of headline inflation)", 1,
          "0 (the rouble held still before the start)"),
    Stock("inflation_observed", "% per year (headline inflation as the central bank reads it)", 10,
          "macro.inflation_observed_initial"),
    Stock("civilian_capacity", "index (1 = 2024 level)", 1, "1 (the 2024 level)"),
    Stock("strain", "index 0-1", 1, "its indicated value at the start (perception in equilibrium)"),
    Stock("russia_forces", "thousand persons", 700, "forces.russia_initial"),
    Stock("ukraine_forces", "thousand persons", 500, "forces.ukraine_initial"),
    Stock("ukraine_materiel", "US$ bn", 50,
          "the materiel inflow before the start (own production and absorbed aid, the aid levers at their "
          "initial values, before any step on day 0) times forces.materiel_life_days"),
    Stock("territory", "share of Ukraine", 0.2, "forces.territory_initial"),
    Stock("kursk", "km2", 500, "forces.kursk_initial"),
    Stock("momentum", "share of Ukraine per year", 0.01, "the advance at the start"),
    Stock("russia_cost", "stake per year (Russia's perceived cost of fighting on a year)", 0.01,
          "its indicated value at the start (perception in equilibrium)"),
    Stock("ukraine_cost", "stake per year (Ukraine's perceived cost of fighting on a year)", 0.01,
          "its indicated value at the start (perception in equilibrium)"),
    Stock("talks_hazard_total", "1 (the talks hazard integrated since the start)", 0.01,
          "0 (no chance of talks before the start)"),
    Stock("ceasefire_hazard_total", "1 (the ceasefire hazard integrated since the start)", 0.01,
          "0 (no chance of a ceasefire before the start)"),
    Stock("ceasefire_held", "probability (a ceasefire agreed since the start that holds a year)", 0.01,
          "0 (counted from the start)"),
    Stock("oil_revenue_lost", "budget US$ bn (cumulative)", 100, "0 (counted from the start)"),
    Stock("ukraine_funding", "US$ bn (cumulative)", 100, "0 (counted from the start)"),
    Stock("reference_power_russia", "thousand persons x quality index", 700, "the combat power at the start"),
    Stock("reference_power_ukraine", "thousand persons x quality index", 500, "the combat power at the start"),
)

#: Flows and auxiliaries reported beside the stocks, in the trajectories' column order.
REPORTED_FLOWS: tuple[Flow, ...] = (
    Flow("sanctions_target", "index 0-1", "sanctions_target"),
    Flow("sanctions_bite", "index 0-1", "bite"),
    Flow("secondary_tariffs", "index 0-1", "secondary_tariffs"),
    Flow("ally_pressure", "index 0-1", "ally_pressure"),
    Flow("relief_offer", "US$ bn per year", "relief"),
    Flow("security_arrangement", "index 0-1", "security"),
    Flow("rub_per_usd", "RUB per US$", "rub_per_usd"),
    Flow("depreciation", "% per year (rouble against the dollar)", "depreciation"),
    Flow("headline_inflation", "% per year (underlying plus the exchange rate's pass-through)",
         "headline_inflation"),
    Flow("export_volume", "mb/d", "volume"),
    Flow("urals_price", "US$/bbl", "price"),
    Flow("oil_revenue", "budget US$ bn per year", "oil", per_year=True),
    Flow("oil_revenue_lost_rate", "budget US$ bn per year", "oil_lost", per_year=True),
    Flow("non_oil_revenue", "budget US$ bn per year", "non_oil", per_year=True),
    Flow("spending", "budget US$ bn per year", "spending", per_year=True),
    Flow("balance", "budget US$ bn per year", "balance", per_year=True),
    Flow("base_oil_revenue", "budget US$ bn per year (the budget rule's base oil-and-gas revenue)",
         "base_oil", per_year=True),
    Flow("rule_transfer", "budget US$ bn per year (the rule's transfer: + to the fund, - from it)",
         "rule", per_year=True),
    Flow("reserve_inflow", "budget US$ bn per year", "deposit", per_year=True),
    Flow("reserve_drawdown", "budget US$ bn per year (drawn to finance the budget)", "withdrawal", per_year=True),
    Flow("fund_investment", "budget US$ bn per year (liquid assets moved into illiquid ones)",
         "invested", per_year=True),
    Flow("reserves_revaluation", "US$ bn per year (actual dollars; the gold price's moves)", "revaluation",
         per_year=True),
    Flow("reserves_rub", "RUB trn (the liquid fund at the day's rate)", "reserves_rub"),
    Flow("borrowing", "budget US$ bn per year", "borrowing", per_year=True),
    Flow("ofz_absorption", "budget US$ bn per year (what the market absorbs)", "absorption", per_year=True),
    Flow("unabsorbed_borrowing", "budget US$ bn per year (borrowing beyond what the market absorbs)", "unabsorbed",
         per_year=True),
    Flow("fiscal_gap", "budget US$ bn per year (the deficit before consolidation)", "fiscal_gap", per_year=True),
    Flow("strain_indicated", "index 0-1", "strain_indicated"),
    Flow("aid_to_ukraine", "US$ bn per year", "aid", per_year=True),
    Flow("materiel_inflow", "US$ bn per year (Ukraine's own production plus the aid it absorbs)", "materiel_inflow",
         per_year=True),
    Flow("force_ratio", "ratio (Russia / Ukraine combat power)", "force_ratio"),
    Flow("advance_rate", "share of Ukraine per year", "advance"),
    Flow("ceasefire_durability", "probability (a ceasefire agreed that day holds a year)", "durability"),
    Flow("power_shift", "log of the force ratio per year (toward Russia, bounded at 1)", "power_shift"),
    Flow("russia_margin", "stake (Russia's value of a ceasefire less its value of fighting on)", "russia_margin"),
    Flow("ukraine_margin", "stake (Ukraine's value of a ceasefire less its value of fighting on)", "ukraine_margin"),
    Flow("bargaining_range", "stake (the sum of the two margins; positive: a ceasefire both prefer exists)",
         "bargaining_range"),
    Flow("p_talks", "probability (direct talks have started by this day)", "p_talks"),
    Flow("p_ceasefire", "probability (a ceasefire has been agreed by this day)", "p_ceasefire"),
    Flow("talks_hazard", "per year (the rate at which direct talks start)", "talks_hazard", per_year=True),
    Flow("ceasefire_hazard", "per year (the rate at which a ceasefire is agreed)", "ceasefire_hazard",
         per_year=True),
)
