"""Where the compiled model (:mod:`sanctions_model.core.jit`) is kept on disk, whether it is there, and
compiling it once before worker processes start. Nothing here imports Numba.

Compiling takes about 17 s and a few hundred MB. A pool of workers that each found nothing on disk
would each compile the same code at once: twice the compiler's memory for no gain in time (a
100,000-sample sweep on two workers peaked at 1,636 MiB so, and at 1,292 MiB compiling once first).
:func:`compile_once` compiles in one short-lived process first, and the workers load what it wrote.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

#: A function whose compiled code on disk means the model has been compiled (the stepping loop, which
#: every run that steps a member loads).
_MARK = "jit.step_each-*.nbi"
#: What the process that compiles runs: five simulated days of the default parameters, which steps a
#: member through every compiled function a run loads.
_COMPILE = "import sanctions_model as sm; sm.simulate(days=5)"
#: Seconds the compiling process may take before the workers are started regardless [s].
COMPILE_TIMEOUT = 600.0
#: The directories this process has compiled into already (or tried to).
_TRIED: set[str] = set()
#: Days after which another version's compiled code, not written since, is removed when compiling [day].
STALE_DAYS = 30.0


def directory() -> str:
    """The directory the compiled code is kept in: under ``$SANCTIONS_MODEL_CACHE_DIR`` (default
    ``$XDG_CACHE_HOME/sanctions-model`` or ``~/.cache/sanctions-model``), named by Numba's version and a
    digest of every source in ``core/`` (Numba's own cache looks at the compiled function's file only, so
    a change to any equation compiles afresh)."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    base = os.environ.get("SANCTIONS_MODEL_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "sanctions-model")
    return os.path.join(base, f"numba-{importlib.metadata.version('numba')}-{digest.hexdigest()[:16]}")


def on_disk() -> bool:
    """Whether the compiled model is in :func:`directory`."""
    return any(Path(directory()).glob(f"*/{_MARK}"))


def prune(keep_days: float = STALE_DAYS) -> list[str]:
    """Remove the compiled code of other versions of the model (sibling ``numba-*`` directories of
    :func:`directory`) that no run has written for ``keep_days`` days; the ones removed.

    Every change to ``core/`` (an upgrade, a local edit) compiles into a directory of its own, a few MB
    each; without this they would pile up. One recently written is kept: another installation may be
    using it.
    """
    here = Path(directory())
    now = time.time()
    removed = []
    for other in sorted(here.parent.glob("numba-*")):
        if other == here or not other.is_dir():
            continue
        newest = max((path.stat().st_mtime for path in other.rglob("*")), default=other.stat().st_mtime)
        if now - newest > keep_days * 86_400:
            shutil.rmtree(other, ignore_errors=True)
            removed.append(other.name)
    return removed


def compile_once(env: dict[str, str] | None = None) -> bool:
    """Compile the model in a process of its own unless it is on disk already; whether it compiled.

    Called before local workers start (``runs/executors.py``); at most once a process for a directory,
    and not where the directory cannot be written. A failure here is not reported: the workers then
    compile for themselves, and say what went wrong.

    Parameters
    ----------
    env : dict, optional
        Environment variables to set for the compiling process (the workers' one BLAS thread).
    """
    where = directory()
    if where in _TRIED or on_disk():
        return False
    _TRIED.add(where)  # once a process: where nothing can be written, the workers compile (as they would)
    try:
        os.makedirs(where, exist_ok=True)
    except OSError:
        return False
    if not os.access(where, os.W_OK):
        return False
    prune()
    print("sanctions-model: compiling the model for this machine, once (about 20 s); later runs load it from "
          f"{directory()}", file=sys.stderr)
    try:
        subprocess.run([sys.executable, "-c", _COMPILE], env={**os.environ, **(env or {})}, capture_output=True,
                       check=False, timeout=COMPILE_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired):
        pass  # the workers compile for themselves
    return True
