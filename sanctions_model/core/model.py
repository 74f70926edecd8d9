"""The equations of the sanctions-pressure model: pure, vectorised NumPy functions.

Every function takes arrays over a batch of parameter sets (a single run is a batch of
one) and knows nothing of files or pandas. The state is an array of shape
``(N_STATES, n)``; parameters are a mapping from name (as in ``params/base.toml``) to an
array of shape ``(n,)``. Time ``t`` is in days after the projection start.

Units are given in brackets; ``docs/model.md`` writes every equation out and names the
causal loops. Sources of coefficients are in ``params/base.toml``.

Money: the federal budget is kept in roubles, written as US$ bn at the fixed accounting rate
:data:`ACCOUNTING_RUB_PER_USD` (``[meta] rub_per_usd`` of ``params/base.toml``), so that a
budget "dollar" is always 92 roubles. Oil is sold in dollars and the National Wealth Fund
holds foreign currency: oil revenue enters the budget, and reserves are bought and sold, at
the day's exchange rate ``macro.rub_per_usd``; the reserves stock is in actual US$ bn.

Smooth forms (softplus instead of ``max``, logistic responses) keep the right-hand side
differentiable, so that the adaptive solver need not shrink its step at kinks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

import numpy as np

from . import bargaining
from .schedules import at_time, driver_rate, lever_rate, lever_value
from .smooth import saturate, soft_cap, softplus, where
from .system import DAYS_PER_YEAR, REPORTED_FLOWS, STOCKS

#: Type of a batch quantity: an array (n,) over parameter sets, or a scalar.
Array = np.ndarray
Num = np.ndarray | float
#: Parameters (and reference values) by name, each an array (n,) over the batch.
Params = Mapping[str, np.ndarray]

#: Stocks, in state-vector order, with their units (declared with their solver scales and
#: starting values in :mod:`sanctions_model.core.system`).
STATES: dict[str, str] = {stock.name: stock.unit for stock in STOCKS}
STATE_NAMES = tuple(STATES)
N_STATES = len(STATE_NAMES)


class StockIndex(dict[str, int]):
    """Each stock's row in the state: a plain dict, which the compiled right-hand side
    (:mod:`sanctions_model.core.jit`) reads as constants."""


IDX = StockIndex({name: i for i, name in enumerate(STATE_NAMES)})

#: Typical magnitude of each stock, for the solver's absolute tolerance, in state order.
STATE_SCALE = np.array([stock.scale for stock in STOCKS], float)

#: Key flows and auxiliaries reported beside the stocks, with their units.
FLOWS: dict[str, str] = {flow.name: flow.unit for flow in REPORTED_FLOWS}

#: The accounting rate of the budget's money [RUB per US$]: ``[meta] rub_per_usd`` of params/base.toml.
ACCOUNTING_RUB_PER_USD = 92.0
#: Time constant [day] with which the territory follows a recorded path while one is imposed,
#: and the battlefield's reference balance follows the forces' combat power.
TRACKING_DAYS = 5.0

#: The time scale [day] that bounds how fast withdrawals drain the reserves: withdrawals and
#: investment take at most ``reserves / (2 RESERVES_DRAIN_DAYS)`` a day, and the drain's rate
#: (its derivative in the reserves) is at most ``0.65 / RESERVES_DRAIN_DAYS`` [1/day] at any
#: level, however large the deficit and whatever the exchange rate. Without it the drain near
#: empty has a rate of order ``W / (x reserves_gate)`` [1/day] (``W`` the withdrawals and
#: investment asked for in budget dollars, ``x`` :func:`fx_index`), as fast as the deficit is
#: large, and a runaway deficit (debt compounding at a key rate of 250% a year) makes the model
#: stiff. It lowers what is paid by a share of at most ``e^2``,
#: ``e = W * RESERVES_DRAIN_DAYS / (x reserves_gate)``: about 0.1% for the central scenarios'
#: largest withdrawals (0.15 budget US$ bn a day, e = 0.03).
RESERVES_DRAIN_DAYS = 1.0

#: The most the Kursk foothold's loss rate can be multiplied by the force ratio
#: (:func:`kursk_pressure`): at the top of ``forces.kursk_loss_per_year`` the foothold then
#: halves in no less than about 3 days.
KURSK_PRESSURE_MAX = 30.0

#: Days in a month, for rates given per month.
DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0
#: Smoothing scale of the fiscal softplus [US$ bn per day]; small against any deficit.
FISCAL_SMOOTHING = 0.001
#: The softest floor under a force or combat power [thousand persons]: one person.
FORCE_FLOOR = 1e-3
#: Smoothing scale of the Urals price's floor [US$/bbl]: the price is 0.5 $/bbl above the floor
#: where the market is at the floor, and within ``0.25 / distance`` $/bbl of ``max(market, floor)``
#: at a distance from it.
OIL_PRICE_SMOOTHING = 0.5


# --------------------------------------------------------------------------------------
# Sanctions, evasion and oil
# --------------------------------------------------------------------------------------

def evasion_indicated(p: Params, ally_pressure: Num, secondary_tariffs: Num) -> Num:
    """Evasion capacity Russia can build under current allied help and secondary pressure.

    ``E* = E_max * ((1 - a) + a (1 - P_ally)) * (1 - k_sec * P_sec)``

    Parameters
    ----------
    p : mapping with ``evasion.max`` [share], ``evasion.ally_share`` a [share],
        ``evasion.secondary_effect`` k_sec [share]
    ally_pressure : array [index 0-1]
    secondary_tariffs : array [index 0-1]

    Returns
    -------
    array [share 0-1]

    Source: assumption after Van Bergeijk and van Marrewijk (1995), Economic Modelling
    12(2): the target's adjustment erodes sanctions' effect over time.
    """
    a = p["evasion.ally_share"]
    ally_help = (1.0 - a) + a * (1.0 - ally_pressure)
    return p["evasion.max"] * ally_help * (1.0 - p["evasion.secondary_effect"] * secondary_tariffs)


def sanctions_bite(sanctions_effective: Num, evasion: Num) -> Num:
    """Share of full-embargo pressure that actually reaches the economy [0-1]: ``S (1 - E)``."""
    return sanctions_effective * (1.0 - evasion)


def oil_revenue(p: Params, bite: Num) -> tuple[Num, Num, Num]:
    """Federal oil and gas revenue [budget US$ bn per day], with export volume [mb/d] and Urals price [US$/bbl].

    Price: the market price ``P_m = Brent - d(B)`` (:func:`urals_discount`) floored softly at the shut-in price
    ``P_s``: ``P = P_s + softplus(P_m - P_s)`` (:func:`urals_price`); a barrel is not sold for
    less than it costs to lift and ship.

    Volume: ``V = V_pot * reach(B) * (1 - shut_in)`` with the embargo's reach
    ``reach = 1 - k_v B - (1 - k_v - r) B^m`` (:func:`embargo_reach`) and the share shut in
    ``u / (u + P_s)``, ``u = softplus(P_s - P_m)``: none while the market price is above the
    floor, half when it is zero.

    Revenue: ``Rev = tax * V * 1e6 * P / 1e9 * x`` with ``x = rub_per_usd / 92`` (a weaker
    rouble brings more roubles for the same dollars); never negative.

    Source: volume and discount sensitivities are assumptions informed by IEA and MinFin
    figures in data/ (Russian oil exports 2022-07 and 2023-07; Urals avg 2023-11); the tax
    take is fitted to 2024 O&G revenue (11.13 trn RUB); the shut-in price, the residual share
    and the exponent are assumptions (params/base.toml).
    """
    floor = p["oil.shut_in_price"]
    market = p["oil.brent_price"] - urals_discount(p, bite)
    price = urals_price(market, floor)
    below = price - market  # how far the market price is under the floor: softplus(P_s - P_m), exactly
    volume = p["oil.export_volume_potential"] * embargo_reach(p, bite) * floor / (below + floor)
    revenue = p["oil.tax_take"] * volume * 1e6 * price * 1e-9 * fx_index(p)
    return revenue, volume, price


def urals_discount(p: Params, bite: Num) -> Num:
    """The Urals discount to Brent [US$/bbl]: ``d_0 + D_max tanh(k_d B / D_max)``.

    It grows with the sanctions' bite at ``k_d`` (``oil.discount_sensitivity``) per unit while the
    bite is small (the back-test's bites are 0.05-0.16), and saturates at
    ``d_0 + D_max`` (``oil.discount_max``): however complete the sanctions, buyers outside the
    coalition take the barrels they can still get at some discount, and what they cannot take
    is lost as volume (:func:`embargo_reach`), not sold at any price.

    Source: ``k_d`` fitted to the Urals price of 2022-2023 (params/calibrated.toml); ``d_0`` and
    ``D_max`` are assumptions (params/base.toml).
    """
    return p["oil.base_discount"] + saturate(p["oil.discount_sensitivity"] * bite, p["oil.discount_max"])


def urals_price(market: Num, floor: Num) -> Num:
    """The Urals price [US$/bbl]: the market price floored softly at the shut-in price, ``P_s + softplus(P_m - P_s)``.

    Within 0.25 ``$^2 / |P_m - P_s|`` of ``max(P_m, P_s)``; never below ``P_s``.
    """
    return floor + softplus(market - floor, OIL_PRICE_SMOOTHING)


def embargo_reach(p: Params, bite: Num) -> Num:
    """Share of potential exports that still find a buyer at sanctions bite ``B`` [0-1].

    ``1 - k_v B - (1 - k_v - r) B^m``: the linear term is what the data show for 2022-2024
    (buyers outside the coalition took the diverted barrels); the convex term closes those
    channels as enforcement nears complete, so that a *full* embargo (sanctions index 1 with
    no evasion, ``B = 1``: every buyer outside the coalition stops too) leaves only the
    residual share ``r`` (pipeline and smuggled barrels). ``m`` sets how late that happens.
    """
    k_v, r = p["oil.volume_sanctions_sensitivity"], p["oil.embargo_residual_share"]
    closing = np.maximum(1.0 - k_v - r, 0.0)
    b = np.minimum(np.maximum(bite, 0.0), 1.0)
    return 1.0 - k_v * b - closing * b ** p["oil.embargo_exponent"]


def fx_index(p: Params) -> Num:
    """The rouble's rate against the accounting rate [index]: ``x = rub_per_usd / 92``."""
    return p["macro.rub_per_usd"] / ACCOUNTING_RUB_PER_USD


def depreciation(p: Params) -> Num:
    """The rouble's rate of depreciation against the dollar [% per year], from the exchange-rate path.

    ``p`` holds the drivers' values at ``t`` (:func:`sanctions_model.core.schedules.at_time`).

    ``100 * 365 * d ln(rub_per_usd) / dt``; 0 while the rate holds still (a projection's default).
    """
    return 100.0 * DAYS_PER_YEAR * driver_rate(p, "macro.rub_per_usd") / p["macro.rub_per_usd"]


# --------------------------------------------------------------------------------------
# Federal budget and reserves
# --------------------------------------------------------------------------------------

def base_oil_revenue(p: Params, oil_rev: Num, price: Num) -> Num:
    """The budget rule's base oil-and-gas revenue [budget US$ bn per day].

    ``w * Rev * P_base / P + (1 - w) * Rev_fixed / 365``: from 2024 (``w = 1``) the revenue the
    same barrels would bring at the base Urals price ``P_base`` (the tax take is taken as
    proportional to the price); in 2023 (``w = 0``) a fixed sum, 8 trn RUB a year.

    Source: data: Budget rule (law 2023-11-02); Budget rule (2023).
    """
    w = p["fiscal.rule_uses_base_price"]
    return w * oil_rev * p["fiscal.rule_base_price"] / price + (1.0 - w) * p["fiscal.rule_base_revenue"] / DAYS_PER_YEAR


def ofz_absorption(p: Params, key_rate_rise: Num) -> Num:
    """Net OFZ borrowing the market absorbs [budget US$ bn per day]: ``o A_0 h / (h + softplus(rise))``.

    ``o`` (``fiscal.ofz_market_open``) is 1 while the market is open to the Finance Ministry; a
    scenario may close it (the history keeps it open: in 2022, while the Ministry did not borrow,
    the budget ran down the treasury's deposits, which war debt nets). ``rise`` is the key rate's
    rise [pp per month]; while the rate climbs, buyers wait for higher yields and auctions fail
    (at ``h`` pp a month the market takes half as much).

    Source: assumption informed by data: OFZ borrowing plan, 2023 and 2024; OFZ borrowing, 2024-H1.
    """
    half = p["fiscal.ofz_rate_rise_half"]
    return (p["fiscal.ofz_market_open"] * p["fiscal.ofz_absorption"] / DAYS_PER_YEAR
            * half / (half + softplus(key_rate_rise, 0.05)))


class Fiscal(NamedTuple):
    """The budget's flows (:func:`fiscal_accounts`) [budget US$ bn per day]."""

    non_oil: Num
    spending: Num
    balance: Num
    fiscal_gap: Num
    base_oil: Num
    rule: Num
    deposit: Num
    withdrawal: Num
    invested: Num
    borrowing: Num
    absorption: Num
    unabsorbed: Num


def fiscal_flows(p: Params, oil_rev: Num, price: Num, capacity: Num, reserves: Num, war_debt: Num,
                 key_rate: Num, key_rate_rise: Num, consolidation: Num) -> dict[str, Num]:
    """:func:`fiscal_accounts` as a dict, by name [budget US$ bn per day]."""
    return fiscal_accounts(p, oil_rev, price, capacity, reserves, war_debt, key_rate, key_rate_rise,
                           consolidation)._asdict()


def fiscal_accounts(p: Params, oil_rev: Num, price: Num, capacity: Num, reserves: Num, war_debt: Num,
                    key_rate: Num, key_rate_rise: Num, consolidation: Num) -> Fiscal:
    """The budget, the budget rule and how the rest is financed [budget US$ bn per day].

    ``gap = oil + non_oil * C - (defence + civilian) / 365 - r / 100 / 365 * debt`` is the balance before
    the fiscal reaction; the balance is ``gap + K / 365`` with ``K`` the consolidation (a stock).

    The rule (data: Budget rule rows): ``T = a * (oil - base)`` (:func:`base_oil_revenue`) goes
    to the fund when positive and is drawn from it when negative; ``a = 0`` suspends it (2022).
    Beyond the rule the fund pays for discretionary sales ``S`` (the December sales of
    2022-2024) and for what the market will not absorb, ``O = softplus(N - A)`` with ``N`` the
    borrowing the budget would need if the fund paid everything asked of it and ``A``
    :func:`ofz_absorption`; and liquid assets move into illiquid investments at ``I``.
    All withdrawals, and the investment, are paid in the share ``R |R| / (R^2 + g^2)``,
    ``g = hypot(R_gate, tau W / x)`` (``tau`` = :data:`RESERVES_DRAIN_DAYS`; ``W`` the withdrawals
    and investment asked for, ``W / x`` the same in actual dollars, the unit of ``R`` and
    ``R_gate``, :func:`fx_index`), so that the fund empties smoothly and never below zero.
    The rest is borrowed: ``borrowing = -balance + deposit - withdrawal``; the part beyond ``A``
    (``unabsorbed``) is placed with the banks anyway and drives the consolidation.
    Hence, exactly, ``x dR/dt - dD/dt = balance - invested + x Reval`` (money is conserved; the
    investment leaves the liquid fund for its illiquid part; ``Reval`` is the gold's revaluation,
    :func:`gold_revaluation`, which ``derivatives`` adds to the reserves).

    Parameters
    ----------
    oil_rev : array [US$ bn/day]
    price : array [US$/bbl], the Urals price
    capacity : array [index]
    reserves, war_debt : arrays [US$ bn]
    key_rate : array [% per year], paid on the debt issued since the start
    key_rate_rise : array [pp per month]
    consolidation : array [US$ bn per year]

    Source: 2024-2025 budget figures (data: Deficit, 2024; O&G revenue, 2024; Defence plan,
    2025); the rule, the sales and OFZ rows of data/ (params/base.toml, [fiscal]).
    """
    non_oil = p["fiscal.non_oil_revenue"] / DAYS_PER_YEAR * capacity
    interest = key_rate / 100.0 / DAYS_PER_YEAR * war_debt
    spending = (p["fiscal.defence_spending"] + p["fiscal.civilian_spending"]) / DAYS_PER_YEAR + interest
    gap = oil_rev + non_oil - spending
    balance = gap + consolidation / DAYS_PER_YEAR
    base = base_oil_revenue(p, oil_rev, price)
    rule = p["fiscal.rule_active"] * (oil_rev - base)
    deposit = softplus(rule, FISCAL_SMOOTHING)
    shortfall = softplus(-rule, FISCAL_SMOOTHING)  # deposit - shortfall == rule
    sales = p["fiscal.fund_sales"] / DAYS_PER_YEAR
    absorption = ofz_absorption(p, key_rate_rise)
    overflow = softplus(-balance + deposit - shortfall - sales - absorption, FISCAL_SMOOTHING)
    investment = p["fiscal.fund_investment"] / DAYS_PER_YEAR
    wanted = shortfall + sales + overflow
    # R^2 / (R^2 + R_gate^2) halves withdrawals at R = R_gate and pays them almost whole above
    # a few R_gate; the gate grows to tau * W / x (in actual dollars, as R) once that is larger,
    # so that no withdrawal drains the fund faster than at 0.65 / tau a day near empty
    # (otherwise the drain there, of order W / (x R_gate) per day, is as fast as the deficit is
    # large and makes the model stiff; docs/model.md). The sign of R is kept, so that a trial
    # state below zero refills.
    gate = np.hypot(p["fiscal.reserves_gate"], RESERVES_DRAIN_DAYS * (wanted + investment) / fx_index(p))
    paid = reserves * np.abs(reserves) / (reserves**2 + gate**2)
    withdrawal = wanted * paid
    borrowing = -balance + deposit - withdrawal
    return Fiscal(non_oil=non_oil, spending=spending, balance=balance,
                  fiscal_gap=softplus(-gap, FISCAL_SMOOTHING),
                  base_oil=base, rule=rule, deposit=deposit, withdrawal=withdrawal,
                  invested=investment * paid, borrowing=borrowing, absorption=absorption,
                  unabsorbed=softplus(borrowing - absorption, FISCAL_SMOOTHING))


def consolidation_indicated(p: Params, consolidation: Num, unabsorbed: Num) -> Num:
    """The consolidation the government aims at [US$ bn per year]: ``cap(K + 365 U, K_max)``.

    While borrowing runs beyond what the market absorbs (``U`` a day), taxes are raised and
    spending cut by that much more, up to ``K_max`` (:func:`soft_cap`); once the gap is
    financed the consolidation stays (taxes once raised are not cut back within the horizon).
    """
    return soft_cap(consolidation + DAYS_PER_YEAR * unabsorbed, p["fiscal.consolidation_max"])


def gold_revaluation(p: Params, gold: Num) -> Num:
    """The gold holdings' change in value [US$ bn per day]: ``G * d ln(gold price) / dt``.

    0 while the price holds still (a projection's default).
    """
    return gold * driver_rate(p, "macro.gold_price") / p["macro.gold_price"]


# --------------------------------------------------------------------------------------
# Inflation, the key rate and civilian capacity
# --------------------------------------------------------------------------------------

def gdp_share(flow: Num, gdp: Num) -> Num:
    """A spending flow as a share of GDP [% of GDP], bounded softly by 100%: ``q / (1 + (q / 100)^4)^(1/4)``
    with ``q = 100 * flow / gdp`` (both per day).

    Equal to ``q`` within 2e-6 (relative) up to ``q = 5%``, 3e-5 at 10%. Bounded because fixed
    spending over a GDP that shrinks with civilian capacity ``C`` would otherwise grow as
    ``1 / C``, and the capacity erosion it drives, ``e_d * share * C``, would stay finite as
    ``C`` reaches 0 and carry capacity (and GDP) below zero in finite time (docs/model.md).
    """
    return soft_cap(100.0 * flow / gdp, 100.0)


def inflation_indicated(p: Params, defence_share_excess: Num, borrowing_share: Num, bite: Num, real_rate: Num) -> Num:
    """Underlying inflation the economy is heading to [% per year].

    ``I* = I_target + cap * tanh(x / cap)`` with
    ``x = k_d * excess_defence + k_b * borrowing + k_s * B - k_r (rr - rr_n)``: linear for
    ordinary pressures, bounded by ``cap`` for extreme ones (so that ruinous deficits give
    very high, not infinite, inflation).

    Parameters
    ----------
    defence_share_excess : array [pp of GDP] above the pre-war defence share
    borrowing_share : array [% of GDP per year]
    bite : array [0-1]
    real_rate : array [% per year], key rate less inflation

    Source: assumption (article: war spending feeds inflation and high rates).
    """
    pressure = (p["macro.inflation_per_defence_share"] * defence_share_excess
                + p["macro.inflation_per_borrowing"] * borrowing_share
                + p["macro.inflation_per_bite"] * bite
                - p["macro.inflation_per_real_rate"] * (real_rate - p["macro.neutral_real_rate"]))
    cap = p["macro.inflation_pressure_max"]
    return p["macro.inflation_target"] + saturate(pressure, cap)


def passthrough_indicated(p: Params, depreciation: Num) -> Num:
    """Inflation the rouble's moves add to consumer prices [% per year], before prices follow.

    ``k_pt (max(dep, 0) - a max(-dep, 0))``: a fall of the rouble by a share ``f`` raises the price level by
    ``k_pt f`` (``macro.exchange_rate_passthrough``); a rise lowers it only by ``a k_pt f``
    (``macro.appreciation_passthrough_share``: prices are stickier downward).
    The stock ``passthrough`` follows this with the time constant ``macro.passthrough_days``
    (prices are re-set over days to weeks, not on the day the rouble moves), so that the price
    level rises by the same ``k_pt f`` in all, spread out rather than concentrated
    in the days of the move. Headline inflation is the underlying stock plus ``passthrough``;
    both are 0 while the rate holds still.

    Parameters
    ----------
    depreciation : array [% per year], the rouble's fall against the dollar

    Source: assumption in form; ``k_pt`` is fitted to inflation of 2022-2024 (params/calibrated.toml);
    ``a`` and the time constant are assumptions (params/base.toml).
    """
    # exact kinks: the depreciation only changes at the breakpoints of the rate's path
    down, up = np.maximum(depreciation, 0.0), np.maximum(-depreciation, 0.0)
    return p["macro.exchange_rate_passthrough"] * (down - p["macro.appreciation_passthrough_share"] * up)


def key_rate_indicated(p: Params, observed: Num, depreciation: Num) -> Num:
    """The central bank's rule for the policy stance [% per year], floored softly at zero.

    ``r* = I_target + rr_n + phi (I_obs - I_target) - D_max tanh(k_fx max(-dep, 0) / D_max)``:
    a Taylor-type answer to inflation as the bank reads it, ``I_obs`` (the stock
    ``inflation_observed``: headline inflation over recent months, as the Bank of Russia reads
    seasonally adjusted, annualised price growth), eased while the rouble rises (each cut of
    2022 cited the rouble's strength). The key rate is this stance, followed with inertia,
    plus the rouble's defence while it falls (:func:`rouble_defence_indicated`).

    Parameters
    ----------
    observed : array [% per year]
    depreciation : array [% per year], the rouble's fall against the dollar

    Source: assumption in form; ``phi`` and ``k_fx`` are fitted to the key-rate path of 2022-2024
    (data: Key rate, 2022-02-28 to 2024-10-25; params/calibrated.toml); ``rr_n`` is the Bank of
    Russia's own estimate, fixed (the record does not identify it: ``calibrate.NOT_IDENTIFIED``).
    """
    target = p["macro.inflation_target"]
    ease = saturate(p["macro.key_rate_fx_response"] * np.maximum(-depreciation, 0.0), p["macro.rouble_defence_max"])
    return softplus(target + p["macro.neutral_real_rate"] + p["macro.key_rate_response"] * (observed - target)
                    - ease, 0.5)


def rouble_defence_indicated(p: Params, depreciation: Num) -> Num:
    """The premium the central bank adds to the key rate while the rouble falls [pp].

    ``D* = D_max tanh(k_fx max(dep, 0) / D_max)``: in proportion to the rouble's fall for
    ordinary falls, bounded by ``D_max`` for a collapse. It is set within days
    (``macro.rouble_defence_days``: 9.5 to 20% four days into the war) and unwound over
    ``macro.rouble_defence_decay_days`` once the rouble steadies.

    Parameters
    ----------
    depreciation : array [% per year], the rouble's fall against the dollar

    Source: assumption (data: Key rate, 2022-02-28, raised as the rouble fell; Key rate,
    2023-08-15, an emergency rise with the rouble beyond 100 RUB/$); ``k_fx`` fitted.
    """
    return saturate(p["macro.key_rate_fx_response"] * np.maximum(depreciation, 0.0), p["macro.rouble_defence_max"])


def capacity_erosion(p: Params, defence_share_excess: Num, real_rate: Num, bite: Num) -> Num:
    """Rate at which civilian productive capacity is lost on a war footing [1/year].

    ``e = e_d * excess_defence + e_r * softplus(rr - rr_n, 0.5) + e_s * B`` (softplus: a smooth
    ``max(., 0)``, :func:`~sanctions_model.core.smooth.softplus`)

    Source: assumption (article: the long-term danger of a war-footing economy).
    """
    return (p["macro.capacity_erosion_per_defence_share"] * defence_share_excess
            + p["macro.capacity_erosion_per_real_rate"] * softplus(real_rate - p["macro.neutral_real_rate"], 0.5)
            + p["macro.capacity_erosion_per_bite"] * bite)


# --------------------------------------------------------------------------------------
# Strain
# --------------------------------------------------------------------------------------

def strain_indicated(p: Params, reserves: Num, deficit_share: Num, inflation: Num, capacity: Num) -> Num:
    """Indicated strain on the war economy, a weighted mean of four stresses in [0, 1].

    reserve stress ``exp(-R / R_s)``; deficit stress ``d / (d + d_h)``;
    inflation stress ``x / (x + i_h)`` with ``x = softplus(I - I_target, 0.25)``;
    capacity stress ``y / (y + c_h)`` with ``y = softplus(1 - C, 0.005)`` (softplus: a smooth
    ``max(., 0)``).

    Parameters
    ----------
    reserves : array [US$ bn]
    deficit_share : array [% of GDP per year]
        The deficit before the fiscal reaction (``fiscal_gap``): closing it by tax rises and
        spending cuts is a strain as much as borrowing for it.
    inflation : array [% per year]
    capacity : array [index]

    Returns
    -------
    array [index 0-1]

    Source: assumption; stresses are those the MODEL brief names (reserve depletion,
    deficit, inflation, lost capacity).
    """
    s_res = np.exp(-reserves / p["strain.reserves_scale"])
    s_def = deficit_share / (deficit_share + p["strain.deficit_half"])
    excess = softplus(inflation - p["macro.inflation_target"], 0.25)
    s_inf = excess / (excess + p["strain.inflation_half"])
    lost = softplus(1.0 - capacity, 0.005)
    s_cap = lost / (lost + p["strain.capacity_half"])
    w = (p["strain.weight_reserves"], p["strain.weight_deficit"], p["strain.weight_inflation"],
         p["strain.weight_capacity"])
    return (w[0] * s_res + w[1] * s_def + w[2] * s_inf + w[3] * s_cap) / (w[0] + w[1] + w[2] + w[3])


# --------------------------------------------------------------------------------------
# The battlefield
# --------------------------------------------------------------------------------------

def materiel_quality(materiel: Num, reference: Num) -> Num:
    """Ukraine's materiel quality [index, 1 at the reference stock, saturating at 2]: ``2m / (1 + m)``."""
    m = materiel / reference
    return 2.0 * m / (1.0 + m)


def materiel_inflow(p: Params, aid: Num) -> Num:
    """Materiel reaching Ukraine's forces [US$ bn per day]: its own arms production plus the aid it can absorb.

    ``M_in = own / 365 + soft_cap(aid, A_max / 365)``: aid up to about half the absorption
    limit ``A_max`` is used as it comes (within 1.5%); beyond, training, logistics and
    maintenance hold the usable flow below ``A_max`` however much is sent.
    """
    own = p["forces.ukraine_own_production"] / DAYS_PER_YEAR
    return own + soft_cap(aid, p["forces.aid_absorption_max"] / DAYS_PER_YEAR)


def materiel_reference(p: Params) -> Num:
    """The materiel stock at which Ukraine's materiel quality is 1 [US$ bn]: the reference aid flow plus its
    own production, times the time materiel stays in use."""
    return ((p["forces.aid_reference"] + p["forces.ukraine_own_production"]) / DAYS_PER_YEAR
            * p["forces.materiel_life_days"])


def positive_force(x: Num) -> Num:
    """A force or combat power floored softly above zero [its unit]: ``softplus(x, FORCE_FLOOR)``.

    Within ``FORCE_FLOOR^2 / x`` of ``x`` (1e-12 of an army of 1,000 thousand); ``FORCE_FLOOR``
    at zero; positive for any ``x``.
    """
    return softplus(x, FORCE_FLOOR)


def force_gate(forces: Num, initial: Num) -> Num:
    """Soft gate that takes losses to zero as a force nears zero [index, 1 at the start].

    ``(F / (F + 10)) / (F_0 / (F_0 + 10))``.

    Below zero (a state a solver may try) it turns negative, so that losses restore the
    force towards zero rather than drain it further; the denominator's ``F`` is floored
    (:func:`positive_force`), so it is defined everywhere.
    """
    return (forces / (positive_force(forces) + 10.0)) / (initial / (initial + 10.0))


def advance_rate(p: Params, relative_ratio: Num) -> Num:
    """Russian rate of advance [share of Ukraine per year]; negative means Ukraine regains ground.

    ``a = a_max * tanh(a_0 (1 + eps * ln(rho / rho_0)) / a_max)``

    Parameters
    ----------
    relative_ratio : array [ratio], the combat-power ratio over its starting value

    Source: a_0 from data: Territory gain, 2024 (0.69% of Ukraine); elasticity and ceiling
    are assumptions (Lanchester-style).
    """
    raw = p["forces.advance_initial"] * (1.0 + p["forces.advance_elasticity"] * np.log(relative_ratio))
    return saturate(raw, p["forces.advance_max"])


def kursk_pressure(relative_ratio: Num) -> Num:
    """Pressure on the Kursk foothold [index, ~1 at the starting balance]: ``m tanh(rho / m)``, ``m`` =
    :data:`KURSK_PRESSURE_MAX`.

    Proportional to the relative combat-power ratio ``rho`` while it is ordinary (within 0.1%
    for ``rho <= 1.5``), but bounded: as Ukraine's forces collapse ``rho`` grows without
    limit, and a foothold lost at a rate proportional to it is a mode as fast as ``rho`` is
    large, which makes the model stiff (docs/model.md).
    """
    return saturate(relative_ratio, KURSK_PRESSURE_MAX)


def territory_change(p: Params, advance: Num, territory: Num) -> Num:
    """Change of the share of Ukraine Russia holds [share per day], bounded in [0, 1].

    Advances slow as the remaining land shrinks, retreats as the held land shrinks.
    """
    t0 = p["forces.territory_initial"]
    room = where(advance > 0, (1.0 - territory) / (1.0 - t0), territory / t0)
    return advance / DAYS_PER_YEAR * room


# --------------------------------------------------------------------------------------
# The whole system
# --------------------------------------------------------------------------------------

class Economy(NamedTuple):
    """The economy's auxiliaries and flows at one time (:func:`_economy`), each in the unit
    :data:`sanctions_model.core.system.REPORTED_FLOWS` gives where it is reported."""

    sanctions_target: Num
    secondary_tariffs: Num
    ally_pressure: Num
    bite: Num
    oil: Num
    oil_lost: Num
    volume: Num
    price: Num
    evasion_indicated: Num
    rub_per_usd: Num
    fx_index: Num
    depreciation: Num
    headline_inflation: Num
    passthrough_indicated: Num
    inflation_indicated: Num
    key_rate_indicated: Num
    key_rate_move: Num
    defence_move: Num
    erosion: Num
    strain_indicated: Num
    consolidation_indicated: Num
    revaluation: Num
    reserves_rub: Num
    fiscal: Fiscal


def economy_values(economy: Economy) -> dict[str, Num]:
    """The economy's auxiliaries and its budget's flows (:class:`Fiscal`) as one dict, by name."""
    values = economy._asdict()
    del values["fiscal"]
    return {**values, **economy.fiscal._asdict()}


def _economy(t: float | Array, y: Array, p: Params) -> Economy:
    """Levers, sanctions, oil, budget, inflation and strain: everything that needs no reference."""
    s_target = lever_value(t, p, "sanctions")
    sec_tariffs = lever_value(t, p, "secondary_tariffs")
    ally = lever_value(t, p, "ally_pressure")
    bite = sanctions_bite(y[IDX["sanctions_effective"]], y[IDX["evasion"]])
    oil, volume, price = oil_revenue(p, bite)
    oil_free, _, _ = oil_revenue(p, 0.0 * bite)
    capacity = y[IDX["civilian_capacity"]]
    reserves = y[IDX["reserves"]]
    key_rate, inflation = y[IDX["key_rate"]], y[IDX["inflation"]]
    headline = inflation + y[IDX["passthrough"]]
    dep = depreciation(p)
    # the key rate is the stance (key_rate - defence), following its rule with inertia, plus the rouble's defence
    defence = y[IDX["rouble_defence"]]
    defence_target = rouble_defence_indicated(p, dep)
    defence_move = (defence_target - defence) / where(defence_target > defence, p["macro.rouble_defence_days"],
                                                         p["macro.rouble_defence_decay_days"])
    key_rate_target = key_rate_indicated(p, y[IDX["inflation_observed"]], dep)
    key_rate_move = (key_rate_target - (key_rate - defence)) / p["macro.key_rate_adjustment_days"] + defence_move
    rise = key_rate_move * DAYS_PER_MONTH  # [pp per month]
    fisc = fiscal_accounts(p, oil, price, capacity, reserves, y[IDX["war_debt"]], key_rate, rise,
                           y[IDX["fiscal_consolidation"]])
    gdp_per_day = p["fiscal.gdp"] * capacity / DAYS_PER_YEAR
    defence_share = gdp_share(p["fiscal.defence_spending"] / DAYS_PER_YEAR, gdp_per_day)
    defence_excess = softplus(defence_share - p["fiscal.defence_share_prewar"], 0.1)
    borrowing_share = 100.0 * fisc.borrowing / gdp_per_day
    gap_share = 100.0 * fisc.fiscal_gap / gdp_per_day
    real_rate = key_rate - inflation
    x = fx_index(p)
    return Economy(
        sanctions_target=s_target, secondary_tariffs=sec_tariffs, ally_pressure=ally,
        bite=bite, oil=oil, oil_lost=oil_free - oil, volume=volume, price=price,
        evasion_indicated=evasion_indicated(p, ally, sec_tariffs),
        rub_per_usd=p["macro.rub_per_usd"], fx_index=x, depreciation=dep,
        headline_inflation=headline, passthrough_indicated=passthrough_indicated(p, dep),
        inflation_indicated=inflation_indicated(p, defence_excess, borrowing_share, bite, real_rate),
        key_rate_indicated=key_rate_target, key_rate_move=key_rate_move, defence_move=defence_move,
        erosion=capacity_erosion(p, defence_excess, real_rate, bite),
        strain_indicated=strain_indicated(p, reserves, gap_share, inflation, capacity),
        consolidation_indicated=consolidation_indicated(p, y[IDX["fiscal_consolidation"]], fisc.unabsorbed),
        revaluation=gold_revaluation(p, y[IDX["reserves_gold"]]),
        reserves_rub=reserves * p["macro.rub_per_usd"] / 1000.0,
        fiscal=fisc,
    )


def territory_imposed(t: float | Array, p: Params) -> Num:
    """1 while the territory follows a recorded path (before ``forces.territory_imposed_days``), else 0."""
    return where(t < p["forces.territory_imposed_days"], 1.0, 0.0)


class Battlefield(NamedTuple):
    """Forces, supplies, territory and momentum at one time (:func:`_battlefield`)."""

    q_russia: Num
    quality: Num
    power_russia: Num
    power_ukraine: Num
    force_ratio: Num
    relative_ratio: Num
    imposed: Num
    advance: Num
    recruit_russia: Num
    loss_russia: Num
    loss_ukraine: Num
    aid: Num
    materiel_ref: Num
    materiel_inflow: Num
    regeneration: Num
    attrition_russia: Num
    attrition_ukraine: Num
    power_shift: Num


def _battlefield(t: float | Array, y: Array, p: Params, ref: Params, ally_pressure: Num, strain: Num) -> Battlefield:
    """Forces, supplies, territory and momentum.

    Combat power is measured against the reference balance (the stocks
    ``reference_power_*``): the balance on the day the model took over the front, which is
    the start unless a recorded territory path is imposed first.
    """
    q_r = 1.0 - p["forces.ally_supply_share"] * ally_pressure
    materiel_ref = materiel_reference(p)
    q_u = materiel_quality(y[IDX["ukraine_materiel"]], materiel_ref)
    # forces and combat power floored softly above zero (positive_force), so that every ratio
    # and logarithm below is defined when an army collapses, and at the trial states a solver
    # tries below zero on the way
    f_r, f_u = y[IDX["russia_forces"]], y[IDX["ukraine_forces"]]
    power_r, power_u = positive_force(f_r * q_r), positive_force(f_u * q_u)
    ref_r, ref_u = y[IDX["reference_power_russia"]], y[IDX["reference_power_ukraine"]]
    relative = (power_r / power_u) / (ref_r / ref_u)
    imposed = territory_imposed(t, p)
    followed = (p["forces.territory_recorded"] - y[IDX["territory"]]) / TRACKING_DAYS * DAYS_PER_YEAR
    advance = imposed * followed + (1.0 - imposed) * advance_rate(p, relative)
    perm = p["forces.permanent_loss_share"]
    recruit_r = p["forces.russia_recruitment"] * softplus(
        1.0 - p["forces.recruitment_strain_sensitivity"] * (strain - ref["strain"]), 0.01)
    loss_r = p["forces.russia_casualties"] * perm * (power_u / ref_u) * force_gate(f_r, p["forces.russia_initial"])
    loss_u = p["forces.ukraine_casualties"] * perm * (power_r / ref_r) * force_gate(f_u, p["forces.ukraine_initial"])
    aid = (lever_value(t, p, "us_aid") + lever_value(t, p, "other_aid")) / DAYS_PER_YEAR + lever_rate(
        t, p, "frozen_assets")
    inflow = materiel_inflow(p, aid)
    # the growth rate of materiel quality q = 2m / (1 + m), m = M / M_ref: d ln q / dt = (dM/dt / M_ref) / (m (1 + m))
    m = positive_force(y[IDX["ukraine_materiel"]]) / materiel_ref
    quality_change = (inflow - y[IDX["ukraine_materiel"]] / p["forces.materiel_life_days"]) / (m * (1.0 + m))
    return Battlefield(
        q_russia=q_r, quality=q_u, power_russia=power_r, power_ukraine=power_u,
        force_ratio=power_r / power_u, relative_ratio=relative, imposed=imposed, advance=advance,
        recruit_russia=recruit_r, loss_russia=loss_r, loss_ukraine=loss_u,
        aid=aid, materiel_ref=materiel_ref, materiel_inflow=inflow,
        regeneration=recruit_r * q_r / positive_force(f_u) * DAYS_PER_YEAR,
        attrition_russia=bargaining.attrition(loss_r, positive_force(f_r)),
        attrition_ukraine=bargaining.attrition(loss_u, positive_force(f_u)),
        power_shift=bargaining.power_shift(
            DAYS_PER_YEAR * (recruit_r - loss_r) / positive_force(f_r),
            DAYS_PER_YEAR * (p["forces.ukraine_recruitment"] - loss_u) / positive_force(f_u),
            DAYS_PER_YEAR * quality_change / materiel_ref),
    )


class Decision(NamedTuple):
    """The battlefield and the decision core at one time (:func:`_decision`)."""

    war: Battlefield
    security: Num
    security_effective: Num
    relief: Num
    durability: Num
    russia_cost_indicated: Num
    ukraine_cost_indicated: Num
    russia_margin: Num
    ukraine_margin: Num
    bargaining_range: Num
    p_talks: Num
    p_ceasefire: Num
    talks_hazard: Num
    ceasefire_hazard: Num


def decision(t: float | Array, y: Array, p: Params, ref: Params) -> dict[str, Num]:
    """The battlefield and the decision core at time ``t`` for state ``y``: forces, each side's margin,
    the bargaining range and the hazards (``core/bargaining.py``), as one dict by name.

    It needs no part of the economy but the perceived strain (a stock), so the margins can be read
    along a run's output at a fraction of the cost of :func:`auxiliaries`.
    """
    core = _decision(t, y, p, ref)
    values = core._asdict()
    del values["war"]
    return {**core.war._asdict(), **values}


def _decision(t: float | Array, y: Array, p: Params, ref: Params) -> Decision:
    """:func:`decision`'s values."""
    war = _battlefield(t, y, p, ref, lever_value(t, p, "ally_pressure"), y[IDX["strain"]])
    security = lever_value(t, p, "security_arrangement")
    backstop = lever_value(t, p, "us_backstop")
    eu = p["ukraine.europe_only_factor"]
    security_effective = security * (eu + (1.0 - eu) * backstop)
    relief = lever_value(t, p, "relief_offer")
    hold = bargaining.durability(p, security_effective, war.regeneration)
    russia = bargaining.russia_margin(p, y[IDX["russia_cost"]], y[IDX["momentum"]], y[IDX["territory"]],
                                      y[IDX["kursk"]], relief, security, war.power_shift)
    ukraine = bargaining.ukraine_margin(p, y[IDX["ukraine_cost"]], y[IDX["momentum"]], y[IDX["territory"]],
                                        security_effective, hold, war.power_shift)
    bargaining_range = russia + ukraine
    return Decision(war=war, security=security, security_effective=security_effective,
                    relief=relief, durability=hold,
                    russia_cost_indicated=bargaining.russia_cost_indicated(p, y[IDX["strain"]], war.attrition_russia),
                    ukraine_cost_indicated=bargaining.ukraine_cost_indicated(p, war.attrition_ukraine, war.quality),
                    russia_margin=russia, ukraine_margin=ukraine, bargaining_range=bargaining_range,
                    p_talks=-np.expm1(-y[IDX["talks_hazard_total"]]),
                    p_ceasefire=-np.expm1(-y[IDX["ceasefire_hazard_total"]]),
                    talks_hazard=bargaining.hazard(p, "talks", bargaining_range),
                    ceasefire_hazard=bargaining.hazard(p, "ceasefire", bargaining_range))


def auxiliaries(t: float | Array, y: Array, p: Params, ref: Params) -> dict[str, Num]:
    """Every auxiliary and flow of the model at time ``t`` for state ``y`` (shape ``(N_STATES, n)``).

    ``p`` holds the drivers' values at ``t`` (:func:`sanctions_model.core.schedules.at_time`).
    """
    return {**economy_values(_economy(t, y, p)), **decision(t, y, p, ref)}


def auxiliaries_of(keys: Iterable[str], t: float | Array, y: Array, p: Params, ref: Params) -> dict[str, Num]:
    """At least the auxiliaries ``keys`` (as :func:`auxiliaries` names them): the economy's alone where
    every key is among them (about half the cost), else every auxiliary."""
    econ = economy_values(_economy(t, y, p))
    if all(key in econ for key in keys):
        return econ
    return {**econ, **decision(t, y, p, ref)}


def derivatives(t: float, y: Array, p: Params, ref: Params) -> Array:
    """Right-hand side ``dy/dt`` [each stock's unit per day], shape ``(N_STATES, n)``."""
    d = np.empty_like(y)
    derivatives_into(d, t, y, p, ref)
    return d


def derivatives_into(d: Array, t: float, y: Array, p: Params, ref: Params) -> None:
    """:func:`derivatives` written into ``d`` (the shape of ``y``): the compiled stepper's stages fill
    their rows of its stage table so, without an array made for each of a run's thousand evaluations."""
    p = at_time(t, p)
    econ = _economy(t, y, p)
    fisc = econ.fiscal
    core = _decision(t, y, p, ref)
    war = core.war
    d[IDX["sanctions_effective"]] = (econ.sanctions_target - y[IDX["sanctions_effective"]]) / p[
        "evasion.implementation_delay_days"]
    d[IDX["evasion"]] = (econ.evasion_indicated - y[IDX["evasion"]]) / p["evasion.adaptation_days"]
    # the fund's operations, in budget dollars, bought and sold at the day's rate, in proportion to its holdings
    operations = (fisc.deposit - fisc.withdrawal - fisc.invested) / econ.fx_index
    gold = y[IDX["reserves_gold"]]
    gold_share = np.minimum(np.maximum(gold / np.maximum(y[IDX["reserves"]], 1e-12), 0.0), 1.0)
    d[IDX["reserves"]] = operations + econ.revaluation
    d[IDX["reserves_gold"]] = gold_share * operations + econ.revaluation
    d[IDX["war_debt"]] = fisc.borrowing
    d[IDX["fiscal_consolidation"]] = ((econ.consolidation_indicated - y[IDX["fiscal_consolidation"]])
                                      / p["fiscal.consolidation_days"])
    d[IDX["inflation"]] = (econ.inflation_indicated - y[IDX["inflation"]]) / p["macro.inflation_adjustment_days"]
    d[IDX["passthrough"]] = (econ.passthrough_indicated - y[IDX["passthrough"]]) / p["macro.passthrough_days"]
    d[IDX["inflation_observed"]] = ((econ.headline_inflation - y[IDX["inflation_observed"]])
                                    / p["macro.inflation_observed_days"])
    d[IDX["key_rate"]] = econ.key_rate_move
    d[IDX["rouble_defence"]] = econ.defence_move
    cap = y[IDX["civilian_capacity"]]
    d[IDX["civilian_capacity"]] = (p["macro.capacity_recovery_per_year"] * (1.0 - cap)
                                   - econ.erosion * cap) / DAYS_PER_YEAR
    d[IDX["strain"]] = (econ.strain_indicated - y[IDX["strain"]]) / p["strain.perception_days"]
    d[IDX["russia_forces"]] = war.recruit_russia - war.loss_russia
    d[IDX["ukraine_forces"]] = p["forces.ukraine_recruitment"] - war.loss_ukraine
    d[IDX["ukraine_materiel"]] = war.materiel_inflow - y[IDX["ukraine_materiel"]] / p["forces.materiel_life_days"]
    imposed = war.imposed
    d[IDX["territory"]] = (imposed * war.advance / DAYS_PER_YEAR
                           + (1.0 - imposed) * territory_change(p, war.advance, y[IDX["territory"]]))
    d[IDX["kursk"]] = -p["forces.kursk_loss_per_year"] / DAYS_PER_YEAR * kursk_pressure(war.relative_ratio) * y[
        IDX["kursk"]]
    d[IDX["momentum"]] = (war.advance - y[IDX["momentum"]]) / p["forces.momentum_days"]
    d[IDX["russia_cost"]] = (core.russia_cost_indicated - y[IDX["russia_cost"]]) / p["bargaining.perception_days"]
    d[IDX["ukraine_cost"]] = (core.ukraine_cost_indicated - y[IDX["ukraine_cost"]]) / p["bargaining.perception_days"]
    d[IDX["talks_hazard_total"]] = core.talks_hazard
    d[IDX["ceasefire_hazard_total"]] = core.ceasefire_hazard
    # ceasefires agreed today that hold a year: the density of agreement times the chance it holds
    d[IDX["ceasefire_held"]] = core.ceasefire_hazard * np.exp(-y[IDX["ceasefire_hazard_total"]]) * core.durability
    d[IDX["oil_revenue_lost"]] = econ.oil_lost
    d[IDX["ukraine_funding"]] = war.aid
    # while the front is imposed, its reference balance follows the forces; it freezes when the model takes over
    d[IDX["reference_power_russia"]] = imposed * (war.power_russia - y[IDX["reference_power_russia"]]) / TRACKING_DAYS
    d[IDX["reference_power_ukraine"]] = (imposed * (war.power_ukraine - y[IDX["reference_power_ukraine"]])
                                         / TRACKING_DAYS)


def initial_state(p: Params) -> tuple[Array, dict[str, Array]]:
    """Starting stocks (shape ``(N_STATES, n)``) and the reference values read at the start.

    Perceived strain, momentum and each side's perceived cost of fighting on start at their
    indicated values (the system starts in perception equilibrium); the hazards' totals start
    at 0, so that no probability is positive on day 0. The one reference value, the strain at
    the start, anchors Russia's recruitment.
    """
    p = at_time(0.0, p)
    n = np.shape(p["sanctions.initial"])
    y = np.zeros((N_STATES,) + n)
    y[IDX["sanctions_effective"]] = p["sanctions.initial"]
    y[IDX["evasion"]] = p["evasion.initial"]
    y[IDX["reserves"]] = p["fiscal.reserves_initial"]
    y[IDX["reserves_gold"]] = p["fiscal.reserves_gold_share"] * p["fiscal.reserves_initial"]
    y[IDX["inflation"]] = p["macro.inflation_initial"]
    y[IDX["inflation_observed"]] = p["macro.inflation_observed_initial"]
    y[IDX["key_rate"]] = p["macro.key_rate_initial"]
    y[IDX["civilian_capacity"]] = 1.0
    y[IDX["russia_forces"]] = p["forces.russia_initial"]
    y[IDX["ukraine_forces"]] = p["forces.ukraine_initial"]
    y[IDX["ukraine_materiel"]] = materiel_inflow(p, (p["us_aid.initial"] + p["other_aid.initial"]) / DAYS_PER_YEAR) * p[
        "forces.materiel_life_days"]
    y[IDX["territory"]] = p["forces.territory_initial"]
    y[IDX["kursk"]] = p["forces.kursk_initial"]

    econ = _economy(0.0, y, p)
    y[IDX["strain"]] = econ.strain_indicated
    y[IDX["reference_power_russia"]] = 1.0
    y[IDX["reference_power_ukraine"]] = 1.0
    ref = {"strain": y[IDX["strain"]].copy()}
    war = _battlefield(0.0, y, p, ref, econ.ally_pressure, y[IDX["strain"]])
    y[IDX["reference_power_russia"]] = war.power_russia
    y[IDX["reference_power_ukraine"]] = war.power_ukraine
    y[IDX["momentum"]] = _battlefield(0.0, y, p, ref, econ.ally_pressure, y[IDX["strain"]]).advance
    a = auxiliaries(0.0, y, p, ref)
    y[IDX["russia_cost"]] = a["russia_cost_indicated"]
    y[IDX["ukraine_cost"]] = a["ukraine_cost_indicated"]
    return y, ref


#: The reference values a run reads at its start (``initial_state``'s second result).
REFERENCES = ("strain",)

#: Stocks that count from a run's start (the hazards' totals and what is summed since): a run
#: continued from another's state starts them at 0, so that its chances and totals are its own.
COUNTED_FROM_START = ("talks_hazard_total", "ceasefire_hazard_total", "ceasefire_held", "oil_revenue_lost",
                      "ukraine_funding")


def continued_state(p: Params, state: Array, reference: Mapping[str, Array] | None = None
                    ) -> tuple[Array, dict[str, Array]]:
    """The starting stocks and reference values of runs continued from ``state`` (shape ``(N_STATES, n)``).

    Every stock carries over (perceived strain and costs, the balance of forces the front is
    measured against, the Fund, inflation, ...) except those of :data:`COUNTED_FROM_START`,
    which restart at 0. The reference values (:data:`REFERENCES`: the strain Russia's recruitment
    is anchored to) are those of the run continued when given, so that nothing jumps; without
    them, the strain perceived at the start, as in :func:`initial_state`.
    """
    n = np.shape(p["sanctions.initial"])
    y = np.array(state, dtype=float)  # a copy
    if y.shape != (N_STATES, *n):
        raise ValueError(f"a starting state of shape {y.shape} for a batch of shape {n}; "
                         f"expected {(N_STATES, *n)}")
    for name in COUNTED_FROM_START:
        y[IDX[name]] = 0.0
    if reference is None:
        return y, {"strain": y[IDX["strain"]].copy()}
    return y, {name: np.broadcast_to(np.asarray(reference[name], dtype=float), n).copy() for name in REFERENCES}
