"""Output directories written whole or not at all."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import InputError


def check_names(path: Path) -> None:
    """Refuse a path with a name longer than file systems allow (255 bytes), before touching it."""
    for name in path.parts:
        if len(os.fsencode(name)) > 255:
            raise InputError(f"cannot write {str(path)[:60]}...: the name {name[:20]}... is {len(os.fsencode(name))} "
                             "bytes long; file systems allow 255.")


def _check_writable_place(path: Path) -> None:
    """Raise InputError unless ``path`` could be created: its nearest existing ancestor must be a
    directory we can write in (proved by creating and removing a probe), and every missing name
    must be short enough for the file system. Nothing is left behind."""
    missing: list[str] = []
    ancestor = path
    while not ancestor.exists():
        if ancestor.parent == ancestor:
            break
        missing.append(ancestor.name)
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(f"cannot write {path}: {ancestor} is a file, not a directory.")
    try:
        name_max = os.pathconf(ancestor, "PC_NAME_MAX")
    except (OSError, ValueError):
        name_max = 255
    too_long = [name for name in missing if len(os.fsencode(name)) > name_max]
    if too_long:
        raise InputError(f"cannot write {path}: the name {too_long[0][:40]}... is longer than the "
                         f"{name_max} bytes the file system allows.")
    try:
        probe = tempfile.mkdtemp(prefix=".sanctions-model-probe-", dir=ancestor)
        os.rmdir(probe)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {ancestor} is not writable ({exc.strerror}).") from None


def check_not_input(out: Path | str, inputs: Iterable[str | os.PathLike[str] | None]) -> None:
    """Raise InputError if ``out`` is one of ``inputs`` (files or directories a command reads), holds
    one, or is an existing directory inside an input folder: replacing it, even with --force, would delete what
    the command reads (``params/scenarios``, say). A new directory inside one takes nothing away."""
    where = Path(out).absolute().resolve()
    for given in inputs:
        if given is None or given is False or given is True:
            continue
        path = Path(given).absolute().resolve()
        if where == path or where in path.parents:
            raise InputError(f"the output {out} {'is' if where == path else 'holds'} the input {given}; writing "
                             "there would delete it. Give another output path.")
        if where.is_dir() and path.is_dir() and path in where.parents:  # a directory, replaced whole
            raise InputError(f"the output {out} is inside the input folder {given}; replacing it would delete part "
                             "of that folder. Give another output path.")


def check_target(target: Path | str, force: bool = False,
                 inputs: Iterable[str | os.PathLike[str] | None] = ()) -> Path:
    """Raise InputError now if the directory ``target`` could not be written later; call before long work.

    Missing parent directories are fine (they are created when the output is written, as
    ``mkdir -p`` would); an existing ``target`` is refused unless ``force``, and a ``target`` that
    is or holds one of ``inputs`` (what the command reads), or exists inside one, always.
    """
    target = Path(target)
    if target.name in ("", ".", ".."):
        raise InputError(f"output directory {str(target)!r}: give the path of a directory to write, ending in its "
                         "name (not '', '.' or '..').")
    check_names(target)
    check_not_input(target, inputs)
    if target.exists() and not target.is_dir():
        raise InputError(f"output path {target} exists and is not a directory.")
    if target.exists() and not force:
        raise InputError(f"output directory {target} already exists; use --force to replace it.")
    _check_writable_place(target.absolute().parent if target.exists() else target.absolute())
    return target


def check_file(path: str | os.PathLike[str], force: bool = False,
               inputs: Iterable[str | os.PathLike[str] | None] = ()) -> Path:
    """Raise InputError now if the file ``path`` could not be written later; call before long work.

    Missing parent directories are fine (create them with :func:`make_parents` just before
    writing); an existing file is refused unless ``force``, and one of ``inputs`` always.
    """
    path = Path(path)
    if path.name in ("", ".", ".."):
        raise InputError(f"output file {str(path)!r}: give the path of a file to write, ending in its name.")
    check_names(path)
    check_not_input(path, inputs)
    if path.is_dir():
        raise InputError(f"{path} is a directory; give the path of a file.")
    if path.exists() and not force:
        raise InputError(f"{path} already exists; use --force to replace it.")
    _check_writable_place(path.absolute().parent if path.exists() else path.absolute())
    return path


def umask_mode(directory: bool) -> int:
    """The mode a new directory (or file) gets under the process's umask: what ``mkdir`` (or ``open``)
    would give it. ``tempfile`` creates its folders and files private (0700, 0600) whatever the umask;
    an output renamed into place from one is given this mode first, so that it can be shared as
    any other file the user writes."""
    mask = os.umask(0o022)  # read it (the only way), then put it back
    os.umask(mask)
    return (0o777 if directory else 0o666) & ~mask


def make_parents(path: Path | str) -> Path:
    """Create the missing parent directories of ``path`` (``mkdir -p``); return ``path``."""
    path = Path(path)
    path.absolute().parent.mkdir(parents=True, exist_ok=True)
    return path


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers(parent: Path, name: str) -> list[Path]:
    """Remove the temporary folders that writing ``name`` in ``parent`` left behind when its
    writer was killed (``.NAME.tmp-PID-*`` whose process is gone); return them."""
    removed = []
    for path in parent.glob(f".{name}.tmp-*-*"):
        pid = path.name.removeprefix(f".{name}.tmp-").split("-", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


@contextlib.contextmanager
def atomic_directory(target: Path | str, force: bool = False,
                     inputs: Iterable[str | os.PathLike[str] | None] = ()) -> Iterator[Path]:
    """Yield a temporary directory beside ``target``; on success, rename it to ``target``.

    If the body raises, the temporary directory is removed and ``target`` is untouched.
    An existing ``target`` is replaced only with ``force``, and only after the new one is
    complete; it is moved aside first and deleted last, so it is never half-overwritten.
    A ``target`` that is or holds one of ``inputs`` is refused (:func:`check_target`).
    """
    target = make_parents(check_target(target, force, inputs))
    parent = target.absolute().parent
    remove_leftovers(parent, target.name)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=parent))
    os.chmod(tmp, umask_mode(directory=True))
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
