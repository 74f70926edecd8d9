"""Limits checked before work starts: a run that cannot fit in memory is refused with the
figure it would need, rather than failing after minutes or taking the machine down."""

from __future__ import annotations

import os

from .errors import InputError

#: What one sampled value costs while a design is drawn and evaluated [bytes]: the sample
#: itself (8 bytes), SALib's and NumPy's copies of it, and the outcome columns per row.
BYTES_PER_VALUE = 32
#: Share of the machine's memory a run may plan to use.
SHARE_OF_MEMORY = 0.5


def available_memory() -> int:
    """This machine's physical memory [bytes] (4 GiB if it cannot be read)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 4 << 30


def check_memory(values: float, what: str) -> None:
    """Refuse work that holds ``values`` numbers in memory at once if they need more than
    :data:`SHARE_OF_MEMORY` of the machine's memory; say how much they would need."""
    need = float(values) * BYTES_PER_VALUE
    limit = SHARE_OF_MEMORY * available_memory()
    if need > limit:
        raise InputError(f"{what} would hold {values:,.0f} sampled values in memory at once, about "
                         f"{need / (1 << 30):,.1f} GiB, more than the {limit / (1 << 30):,.1f} GiB this run may use "
                         "(half of this machine's memory); lower the sample size, or run it as a sweep "
                         "(sanctions-model sweep), which works chunk by chunk.")
