"""Where the compiled model (:mod:`sanctions_model.core.jit`) is kept on disk, whether it is there, and
compiling it once before worker processes start. Nothing here imports Numba.

Compiling takes about 17 s and a few hundred MB. A pool of workers that each found nothing on disk
would each compile the same code at once: twice the compiler's memory for no gain in time (a
100,000-sample sweep on two workers peaked at 1,636 MiB so, and at 1,292 MiB compiling once first).
:func:`compile_once` compiles in one short-lived process first, and the workers load what it wrote.

Whether Numba will load the code depends on more than the directory holding it: Numba files it under
the absolute path of ``core/`` and checks ``jit.py``'s time and size. So every process that has run the
compiled loop leaves a mark for exactly those (:func:`mark_loaded`); :func:`on_disk` looks for it, and
its time says when the directory was last used (:func:`prune`).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import multiprocessing.spawn
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

#: What the process that compiles runs: five simulated days of the default parameters, which steps a
#: member through every compiled function a run loads (and leaves the mark, :func:`mark_loaded`).
_COMPILE = "import sanctions_model as sm; sm.simulate(days=5)"
#: Seconds the compiling process may take before the workers are started regardless [s].
COMPILE_TIMEOUT = 600.0
#: The directories this process has compiled into already (or tried to).
_TRIED: set[str] = set()
#: Whether this process has left its mark (:func:`mark_loaded`).
_MARKED = False
#: Days after which another version's compiled code, not used since, is removed when compiling [day].
STALE_DAYS = 30.0
#: The name of a directory of compiled code (:func:`directory`): Numba's version and a digest.
_NAME = re.compile(r"numba-[\w.+]+-[0-9a-f]{16}")
#: ``core/`` as Numba names it (the absolute path of the modules' files, symbolic links not followed).
_CORE = Path(os.path.abspath(__file__)).parent


def _numba_version() -> str:
    try:
        return importlib.metadata.version("numba")
    except importlib.metadata.PackageNotFoundError:  # installed without its metadata
        import numba

        return str(numba.__version__)


def directory() -> str:
    """The directory the compiled code is kept in: under ``$SANCTIONS_MODEL_CACHE_DIR`` (default
    ``$XDG_CACHE_HOME/sanctions-model`` or ``~/.cache/sanctions-model``; made absolute), named by Numba's
    version and a digest of every source in ``core/`` (Numba's own cache looks at the compiled
    function's file only, so a change to any equation compiles afresh)."""
    digest = hashlib.sha256()
    for path in sorted(_CORE.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    base = os.environ.get("SANCTIONS_MODEL_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "sanctions-model")
    return os.path.join(os.path.abspath(base), f"numba-{_numba_version()}-{digest.hexdigest()[:16]}")


def _mark() -> Path:
    """The mark a process that ran the compiled loop leaves: for this Python, this ``core/`` folder and
    this ``jit.py`` (its time and size, which Numba's cache checks)."""
    stat = (_CORE / "jit.py").stat()
    key = f"{sys.version_info[0]}.{sys.version_info[1]}|{_CORE}|{stat.st_mtime_ns}|{stat.st_size}"
    return Path(directory()) / f"loaded-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def _jit_disabled() -> bool:
    return os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0")


def _index() -> Path:
    """Where Numba keeps the index of the stepping loop's compiled code for this Python and ``core/``
    (its folder is named by the absolute path of ``core/``: ``numba.core.caching``'s
    ``UserProvidedCacheLocator``)."""
    folder = f"{_CORE.name}_{hashlib.sha1(str(_CORE).encode()).hexdigest()}"
    return Path(directory()) / folder / f"jit.step_each-*.py{sys.version_info[0]}{sys.version_info[1]}.nbi"


def on_disk() -> bool:
    """Whether the compiled model is on disk for this process to load: Numba's index of it, where
    Numba would look, and the mark of a process with this Python, ``core/`` and ``jit.py`` that ran it
    (:func:`mark_loaded`). (A directory shared between machines of different processors can still
    say so where Numba, which files code by processor too, then compiles afresh.)"""
    index = _index()
    return _mark().exists() and any(index.parent.glob(index.name))


def mark_loaded() -> None:
    """Leave the mark :func:`on_disk` looks for (once a process; ``core/stepper.py`` calls it after the
    compiled loop has run). Its time is when the directory was last used. Nothing where it cannot be
    written, or where Numba does not compile."""
    global _MARKED
    if _MARKED or _jit_disabled():
        return
    _MARKED = True
    try:
        mark = _mark()
        mark.parent.mkdir(parents=True, exist_ok=True)
        mark.touch()
    except OSError:
        pass


def _ours(folder: Path) -> bool:
    """Whether ``folder`` holds nothing but compiled code and marks (Numba's ``core_*`` folders of
    ``.nbi``/``.nbc`` files, ``loaded-*``), as this module and Numba write them."""
    for path in folder.iterdir():
        if path.is_symlink():
            return False
        if path.is_dir():
            if not path.name.startswith("core_") or any(
                    inner.is_symlink() or inner.is_dir() or ".nb" not in inner.name for inner in path.iterdir()):
                return False
        elif not path.name.startswith("loaded-"):
            return False
    return True


def prune(keep_days: float = STALE_DAYS) -> list[str]:
    """Remove other versions' compiled code next to :func:`directory` that no process has used for
    ``keep_days`` days; the names of those removed.

    Every change to ``core/`` (an upgrade, a local edit) compiles into a directory of its own, a few MB
    each; without this they would pile up. Only directories named as :func:`directory` names them and
    holding nothing but compiled code are removed, and only when neither their files nor their marks
    (:func:`mark_loaded`, left by every process that ran the code) are newer than ``keep_days``.
    """
    here = Path(directory())
    now = time.time()
    removed: list[str] = []
    try:
        siblings = sorted(here.parent.iterdir())
    except OSError:
        return removed
    for other in siblings:
        try:
            if (other == here or not _NAME.fullmatch(other.name) or other.is_symlink() or not other.is_dir()
                    or not _ours(other)):
                continue
            newest = max([other.stat().st_mtime, *(path.stat().st_mtime for path in other.rglob("*"))])
        except OSError:  # changed while read (another process saving or removing it): leave it
            continue
        if now - newest > keep_days * 86_400:
            shutil.rmtree(other, ignore_errors=True)
            if not other.exists():
                removed.append(other.name)
    return removed


def compile_once(env: dict[str, str] | None = None) -> bool:
    """Compile the model in a process of its own unless it is on disk already; whether it compiled.

    Called before local workers start (``runs/executors.py``); at most once a process for a directory,
    not where the directory cannot be written, and not where Numba does not compile
    (``NUMBA_DISABLE_JIT``). A failure here is not reported: the workers then compile for themselves,
    and say what went wrong.

    Parameters
    ----------
    env : dict, optional
        Environment variables to set for the compiling process (the workers' one BLAS thread).
    """
    where = directory()
    if where in _TRIED or _jit_disabled() or on_disk():
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
          f"{where}", file=sys.stderr)
    # the interpreter and import path the workers would have (spawned workers get this process's sys.path)
    paths = os.pathsep.join(path for path in sys.path if path)
    try:
        subprocess.run([multiprocessing.spawn.get_executable(), "-c", _COMPILE],
                       env={**os.environ, "PYTHONPATH": paths, **(env or {})}, capture_output=True, check=False,
                       timeout=COMPILE_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired):
        pass  # the workers compile for themselves
    return True
