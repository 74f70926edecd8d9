"""What produced a result: the package version, the commit of the source tree, digests of the
parameters, the command and the date. Reports print it; the calibration file records it."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from ._version import __version__


def git_commit(written: Sequence[str | os.PathLike[str]] = ()) -> str:
    """The commit of the source tree, with '-dirty' if any tracked file has uncommitted changes
    (generated reports/ aside, and the files ``written`` by the command this describes, such as the
    ensemble file a constrained ensemble's report sits beside), or 'unknown'."""
    here = Path(__file__).resolve().parent
    try:
        top, sha = subprocess.run(["git", "rev-parse", "--show-toplevel", "--short=12", "HEAD"], cwd=here,
                                  capture_output=True, text=True, timeout=5, check=True).stdout.split("\n")[:2]
        # generated reports do not change what produces the numbers: a regenerated report is not "dirty"
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ":(top)",
                                 ":(top,exclude)reports"], cwd=here,
                                capture_output=True, text=True, timeout=5, check=True).stdout
    except (OSError, subprocess.SubprocessError, ValueError):
        return "unknown"
    outputs = {Path(p).resolve() for p in written}
    # porcelain lines are "XY path" (or "XY old -> new"), the path relative to the top of the tree
    changed = [Path(top, line[3:].split(" -> ")[-1].strip('"')).resolve() for line in status.splitlines() if line]
    return sha.strip() + ("-dirty" if any(path not in outputs for path in changed) else "")


def combined_digest(digests: Sequence[str]) -> str:
    """One hash for several parameter sets (a comparison's scenarios, in order)."""
    return hashlib.sha256("".join(digests).encode()).hexdigest()[:12]


def record(items: Mapping[str, object], command: str,
           written: Sequence[str | os.PathLike[str]] = ()) -> dict[str, object]:
    """Version, commit, ``items`` (parameters, seed, ...), the command and today's date, in that order
    (``written``: files the command wrote, which do not make the tree dirty; see :func:`git_commit`)."""
    return {"package version": __version__, "git commit": git_commit(written), **items, "command": f"`{command}`",
            "date": dt.date.today().isoformat()}
