"""Where the parameter files and the recorded data are.

In a clone (and an editable install) they are the repository's own ``params/`` and
``data/``, so that an edit there takes effect at once. An installed wheel carries copies of
both inside the package (``sanctions_model/_bundled/``, put there by ``setup.py`` at build
time), read through :mod:`importlib.resources`. A user points the tool at a folder of their
own with ``$SANCTIONS_MODEL_PARAMS`` (a folder with ``base.toml``, ``scenarios/`` and,
optionally, ``calibrated.toml``) or ``$SANCTIONS_MODEL_DATA`` (a folder with
``history.csv``).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from ..errors import InputError

#: Folder name, the environment variable that replaces it, and a file it must hold.
KINDS = {"params": ("SANCTIONS_MODEL_PARAMS", "base.toml"), "data": ("SANCTIONS_MODEL_DATA", "history.csv")}


def _checkout() -> Path | None:
    """The clone this package runs from, if it runs from one (not from site-packages)."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() and (root / "sanctions_model").is_dir() else None


def resource_dir(kind: str) -> Path:
    """The folder of ``kind`` (``"params"`` or ``"data"``): the environment variable's, the
    clone's, or the installed package's copy.

    Raises
    ------
    InputError
        If the environment variable names a folder that does not exist, or no copy is found.
    """
    variable, marker = KINDS[kind]
    env = os.environ.get(variable)
    if env:
        path = Path(env)
        if not path.is_dir():
            raise InputError(f"${variable}={env}: no such directory (it should hold {marker}).")
        return path
    checkout = _checkout()
    if checkout is not None and (checkout / kind / marker).is_file():
        return checkout / kind
    bundled = Path(str(resources.files("sanctions_model").joinpath("_bundled", kind)))
    if (bundled / marker).is_file():
        return bundled
    raise InputError(f"cannot find the {kind} folder (no {marker} in the package or a clone); set ${variable} "
                     "to a folder that holds it.")


def standing_inputs() -> tuple[Path, ...]:
    """The parameter and data folders in use: what no output directory may be or hold (an output
    replaced with ``force`` would delete them; :func:`sanctions_model.outdir.check_not_input`)."""
    found = []
    for kind in KINDS:
        try:
            found.append(resource_dir(kind))
        except InputError:  # not there: nothing to protect
            pass
    return tuple(found)
