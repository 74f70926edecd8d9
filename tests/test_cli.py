"""The command line: outputs, exit codes, messages, atomic writes.

Commands run in this process through ``cli.main`` (as the console script calls it), which
saves an interpreter start per command; tests/test_docs_commands.py runs the installed
``sanctions-model`` script itself, and tests/test_faults.py signals real processes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import run_cli as cli

from sanctions_model.outdir import atomic_directory


def test_run_writes_trajectories_outcomes_and_report(tmp_path):
    out = tmp_path / "hw"
    res = cli("run", "--scenario", "hard_way", "--scenario", "easy_way", "--set", "oil.brent_price=65",
              "--days", "400", "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert {p.name for p in out.iterdir()} == {"trajectories.csv", "outcomes.json", "report.md", "trajectories.png",
                                                "constrained.csv"}
    tr = pd.read_csv(out / "trajectories.csv", index_col="date", parse_dates=True)
    assert len(tr) == 401 and "p_ceasefire" in tr and "bargaining_range" in tr
    data = json.loads((out / "outcomes.json").read_text())
    assert set(data["outcomes"]) >= {"p_talks_100_days", "p_ceasefire_horizon", "p_ceasefire_holds_1_year"}
    assert data["provenance"]["scenarios"] == ["hard_way", "easy_way"]
    report = (out / "report.md").read_text()
    for link in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report):
        assert (out / link).is_file()
    assert "`oil.brent_price` = 65" in report and "hard_way" in report and "parameter hash" in report
    assert (out / "trajectories.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_scenarios_and_params_commands():
    res = cli("scenarios")
    assert res.returncode == 0 and "hard_way" in res.stdout and "frozen" in res.stdout
    res = cli("params")
    assert res.returncode == 0 and "oil.brent_price = 75 US$/bbl  [40 .. 125]" in res.stdout
    assert res.stdout.count("source:") > 100
    res = cli("params", "--group", "oil", "--scenario", "hard_way")
    assert res.returncode == 0 and "fiscal." not in res.stdout


@pytest.mark.parametrize("args, message", [
    (["run", "--scenario", "hardway"], "unknown scenario 'hardway'. Did you mean 'hard_way'?"),
    (["run", "--set", "oil.brent=70"], "unknown parameter 'oil.brent'. Did you mean 'oil.brent_price'?"),
    (["run", "--set", "oil.brent_price=500"], "'oil.brent_price' = 500 is outside its range [40, 125]"),
    (["run", "--set", "oil.brent_price=nan"], "must be a finite number"),
    (["run", "--set", "oil.brent_price=cheap"], "must be a number, got 'cheap'"),
    (["run", "--set", "oil.brent_price"], "--set takes NAME=VALUE"),
    (["run", "--set", "oil.brent_price=60", "--set", "oil.brent_price=70"], "set more than once"),
    (["run", "--days", "-5"], "--days must be between 1 and 3650"),
    (["run", "--days", "soon"], "--days must be a number"),
    (["run", "--scenario", "/no/such/file.toml"], "scenario file not found: /no/such/file.toml"),
    (["params", "--group", "oill"], "Did you mean 'oil'?"),
    (["compare", "--scenario", "nope"], "unknown scenario 'nope'"),
    (["compare", "--samples", "-1"], "expected a number >= 0"),
])
def test_bad_input_exits_2_with_one_clear_line(tmp_path, args, message):
    needs_out = args[0] in ("run", "compare")
    res = cli(*args, *(["--out", str(tmp_path / "o")] if needs_out else []))
    assert res.returncode == 2, res.stderr
    assert message in res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_malformed_scenario_file_names_its_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "x"\ndescription = "y"\n[[change]\n')
    res = cli("run", "--scenario", str(bad), "--out", str(tmp_path / "o"))
    assert res.returncode == 2 and "bad.toml" in res.stderr and "line 3" in res.stderr
    assert "Traceback" not in res.stderr


def test_existing_output_is_kept_without_force_and_replaced_with_it(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    res = cli("run", "--days", "50", "--out", str(out))
    assert res.returncode == 2 and "--force" in res.stderr
    assert (out / "precious.txt").read_text() == "keep me"
    res = cli("run", "--days", "50", "--unconstrained", "--out", str(out), "--force")
    assert res.returncode == 0
    assert not (out / "precious.txt").exists() and (out / "report.md").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["o"]  # no temporary directories left behind


def test_output_directory_is_written_whole_or_not_at_all(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_directory(target, force=True) as tmp:
            (tmp / "half.txt").write_text("half")
            raise RuntimeError("killed half-way")
    assert [p.name for p in target.iterdir()] == ["old.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_output_under_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    res = cli("run", "--days", "30", "--out", str(tmp_path / "file" / "such" / "dir"))
    assert res.returncode == 2 and "is a file, not a directory" in res.stderr


def test_compare_writes_a_report_whose_links_resolve_and_tables_parse(tmp_path):
    out = tmp_path / "cmp"
    res = cli("compare", "--scenario", "status_quo", "--scenario", "hard_way", "--days", "300",
              "--samples", "16", "--seed", "5", "--out", str(out))
    assert res.returncode == 0, res.stderr
    report = (out / "report.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report)
    assert all((out / link).is_file() for link in links)
    assert set(links) == {"scenarios.png", "uncertainty.png", "fan-status_quo.png", "fan-hard_way.png"}
    table = [line for line in report.splitlines() if line.startswith("| `p_ceasefire_horizon`")]
    assert len(table) == 1 and table[0].count("|") == 5  # outcome, unit, two scenarios
    assert "How sure" in report and "Headline" in report
    shares = pd.read_csv(out / "uncertainty.csv", index_col="scenario")
    assert list(shares.index) == ["status_quo", "hard_way"] and shares.to_numpy().max() <= 1.0


def test_version():
    res = cli("--version")
    assert res.returncode == 0 and res.stdout.startswith("sanctions-model ")


def test_console_script_is_installed():
    exe = Path(sys.executable).parent / "sanctions-model"
    assert exe.exists()
    res = subprocess.run([str(exe), "scenarios"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0


@pytest.mark.parametrize("method, n", [("oat", None), ("sobol", "16"), ("morris", "4"), ("mc", "40")])
def test_sensitivity_command_writes_indices_and_report(tmp_path, method, n):
    out = tmp_path / method
    args = ["sensitivity", "--method", method, "--scenario", "hard_way", "--param", "russia.strain_cost",
            "--param", "oil.brent_price", "--param", "russia.claim_weight", "--outcome", "p_ceasefire_horizon",
            "--outcome", "peak_strain", "--days", "400", "--seed", "3", "--out", str(out)]
    res = cli(*args, *(["-n", n] if n else []))
    assert res.returncode == 0, res.stderr
    indices = pd.read_csv(out / "indices.csv")
    assert set(indices["outcome"]) == {"p_ceasefire_horizon", "peak_strain"}
    assert set(indices["input"]) == {"russia.strain_cost", "oil.brent_price", "russia.claim_weight"}
    report = (out / "report.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report)
    assert links and all((out / link).is_file() for link in links)
    assert ("Cost to Russia of a year of fighting on per unit of perceived strain on its war economy "
            "[stake per year per unit strain]") in report
    assert "| seed | 3 |" in report


@pytest.mark.parametrize("args, message", [
    (["--method", "fast"], "invalid choice: 'fast'"),
    (["--method", "oat", "--outcome", "talks_soon"], "unknown outcome 'talks_soon'"),
    (["--method", "oat", "--param", "oil.brnt"], "Did you mean 'oil.brent_price'?"),
    (["--method", "mc", "-n", "0"], "-n must be at least 1"),
    (["--method", "oat", "-n", "5"], "-n does not apply to --method oat"),
])
def test_sensitivity_bad_input(tmp_path, args, message):
    res = cli("sensitivity", *args, "--out", str(tmp_path / "o"))
    assert res.returncode == 2 and message in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "o").exists()


STEPPED = '''title = "Cap enforced, then eased"
description = "A scenario of a user's own, with a change and a further step."

[[change]]
parameter = "sanctions.level"
value = 0.75
why = "assumption: enforcement"

[[step]]
lever = "sanctions"
date = 2025-03-01
level = 0.5
phase_in_days = 10
why = "assumption: partial relief"
'''


def test_every_command_accepts_every_scenario_that_simulate_accepts(tmp_path):
    """A scenario of one's own with [[step]] tables, given by path, and the built-in history,
    go through every command that takes a scenario (they used to crash in reports)."""
    import sanctions_model as sm

    mine = tmp_path / "my" / "cap.toml"
    mine.parent.mkdir()
    mine.write_text(STEPPED)
    assert sm.simulate(str(mine), days=60).params["sanctions.step1.level"] == 0.5
    commands = [
        ["run", "--scenario", str(mine), "--days", "60", "--unconstrained", "--out", str(tmp_path / "run")],
        ["run", "--scenario", "history_2022_2025", "--days", "60", "--out", str(tmp_path / "history")],
        ["compare", "--scenario", "status_quo", "--scenario", str(mine), "--samples", "8", "--days", "60",
         "--workers", "1", "--unconstrained", "--out", str(tmp_path / "compare")],
        ["sweep", "-n", "4", "--scenario", str(mine), "--across", f"status_quo,{mine}", "--days", "60",
         "--workers", "1", "--out", str(tmp_path / "sweep")],
        ["sensitivity", "--method", "oat", "--scenario", str(mine), "--param", "oil.brent_price", "--days", "60",
         "--workers", "1", "--out", str(tmp_path / "sens")],
        ["params", "--scenario", str(mine), "--group", "sanctions"],
    ]
    for args in commands:
        res = cli(*args)
        assert res.returncode == 0, (args[0], res.stderr[-2000:])
        assert "Traceback" not in res.stderr
    report = (tmp_path / "run" / "report.md").read_text()
    assert "`sanctions.level` = 0.75: assumption: enforcement" in report
    assert "from 2025-03-01, `sanctions` moves to 0.5 over 10 days: assumption: partial relief" in report
    assert "| `sanctions.step1.level` | (new) | 0.5 |" in report
    assert "cap" in (tmp_path / "compare" / "report.md").read_text()


def test_a_quoted_number_is_refused_the_same_way_by_every_command(tmp_path):
    bad = tmp_path / "quoted.toml"
    bad.write_text(STEPPED.replace("value = 0.75", 'value = "0.75"'))
    for args in (["run", "--out", str(tmp_path / "o")], ["compare", "--out", str(tmp_path / "o")],
                 ["sweep", "-n", "4", "--out", str(tmp_path / "o")], ["params"],
                 ["sensitivity", "--method", "oat", "--out", str(tmp_path / "o")]):
        res = cli(*args, "--scenario", str(bad))
        assert res.returncode == 2, (args[0], res.stderr)
        assert "line 6: 'value' in [[change]] 1 must be a number (write it without quotes)" in res.stderr
        assert len(res.stderr.strip().splitlines()) == 1 and not (tmp_path / "o").exists()
