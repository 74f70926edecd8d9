"""Errors that name the problem and where it is.

Every error a user can cause (a bad file, an unknown name, a value out of range) is an
:class:`InputError`. The command line prints its message and exits with status 2; the
Python API raises it as it is. Input that runs but is likely a slip is an :class:`InputWarning`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class InputError(ValueError):
    """Bad input from the user: a file, a name or a value. The message says which and where."""


class InputWarning(UserWarning):
    """Input that runs but may not mean what its author meant; the message says what and where.
    The command line prints it as a note; the Python API issues it through :mod:`warnings`."""


class SolverError(RuntimeError):
    """The ODE solver failed on a parameter set (usually extreme parameters)."""


def suggest(name: str, candidates: Iterable[str]) -> str:
    """Return " Did you mean 'x'?" for the nearest candidate, or "" if none is near (or ``name`` is no string)."""
    if not isinstance(name, str):
        return ""
    close = difflib.get_close_matches(name, [str(c) for c in candidates], n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""
