"""A normal (non-editable) install runs: the wheel carries params/ and data/, and a user can
point the tool at a parameter folder of their own."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh virtual environment with the project's wheel (built from this tree) installed.

    The wheel is installed without its dependencies; the test environment's site-packages is
    appended to the new environment's path for those (numpy, scipy, ...), never for
    sanctions_model itself, which must come from the wheel."""
    tmp = tmp_path_factory.mktemp("wheel")
    # built once for the session, under a lock: each test-runner process (pytest -n) sets this fixture
    # up itself, and two builds in the same tree at once collide in its build/ folder
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")  # one per pytest -n run, shared by its processes
    shared = tmp_path_factory.getbasetemp().parent / f"wheel-{run}" if run else tmp
    shared.mkdir(exist_ok=True)
    with open(shared / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not list(shared.glob("sanctions_model-*.whl")):
            build = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w",
                                    str(shared)], capture_output=True, text=True, timeout=600)
            assert build.returncode == 0, build.stderr[-2000:]
    wheel = next(shared.glob("sanctions_model-*.whl"))
    env_dir = tmp / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                              str(wheel)], capture_output=True, text=True, timeout=600)
    if install.returncode != 0:  # pip older than 22.3 has no --python: install with the target's own paths
        install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", site,
                                  str(wheel)], capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr[-2000:]
    work = tmp / "elsewhere"
    work.mkdir()
    return env_dir, work


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANCTIONS_MODEL_")}
    env["MPLBACKEND"] = "Agg"
    return env


@pytest.mark.slow
def test_the_wheel_runs_from_its_own_copy_of_params_and_data(installed):
    env_dir, work = installed
    code = ("import sanctions_model as sm, sanctions_model.inputs.params as p, sanctions_model.inputs.history as h;"
            "print(sm.__file__); print(p.params_dir()); print(h.data_dir());"
            "r = sm.simulate('hard_way', days=30); print(r.outcomes['reserves_at_horizon'] > 0);"
            "print(len(sm.list_scenarios())); print(len(h.load_history()) > 10)")
    res = subprocess.run([str(env_dir / "bin" / "python"), "-c", code], capture_output=True, text=True, cwd=work,
                         env=_env(), timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    module, params, data, positive, scenarios, history = res.stdout.split()
    for path in (module, params, data):
        assert Path(path).resolve().is_relative_to(env_dir.resolve()), path
    assert params.endswith("_bundled/params") and data.endswith("_bundled/data")
    assert positive == "True" and int(scenarios) >= 7 and history == "True"
    run = subprocess.run([str(env_dir / "bin" / "sanctions-model"), "run", "--days", "30", "--out", "out/first"],
                         capture_output=True, text=True, cwd=work, env=_env(), timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert (work / "out" / "first" / "report.md").is_file()


@pytest.mark.slow
def test_a_users_own_parameter_folder(installed, tmp_path):
    env_dir, work = installed
    mine = tmp_path / "my-params"
    shutil.copytree(ROOT / "params", mine)
    text = (mine / "base.toml").read_text().replace(
        "[oil.brent_price]\nvalue = 75", "[oil.brent_price]\nvalue = 60", 1)
    assert "value = 60" in text
    (mine / "base.toml").write_text(text)
    env = {**_env(), "SANCTIONS_MODEL_PARAMS": str(mine)}
    res = subprocess.run([str(env_dir / "bin" / "sanctions-model"), "params", "--group", "oil", "--uncalibrated"],
                         capture_output=True, text=True, cwd=work, env=env, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "oil.brent_price = 60 US$/bbl" in res.stdout
    env["SANCTIONS_MODEL_PARAMS"] = str(tmp_path / "nowhere")
    res = subprocess.run([str(env_dir / "bin" / "sanctions-model"), "scenarios"], capture_output=True, text=True,
                         cwd=work, env=env, timeout=300)
    assert res.returncode == 2 and "no such directory" in res.stderr and "Traceback" not in res.stderr
