"""A batch's parameters read at other rows, each parameter taken when the model first reads it.

Reading the margins along a run's output, or its flows on the kept days, evaluates the model
at (member, day) points, each with its member's parameters. Repeating every parameter over
every point costs parameters x points floats: for the margins of 2,000 histories (output every
other day, read every 8th point first), 354 parameters over 136,000 points, about 385 MB, of
which the decision core reads a few dozen.
:class:`RowsOf` takes a parameter's rows only when it is read, and keeps them for the next
read; the values are the same arrays the repeated mapping held.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import numpy as np


class RowsOf(Mapping[str, np.ndarray]):
    """``values`` with ``take`` applied to each array on its first read.

    Parameters
    ----------
    values : mapping of name to array (n,)
        A batch's parameters (or reference values).
    take : callable
        Array (n,) to the array at the rows wanted, for example ``lambda v: v[members]``.

    Examples
    --------
    >>> rows = RowsOf({"a": np.array([1.0, 2.0])}, lambda v: np.repeat(v, 2))
    >>> rows["a"]
    array([1., 1., 2., 2.])
    """

    def __init__(self, values: Mapping[str, np.ndarray], take: Callable[[np.ndarray], np.ndarray]) -> None:
        self._values = values
        self._take = take
        self._taken: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self._taken[name]
        except KeyError:
            value = self._take(self._values[name])  # an unknown name raises KeyError here
            self._taken[name] = value
            return value

    def __contains__(self, name: object) -> bool:  # without taking the rows (Mapping's reads the value)
        return name in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)
