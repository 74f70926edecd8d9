"""Build hook: ship the parameter files and the recorded data inside the wheel.

Everything else about the package is in pyproject.toml. A wheel installed with
``pip install .`` has no clone beside it, so ``params/`` and ``data/`` are copied into
``sanctions_model/_bundled/`` at build time and read through importlib.resources
(``sanctions_model/inputs/resources.py``). An editable install reads the clone's folders directly.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name in ("params", "data"):
            target = Path(self.build_lib) / "sanctions_model" / "_bundled" / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(ROOT / name, target)


setup(cmdclass={"build_py": BuildWithData})
