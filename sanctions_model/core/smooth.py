"""Smooth forms shared by the model's equations and its decision core: a smooth ``max(x, 0)``,
saturating responses and the logistic pair. Pure NumPy on arrays or scalars.
"""

from __future__ import annotations

import numpy as np

Num = np.ndarray | float

#: The smallest bound a saturating response divides by (:func:`saturate`) [its unit]: a bound
#: set to 0 gives a response of 0, not 0/0.
BOUND_FLOOR = 1e-9


def softplus(x: Num, scale: Num) -> Num:
    """Smooth ``max(x, 0)`` [unit of x]: ``(x + sqrt(x^2 + 4 scale^2)) / 2``.

    Equals ``scale`` at 0, tends to ``max(x, 0)`` within ``scale^2 / |x|``, and
    ``softplus(x) - softplus(-x) == x`` exactly, which keeps the fiscal accounts closed.
    (A hyperbola rather than ``log(1 + exp(x))``: as smooth, and a square root is cheaper.)

    It is computed as ``max(x, 0) + 2 scale^2 / (sqrt(x^2 + 4 scale^2) + |x|)``, the same number
    without the cancellation of ``x + sqrt(...)`` for ``x < 0``: that difference of two large
    numbers is rounding noise (1e-10 at ``x = -1e6``) where the true value is ~0, noise an
    implicit solver's Newton iteration cannot converge through (the reserves' inflow under a
    runaway deficit). (Eight array operations, no branch: the right-hand side calls it about 28
    times an evaluation.)
    """
    c = 4.0 * scale * scale
    a = np.abs(x)
    return (0.5 * c) / (np.sqrt(a * a + c) + a) + np.maximum(x, 0.0)


def where(condition: np.ndarray | bool, x: Num, y: Num) -> Num:
    """``np.where(condition, x, y)``, which the compiled model (``core/jit.py``) reads for one member
    as ``x if condition else y``, a number rather than NumPy's array of no dimensions."""
    return np.where(condition, x, y)


def logit(p: Num) -> Num:
    """Log-odds of a probability-like index in (0, 1) [logit]."""
    return np.log(p) - np.log1p(-p)


def expit(z: Num) -> Num:
    """Logistic function, the inverse of :func:`logit` [0-1]."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def saturate(x: Num, cap: Num) -> Num:
    """``cap tanh(x / cap)``: ``x`` while it is small against ``cap``, never beyond ``+-cap``.

    A ``cap`` of 0 (below :data:`BOUND_FLOOR`) gives 0, not 0/0.
    """
    bound = np.maximum(cap, BOUND_FLOOR)
    return bound * np.tanh(x / bound)


def soft_cap(x: Num, cap: Num) -> Num:
    """``x`` bounded softly by ``cap`` [unit of x]: ``x / (1 + (x / cap)^4)^(1/4)``, for ``x >= 0``.

    Equal to ``x`` within 2e-6 (relative) up to ``x = cap / 20``, 3e-5 at ``cap / 10``,
    1.5% at ``cap / 2``; never above ``cap``.
    """
    q2 = (x / cap) ** 2
    return x / np.sqrt(np.sqrt(1.0 + q2 * q2))  # two square roots: a fifth of the cost of ** 0.25
