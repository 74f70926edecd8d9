"""What produced a result: the package version, the commit of the source tree, digests of the
parameters, the command and the date. Reports print it; the calibration file records it."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from ._version import __version__


def git_commit() -> str:
    """The commit of the source tree, with '-dirty' if code, parameters or data have uncommitted changes
    (generated reports/ aside), or 'unknown'."""
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=here, capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        # generated reports do not change what produces the numbers: a regenerated report is not "dirty"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ":(top)",
                                ":(top,exclude)reports"], cwd=here,
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return sha + ("-dirty" if dirty else "")


def combined_digest(digests: Sequence[str]) -> str:
    """One hash for several parameter sets (a comparison's scenarios, in order)."""
    return hashlib.sha256("".join(digests).encode()).hexdigest()[:12]


def record(items: Mapping[str, object], command: str) -> dict[str, object]:
    """Version, commit, ``items`` (parameters, seed, ...), the command and today's date, in that order."""
    return {"package version": __version__, "git commit": git_commit(), **items, "command": f"`{command}`",
            "date": dt.date.today().isoformat()}
