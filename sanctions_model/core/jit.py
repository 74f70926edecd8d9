"""The model's right-hand side compiled by Numba, one member at a time, from the same source.

:mod:`sanctions_model.core.model` writes every equation once, as NumPy on arrays over a
batch. The same functions, given one member's parameters as a NumPy record (a structured
scalar, read ``p["name"]`` as the dict is) and its state as a vector of :data:`~model.N_STATES`,
compute that member's numbers as scalars; :func:`register` lets Numba compile them so
(``numba.extending.register_jitable``), and :func:`member_rates` is that right-hand side
compiled. Nothing is written twice: the only compiled-only code here reads the schedules,
whose values at a member's time the caller writes into its record (the ``LEVER.now`` and
``LEVER.rate`` fields and each driver's value and ``NAME.slope``, as
:func:`~sanctions_model.core.schedules.at_time` fills them).

What the model's source must keep to, so that it compiles (``tests/test_jit.py`` checks the
compiled rates against NumPy's for sampled members of the history and of projections):
parameters read with literal keys (``p["macro.rub_per_usd"]``, not a key built at run time);
stocks read as ``y[IDX["name"]]``; functions on the right-hand side's path return numbers,
tuples or ``NamedTuple``s (not dicts); no ``np.clip`` (``np.minimum(np.maximum(...))``) and no
lists.

This module imports Numba; nothing else in the package does until it is used.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Mapping
from types import ModuleType

import numba
import numpy as np
from numba import types
from numba.core.imputils import lower_constant
from numba.extending import models, overload, register_jitable, register_model, typeof_impl

from . import bargaining, model, schedules, smooth
from .model import IDX, N_STATES, StockIndex
from .schedules import DRIVERS, LEVERS

#: The modules whose functions the compiled right-hand side calls.
MODULES: tuple[ModuleType, ...] = (smooth, bargaining, model)
#: The reference values' fields (``model.REFERENCES``), for :func:`reference_records`.
REFERENCE_DTYPE = np.dtype([(name, float) for name in model.REFERENCES])


class _StockIndexType(types.Opaque):
    """:data:`model.IDX` as Numba sees it: a constant whose items, read with literal keys, are constants."""

    def __init__(self) -> None:
        super().__init__(name="StockIndex")


_STOCK_INDEX = _StockIndexType()
_registered = False


def register() -> None:
    """Let Numba compile the model's functions (idempotent)."""
    global _registered
    if _registered:
        return
    typeof_impl.register(StockIndex)(lambda value, context: _STOCK_INDEX)
    register_model(_StockIndexType)(models.OpaqueModel)
    lower_constant(_StockIndexType)(lambda context, builder, ty, value: context.get_dummy_value())

    @overload(operator.getitem, prefer_literal=True)
    def _stock_row(index, name):  # type: ignore[no-untyped-def]
        if isinstance(index, _StockIndexType) and isinstance(name, types.StringLiteral):
            row = IDX[name.literal_value]
            return lambda index, name: row
        return None

    @overload(smooth.where)
    def _where(condition, x, y):  # type: ignore[no-untyped-def]
        if isinstance(condition, types.Boolean):
            return lambda condition, x, y: x if condition else y
        return None

    _schedule_overloads()
    for module in MODULES:
        for _, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and fn is not smooth.where:
                register_jitable(error_model="numpy")(fn)
    _registered = True


def _schedule_overloads() -> None:
    """The schedules as a compiled member reads them: from its record's fields (see the module's doc)."""

    @overload(schedules.at_time)
    def _at_time(t, p):  # type: ignore[no-untyped-def]
        if isinstance(p, types.Record):
            return lambda t, p: p
        return None

    @overload(schedules.lever_value, prefer_literal=True)
    def _lever_value(t, p, lever):  # type: ignore[no-untyped-def]
        if isinstance(p, types.Record) and isinstance(lever, types.StringLiteral):
            key = f"{lever.literal_value}.now"
            return lambda t, p, lever: p[key]
        return None

    @overload(schedules.lever_rate, prefer_literal=True)
    def _lever_rate(t, p, lever):  # type: ignore[no-untyped-def]
        if isinstance(p, types.Record) and isinstance(lever, types.StringLiteral):
            key = f"{lever.literal_value}.rate"
            return lambda t, p, lever: p[key]
        return None

    @overload(schedules.driver_rate, prefer_literal=True)
    def _driver_rate(p, name):  # type: ignore[no-untyped-def]
        if isinstance(p, types.Record) and isinstance(name, types.StringLiteral):
            key = f"{name.literal_value}.slope"
            return lambda p, name: p[key]
        return None


def schedule_fields() -> tuple[str, ...]:
    """The fields a member's record carries for its schedules' values at its time: each lever's
    ``.now`` and ``.rate``, and each driver's ``.slope`` (a driver's value is its own field)."""
    return tuple([f"{lever}.{what}" for lever in LEVERS for what in ("now", "rate")]
                 + [f"{name}.slope" for name in DRIVERS])


def member_dtype(names: Mapping[str, object] | tuple[str, ...]) -> np.dtype:
    """The record of one member: every parameter of ``names`` (float) and :func:`schedule_fields`."""
    fields = dict.fromkeys([*names, *schedule_fields()])
    return np.dtype([(name, float) for name in fields])


def member_records(p: Mapping[str, np.ndarray], n: int, dtype: np.dtype | None = None) -> np.ndarray:
    """A batch's parameters as records (shape ``(n,)``): ``p`` as :func:`~schedules.at_time` returns
    it (values at one time for every member), the schedule fields it lacks at 0."""
    dtype = member_dtype(tuple(p)) if dtype is None else dtype
    out = np.zeros(n, dtype)
    for name in dtype.names or ():
        if name in p:
            out[name] = np.broadcast_to(np.asarray(p[name], dtype=float), (n,))
    return out


def reference_records(ref: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """The reference values (:data:`model.REFERENCES`) as records (shape ``(n,)``)."""
    out = np.zeros(n, REFERENCE_DTYPE)
    for name in REFERENCE_DTYPE.names or ():
        out[name] = np.broadcast_to(np.asarray(ref[name], dtype=float), (n,))
    return out


register()


@numba.njit(error_model="numpy")
def member_rates(t: np.ndarray, y: np.ndarray, p: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``dy/dt`` of each member (``y``: ``(N_STATES, n)``) at its own time ``t`` (n,), one member at a
    time through the compiled :func:`model.derivatives`; ``p`` and ``ref`` are records (n,)."""
    out = np.empty_like(y)
    for i in range(y.shape[1]):
        out[:, i] = model.derivatives(t[i], np.ascontiguousarray(y[:, i]), p[i], ref[i])
    return out


__all__ = ["N_STATES", "member_dtype", "member_rates", "member_records", "reference_records", "register",
           "schedule_fields"]
