"""Sampling designs over the uncertainties (assumptions a user varies, not policy levers).

An uncertainty is every parameter outside a lever group whose range is not a single
point. Designs return a dict of parameter arrays ready for :func:`simulate_batch`.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import qmc

from .params import ParameterSet


def uncertainties(params: ParameterSet) -> list[str]:
    """Names of the parameters a sweep varies by default: non-lever, with low < high."""
    return [n for n, p in params.parameters.items() if p.low < p.high and p.group not in params.levers]


def latin_hypercube(params: ParameterSet, n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` Latin-hypercube draws of every uncertainty over its [low, high], uniform.

    Levers and fixed parameters keep the values in ``params``. The same ``seed`` gives the
    same draws (``scipy.stats.qmc.LatinHypercube``).
    """
    names = uncertainties(params)
    unit = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(seed)).random(n)
    values: dict[str, np.ndarray] = {k: np.full(n, v) for k, v in params.values().items()}
    for j, name in enumerate(names):
        spec = params.parameters[name]
        values[name] = spec.low + unit[:, j] * (spec.high - spec.low)
    return values
