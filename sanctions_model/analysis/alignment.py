"""Tables given by a user matched to the rows of another by index, as pandas aligns them.

Scenario discovery and sensitivity indices take inputs and outcomes (or weights) that may come as
separate pandas objects: paired by position, a shuffled Series would silently describe other
rows. One rule for both: an object with the same labels in another order is put in the rows'
order; any other index is refused.
"""

from __future__ import annotations

from typing import TypeVar

import pandas as pd

from ..errors import InputError

#: A Series or a DataFrame.
Frame = TypeVar("Frame", pd.Series, pd.DataFrame)


def matched(values: Frame, rows: pd.Index, refusal: str) -> Frame:
    """``values`` in the order of ``rows`` (the same labels, once each), or InputError(``refusal``)."""
    if values.index.equals(rows):
        return values
    if values.index.has_duplicates or rows.has_duplicates or len(values) != len(rows) or \
            not values.index.isin(rows).all():
        raise InputError(refusal)
    return values.reindex(rows)
