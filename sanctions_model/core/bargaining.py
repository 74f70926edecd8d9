"""The decision core: each side's value of a ceasefire against its value of fighting on, the
bargaining range between them, and the hazards of direct talks and of a ceasefire agreed.

A small model from the bargaining theory of war (Fearon 1995; Powell 2006; Slantchev 2003;
Filson and Werner 2002), written out in ``docs/model.md`` ("The decision core"). Values are
in one unit, the **stake**: a share of Ukraine's area (0.01 is about 6,000 km2), in which
each side's costs, aims and the terms on the table are priced (assumptions with ranges).

- Each side compares a ceasefire on the line of contact, with the terms on the table (relief,
  security arrangements, NATO ruled out), against fighting on over its planning horizon: the
  ground it expects to gain or lose (the perceived battlefield trend, with each side's
  optimism) less the costs it perceives (economic strain, attrition against its force, a
  shortage of materiel), and its stated aims (territorial claims, political demands) that a
  ceasefire on the line would leave unmet. The difference is its **margin**: positive when it
  prefers the ceasefire.
- The **bargaining range** is the sum of the two margins: positive when some adjustment of
  the terms would leave both better off than fighting on. The battlefield trend cancels in
  it (both sides see it), so the range opens with the costs of fighting, and closes with
  optimism, aims and the commitment problem: a side that expects power to shift its way
  waits, and Ukraine discounts a ceasefire by the chance it collapses within a year.
- A ceasefire is agreed at a **hazard** that rises smoothly with the range, from a floor;
  direct talks at a hazard with a lower bar. Probabilities are integrated from the hazards
  (``core/outcomes.py``): zero at day 0, monotone in time, and smooth in every parameter.

All functions are pure and work on arrays over a batch, like ``core/model.py``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .smooth import expit, logit, softplus
from .system import DAYS_PER_YEAR  # hazards and costs are given per year

#: Type of a batch quantity: an array (n,) over parameter sets, or a scalar.
Num = np.ndarray | float
Params = Mapping[str, np.ndarray]

#: Smoothing scale of the unmet territorial claim [share of Ukraine]: within ``s^2 / |x|`` of
#: ``max(x, 0)``, ``x = claim - held`` (2e-4 two points from the kink, 2e-5 twenty points away).
CLAIM_SMOOTHING = 0.002
#: Smoothing scale of Ukraine's materiel shortfall [materiel quality index].
SHORTFALL_SMOOTHING = 0.05
#: The largest power shift [log of the combat-power ratio per year] that the commitment
#: discount counts: a shift beyond it (an army collapsing, a mobilisation's first weeks) counts
#: as this. Without the bound, a force near zero that still recruits would read as a power
#: shift without limit, and the discount would swamp the costs of fighting on.
SHIFT_CAP = 1.0


def attrition(losses: Num, forces: Num) -> Num:
    """Share of a force lost for good in a year [share per year]: ``365 losses / F``.

    ``losses`` [thousand persons per day], ``forces`` [thousand persons, floored above zero by
    the caller]. It rises steeply as a force collapses (losses fall more slowly than the force).
    """
    return DAYS_PER_YEAR * losses / forces


def russia_cost_indicated(p: Params, strain: Num, attrition_russia: Num) -> Num:
    """What a year of fighting on costs Russia, as it stands now [stake per year].

    ``C*_R = c_s X + c_a a_R``: the strain on its war economy ``X`` [index 0-1] and the share
    of its force lost in a year ``a_R``, each priced in stake (assumptions).
    """
    return p["russia.strain_cost"] * strain + p["russia.attrition_cost"] * attrition_russia


def ukraine_cost_indicated(p: Params, attrition_ukraine: Num, quality: Num) -> Num:
    """What a year of fighting on costs Ukraine, as it stands now [stake per year].

    ``C*_U = c_a a_U + c_m softplus(1 - q)``: the share of its force lost in a year and the
    shortfall of its materiel quality ``q`` below the reference aid flow's (assumptions).
    """
    return (p["ukraine.attrition_cost"] * attrition_ukraine
            + p["ukraine.shortage_cost"] * softplus(1.0 - quality, SHORTFALL_SMOOTHING))


def power_shift(growth_russia: Num, growth_ukraine: Num, quality_growth: Num) -> Num:
    """The shift of the balance of combat power toward Russia [log ratio per year], bounded.

    ``phi = SHIFT_CAP tanh((g_R - g_U - g_q) / SHIFT_CAP)``, with ``g_R``, ``g_U`` the forces'
    growth rates and ``g_q`` that of Ukraine's materiel quality [per year]: the rate at which
    the force ratio of ``core/model.py`` moves, as both sides can read it from recruitment,
    losses and aid.
    """
    raw = growth_russia - growth_ukraine - quality_growth
    return SHIFT_CAP * np.tanh(raw / SHIFT_CAP)


def durability(p: Params, security_effective: Num, regeneration: Num) -> Num:
    """Probability that a ceasefire agreed now holds a year [0-1].

    ``D = expit(logit(D_0) + d_s sec + d_n (1 - NATO_out) - d_r (g - g_ref))``, ``g`` Russia's
    force regeneration (its recruits a year, weighted by supply, as a share of Ukraine's force)
    against a fixed reference level ``g_ref``: a rested, growing army is a threat to the force
    that would face it. ``D_0`` is a ceasefire's one-year survival with no mechanisms and NATO
    ruled out (Fortna's base rate); ``sec`` the effective security arrangement.
    """
    z = (logit(p["ceasefire.hold_base"])
         + p["ceasefire.hold_security"] * security_effective
         + p["ceasefire.hold_nato"] * (1.0 - p["demands.nato_ruled_out"])
         - p["ceasefire.hold_regeneration"] * (regeneration - p["ceasefire.regeneration_reference"]))
    return expit(z)


def russia_margin(p: Params, cost: Num, momentum: Num, territory: Num, kursk: Num, relief: Num, security: Num,
                  shift: Num) -> Num:
    """Russia's value of a ceasefire on the line with the terms on the table, less its value of
    fighting on [stake]; positive when it prefers the ceasefire.

    ``M_R = h C_R - h (m + o_R) + v_r R / (R + R_h) - v_w S - A_R - k_s h softplus(phi)``

    with ``h`` the planning horizon [year], ``C_R`` its perceived cost [stake per year], ``m``
    the perceived advance [share of Ukraine per year] and ``o_R`` its optimism, ``R`` the
    relief on offer [US$ bn per year], ``S`` the Western-backed force in a demilitarised zone
    [index 0-1], ``phi`` the power shift toward Russia, and its aims left unmet by a ceasefire
    on the line

    ``A_R = a_t softplus(D_R - T) + a_p P (1 - n NATO_out) + a_k K / 1000``

    (``D_R`` its territorial demand and ``T`` the share it holds, ``P`` its political demands,
    ``n`` the share of them that ruling NATO out meets, ``K`` the km2 of Kursk Ukraine holds).
    """
    h = p["bargaining.horizon_days"] / DAYS_PER_YEAR
    aims = (p["russia.claim_weight"] * softplus(p["demands.russia_territory"] - territory, CLAIM_SMOOTHING)
            + p["russia.political_weight"] * p["demands.russia_political"]
            * (1.0 - p["demands.nato_share_of_political"] * p["demands.nato_ruled_out"])
            + p["russia.kursk_weight"] * kursk / 1000.0)
    terms = (p["russia.relief_value"] * relief / (relief + p["russia.relief_half"])
             - p["russia.western_force_cost"] * security)
    waiting = p["bargaining.shift_weight"] * h * softplus(shift, 0.05)
    return h * cost - h * (momentum + p["russia.optimism"]) + terms - aims - waiting


def ukraine_margin(p: Params, cost: Num, momentum: Num, territory: Num, security_effective: Num, hold: Num,
                   shift: Num) -> Num:
    """Ukraine's value of a ceasefire on the line with the terms on the table, less its value of
    fighting on [stake]; positive when it prefers the ceasefire.

    ``M_U = h C_U + h (m - o_U) + v_s sec - a_t (1 - c) T - k_c (1 - D) - k_s h softplus(-phi)``

    with ``C_U`` its perceived cost [stake per year], ``o_U`` its optimism (it expects Russia to
    advance less than the trend), ``sec`` the effective security arrangement, ``c`` the share of
    the land Russia holds that it would leave under Russian control, ``D`` the probability
    a ceasefire holds a year (:func:`durability`): a pause that may let Russia rest and strike
    again is worth less (the commitment problem).
    """
    h = p["bargaining.horizon_days"] / DAYS_PER_YEAR
    aims = p["ukraine.claim_weight"] * (1.0 - p["demands.ukraine_concession"]) * territory
    terms = p["ukraine.security_value"] * security_effective
    commitment = p["ukraine.commitment_cost"] * (1.0 - hold)
    waiting = p["bargaining.shift_weight"] * h * softplus(-shift, 0.05)
    return h * cost + h * (momentum - p["ukraine.optimism"]) + terms - aims - commitment - waiting


def hazard(p: Params, event: str, bargaining_range: Num) -> Num:
    """The hazard of ``event`` ("ceasefire" or "talks") [per day].

    ``lambda = (lambda_0 + lambda_1 ln(1 + exp((B + b) / sigma)) / ln 2) / 365``

    ``B`` the bargaining range [stake], ``b`` the event's bar (0 for a ceasefire; talks start
    while the range is still ``b`` short of opening), ``sigma`` the range's uncertainty (each
    side's imprecise knowledge of the other's resolve). It is the floor ``lambda_0`` [per
    year] when the range is far closed, ``lambda_0 + lambda_1`` when it just opens, and grows in
    proportion to the range beyond.
    """
    lead: Num
    if event == "talks":  # (each key written out, for the compiled model: core/jit.py)
        floor, rise, lead = p["hazard.talks_floor"], p["hazard.talks_open"], p["hazard.talks_margin"]
    else:
        floor, rise, lead = p["hazard.ceasefire_floor"], p["hazard.ceasefire_open"], 0.0
    x = (bargaining_range + lead) / p["hazard.range_scale"]
    opening = np.logaddexp(0.0, x) / np.log(2.0)
    return (floor + rise * opening) / DAYS_PER_YEAR
