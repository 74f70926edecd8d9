"""Output directories written whole or not at all."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import InputError


def check_target(target: Path | str, force: bool = False) -> Path:
    """Raise InputError now if ``target`` could not be written later; call before long work."""
    target = Path(target)
    if target.exists() and not force:
        raise InputError(f"output directory {target} already exists; use --force to replace it.")
    if target.exists() and not target.is_dir():
        raise InputError(f"output path {target} exists and is not a directory.")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"cannot write {target}: parent directory {parent} does not exist.")
    return target


def check_file(path: str | os.PathLike[str], force: bool = False) -> Path:
    """Raise InputError now if the file ``path`` could not be written later; call before long work."""
    path = Path(path)
    if path.exists() and not force:
        raise InputError(f"{path} already exists; use --force to replace it.")
    if not path.parent.is_dir():
        raise InputError(f"cannot write {path}: parent directory {path.parent} does not exist.")
    return path


@contextlib.contextmanager
def atomic_directory(target: Path | str, force: bool = False) -> Iterator[Path]:
    """Yield a temporary directory beside ``target``; on success, rename it to ``target``.

    If the body raises, the temporary directory is removed and ``target`` is untouched.
    An existing ``target`` is replaced only with ``force``, and only after the new one is
    complete; it is moved aside first and deleted last, so it is never half-overwritten.
    """
    target = check_target(target, force)
    parent = target.parent
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=parent))
        old.rmdir()
        target.rename(old)
    tmp.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
