"""Bad input, command by command and function by function: every case exits 2 with one line
(the command line) or raises InputError naming the problem (the API), before any work, and
writes nothing. Run in-process (sanctions_model.cli.main), so that a broad table stays fast."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import sanctions_model as sm
from sanctions_model.cli import main
from sanctions_model.errors import InputError

NOT_UTF8 = b'title = "caf\xe9"\ndescription = "d"\n'


@pytest.fixture
def files(tmp_path):
    (tmp_path / "latin.toml").write_bytes(NOT_UTF8)
    (tmp_path / "afile").write_text("x")
    (tmp_path / "restate.toml").write_text(
        'title = "t"\ndescription = "d"\nstart_date = 2022-02-24\n[[change]]\nparameter = "oil.brent_price"\n'
        'value = 80\nlow = -500\nhigh = 120\nwhy = "x"\n')
    (tmp_path / "typo.toml").write_text('title = "t"\ndescription = "d"\n[[chnage]]\nparameter = "x"\n')
    return tmp_path


CLI_CASES = {
    "run": [
        (["--days", "0.5"], "--days must be between 1 and 3650"),
        (["--days", "1e-9"], "--days must be between 1 and 3650"),
        (["--days", "nan"], "--days must be between 1 and 3650"),
        (["--days", "5000"], "--days must be between 1 and 3650"),
        (["--scenario", "{d}/latin.toml"], "not UTF-8 text"),
        (["--scenario", "{d}/typo.toml"], "unknown key 'chnage'"),
        (["--scenario", "{d}/restate.toml"], "goes beyond what the quantity allows"),
        (["--set", "sanctions.level=0.5", "--set", "sanctions.level=0.6"], "is set more than once"),
        (["--out", "{d}/afile/x"], "is a file, not a directory"),
        (["--out", "/proc/sanctions-model-x"], "is not writable"),
    ],
    "compare": [
        (["--workers", "0"], "--workers"),
        (["--workers", "1000"], "--workers must be a whole number from 1 to"),
        (["--days", "0.5"], "--days must be between 1 and 3650"),
        (["--scenario", "{d}/latin.toml"], "not UTF-8 text"),
        (["--out", "{d}/afile/x"], "is a file, not a directory"),
        (["--samples", "90000000"], "GiB, more than the"),
    ],
    "sweep": [
        (["-n", "4", "--vary", "oil.brent_price=-5:100"], "goes beyond what the quantity allows"),
        (["-n", "4", "--vary", "sanctions.level=2:5"], "goes beyond what the quantity allows"),
        (["-n", "4", "--vary", "oil.brent_price=60:70", "--vary", "oil.brent_price=50:60"], "given more than once"),
        (["-n", "4", "--fix", "oil.brent_price", "--fix", "oil.brent_price"], "given more than once"),
        (["-n", "4", "--across", "hard_way,hard_way"], "scenario 'hard_way' is given more than once"),
        (["-n", "4", "--set", "oil.brent_price=60", "--set", "oil.brent_price=70"], "is set more than once"),
        (["-n", "4", "--design", "morris", "--levels", "0"], "--levels"),
        (["-n", "4", "--design", "morris", "--levels", "1"], "--levels"),
        (["-n", "4", "--workers", "1000"], "--workers must be a whole number from 1 to"),
        (["-n", "4", "--scenario", "{d}/latin.toml"], "not UTF-8 text"),
        (["-n", "4", "--out", "{d}/afile/x"], "is a file, not a directory"),
    ],
    "sensitivity": [
        (["--method", "oat", "--workers", "0"], "--workers"),
        (["--method", "sobol", "-n", "3"], "must be a power of 2"),
        (["--method", "oat", "--param", "forces.aid_reference"], "is a single point"),
        (["--method", "sobol", "-n", "1073741824"], "GiB, more than the"),
        (["--method", "oat", "--scenario", "{d}/typo.toml"], "unknown key 'chnage'"),
        (["--method", "oat", "--out", "{d}/afile/x"], "is a file, not a directory"),
    ],
    "report": [
        (["--workers", "-1"], "--workers"),
        (["--samples", "90000000"], "GiB, more than the"),
        (["--sobol-n", "67108864"], "GiB, more than the"),
        (["--days", "0.5"], "--days must be between 1 and 3650"),
        (["--days", "60"], "must be at least 100 days, got 60"),
        (["--out", "/proc/sanctions-model-x"], "is not writable"),
    ],
    "calibrate": [
        (["--out", "{d}", "--force"], "is a directory; give the path of a file"),
    ],
    "params": [
        (["--scenario", "{d}/latin.toml"], "not UTF-8 text"),
    ],
}


@pytest.mark.parametrize("command, args, message", [
    (command, args, message) for command, cases in CLI_CASES.items() for args, message in cases])
def test_cli_bad_input_exits_2_with_one_line(files, capsys, command, args, message):
    args = [a.format(d=files) for a in args]
    needs_out = command not in ("params",) and "--out" not in args
    argv = [command, *args, *(["--out", str(files / "o")] if needs_out else [])]
    before = sorted(p.name for p in files.iterdir())
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 2, err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert sorted(p.name for p in files.iterdir()) == before  # nothing written


API_CASES = [
    (lambda: sm.simulate(days=0.5), "days must be between 1"),
    (lambda: sm.simulate(days="long"), "days must be a number"),
    (lambda: sm.Design.build("lhs", sm.load_params(), 8, seed=1.7), "seed must be a whole number"),
    (lambda: sm.Design.build("lhs", sm.load_params(), 8, seed=-1), "seed must be a whole number"),
    (lambda: sm.Design.build("lhs", sm.load_params(), 8, seed=np.int64(2 ** 40)), "seed must be a whole number"),
    (lambda: sm.Design.build("morris", sm.load_params(), 8, seed=1, num_levels=1), "num_levels"),
    (lambda: sm.Design.build("lhs", sm.load_params(), 8, seed=1, vary={"oil.brent_price": (-1.0, 9.0)}),
     "goes beyond what the quantity allows"),
    (lambda: sm.Design.build("lhs", sm.load_params(), 8, seed=1, vary=[("oil.brent_price", (1, 2))]),
     "vary must be a dict"),
    (lambda: sm.execution(workers=0).__enter__(), "workers must be a whole number"),
    (lambda: sm.load_params("../nowhere/x.toml"), "scenario file not found"),
    (lambda: sm.simulate_batch({**_values(), "oil.brent_prcie": 3}), "Did you mean 'oil.brent_price'"),
    (lambda: sm.simulate_batch({**_values(), "oil.brent_price": [60, 70], "sanctions.level": [0.1, 0.2, 0.3]}),
     "the arrays differ in length"),
    (lambda: sm.simulate_batch({k: v for k, v in _values().items() if k != "oil.brent_price"}),
     "values lacks 'oil.brent_price'"),
    (lambda: sm.simulate_batch({**_values(), "oil.brent_price": [np.nan, 60.0]}), "not a finite number"),
    (lambda: sm.simulate_batch({**_values(), "oil.brent_price": [[60.0, 61.0]]}), "1-d array"),
    (lambda: sm.simulate_batch({**_values(), "oil.brent_price": "cheap"}), "a number or an array"),
    (lambda: sm.simulate_batch([1, 2]), "values must be a dict"),
    (lambda: sm.simulate("hard_way", params=sm.load_params()), "either params= or scenario"),
    (lambda: sm.simulate(params={"oil.brent_price": 60}), "params must be a ParameterSet"),
    (lambda: sm.simulate({"hard_way": 1}), "scenario must be a name"),
    (lambda: sm.simulate(step=0), "step must be a number of days above 0"),
    (lambda: sm.simulate(step=float("nan")), "step must be a number of days above 0"),
    (lambda: sm.simulate(rtol=-1), "rtol must be a number from"),
    (lambda: sm.simulate(rtol=0.5), "rtol must be a number from"),
    (lambda: sm.simulate(overrides={"oil.brent_price": "cheap"}), "must be a number, got 'cheap'"),
    (lambda: sm.simulate(overrides={"oil.brent_prcie": 60}), "Did you mean 'oil.brent_price'"),
    (lambda: sm.simulate(overrides=[("oil.brent_price", 60)]), "overrides must be a dict"),
    (lambda: sm.simulate(days=float("inf")), "days must be between 1"),
    (lambda: sm.simulate(days=True), "days must be a number"),
    (lambda: sm.load_params(calibration=3), "calibration must be True, False or a path"),
    (lambda: sm.load_params(base="/nowhere/base.toml"), "parameter file not found"),
    (lambda: sm.run_ensemble([], 730, 10, seed=1), "needs at least one scenario"),
    (lambda: sm.run_ensemble(["status_quo"], 730, 0, seed=1), "n must be a whole number"),
    (lambda: sm.run_ensemble(["nope"], 730, 10, seed=1), "unknown scenario 'nope'"),
    (lambda: sm.open_sweep("/nowhere/sweep"), "sweep"),
    (lambda: sm.Design.build("lhz", sm.load_params(), 8, seed=1), "unknown design 'lhz'"),
    (lambda: sm.Design.build("lhs", sm.load_params(), 0, seed=1), "at least 1"),
    (lambda: sm.Design.build("lhs", sm.load_params(), 8, seed=1, fix=["nope"]), "unknown parameter 'nope'"),
]


def _values():
    return sm.load_params().values()


@pytest.mark.parametrize("call, message", API_CASES, ids=[m for _, m in API_CASES])
def test_api_bad_input_raises_input_error(call, message):
    with pytest.raises(InputError, match=message):
        call()


def test_a_single_name_to_fix_is_one_name_not_its_letters():
    design = sm.Design.build("lhs", sm.load_params(), 8, seed=1, fix="oil.brent_price")
    assert "oil.brent_price" not in design.names and len(design.names) > 50


def test_export_of_a_missing_sweep(tmp_path, capsys):
    assert main(["export", str(tmp_path / "none"), "--out", str(tmp_path / "x.nc")]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert not Path(tmp_path / "x.nc").exists()


@pytest.mark.parametrize("method", ["oat", "morris", "sobol", "mc"])
def test_an_outcome_undefined_in_some_runs_is_refused_not_reported_as_no_effect(method):
    """An outcome NaN in some runs (as the chance within a year is over a shorter horizon): every method
    refuses it, saying in how many runs, rather than reporting indices of zero."""
    from sanctions_model.analysis import sensitivity as sa

    problem = {"names": ["a", "b"], "bounds": [[0.0, 1.0], [0.0, 1.0]]}

    def f(x):
        return np.where(x[:, 0] > 0.5, x[:, 1], np.nan)

    call = {"oat": lambda: sa.oat(problem, f, 1), "morris": lambda: sa.morris(problem, f, 4, seed=1),
            "sobol": lambda: sa.sobol(problem, f, 8, seed=1), "mc": lambda: sa.monte_carlo(problem, f, 16, seed=1)}
    with pytest.raises(InputError, match=r"outcome 'y' is undefined \(NaN or infinite\) in [\d,]+ of [\d,]+ runs"):
        call[method]()


# --- a generated matrix: every option of every subcommand, each with values it must refuse -------------------

#: What each subcommand needs besides the option under test (kept small, so that a value that
#: slipped through would still run quickly and be caught by the exit-status assertion).
BASE = {
    "run": ["--days", "20"], "compare": ["--samples", "4", "--days", "20", "--workers", "1"],
    "sweep": ["-n", "4", "--days", "20", "--workers", "1"],
    "sensitivity": ["--method", "oat", "--param", "oil.brent_price", "--days", "20", "--workers", "1"],
    "report": ["--samples", "4", "--sobol-n", "4", "--days", "100", "--workers", "1"],
    "export": ["{d}/nosweep"], "backtest": [], "calibrate": ["--max-evals", "2"], "scenarios": [], "params": [],
    "constrain": ["-n", "20", "--workers", "1"],
    "discover": ["--days", "20", "--outcome", "p_talks_horizon", "--workers", "1"],
    "explore": [],  # every value below is refused before the server starts (one that is not would hang the test)
}
NUMBERS = {  # option -> values it must refuse
    "--days": ["abc", "nan", "inf", "-5", "0", "0.5", "1e-9", "3651", "", "1e400", "0x10"],
    "-n": ["abc", "nan", "-5", "0", "2.5", ""],
    "--samples": ["abc", "-1", "2.5", "nan", "", "1e3"],
    "--sobol-n": ["abc", "-1", "3", "0", "2.5", "", "1e3"],
    "--seed": ["abc", "-1", "2.5", "nan", "4294967296", ""],
    "--chunk-size": ["abc", "0", "-3", "2.5", "", "nan"],
    "--every": ["abc", "0", "0.5", "nan", "-7"],
    "--levels": ["abc", "0", "1", "-2", "", "2.5"],
    "--workers": ["abc", "0", "-1", "1000", "2.5", "", "nan"],
    "--max-evals": ["abc", "1", "-1", "2.5", "", "nan"],
    "--accept": ["abc", "nan", "0", "-1", "inf", ""],
    "--port": ["abc", "0", "-1", "65536", "2.5", "", "nan"],
    "--members": ["abc", "0", "-1", "2.5", "", "nan", "100000"],
    "--host": ["", "no such host!"],
    "--threshold": ["abc", "nan", "0", "-0.5", "1.5", "", "inf"],
    "--above": ["abc", "nan", "inf", "-inf", ""],
    "--below": ["abc", "nan", "inf", ""],
    "--as-of": ["abc", "", "2021-01-01", "2022-05-30", "2025-01-21", "2030-01-01", "nan"],
}
NAMES = {  # option -> values naming nothing that exists
    "--scenario": ["nope", "hardway", "{d}/missing.toml", "{d}/latin.toml", "{d}/typo.toml", "{d}/afile", "",
                   "status_quo,hard_way", "{d}/restate.toml"],
    "--param": ["nope", "oil.brent", "", "forces.aid_reference"],
    "--outcome": ["nope", "days_to_talks", "", "p_ceasefire_1_year"],  # the last undefined over 20 days
    "--fix": ["nope"],
    "--trajectories": ["nope", "stran"],
    "--group": ["nope", "oill", ""],
    "--design": ["nope", "lhss"],
    "--method": ["nope"],
    "--across": ["nope", "status_quo,nope"],
    "--set": ["oil.brent_price", "=3", "oil.brent=70", "oil.brent_price=500", "oil.brent_price=nan",
              "oil.brent_price=cheap", "sanctions.start_day=1900-01-01", "", "sanctions.level=2",
              "sanctions.level=true"],
    "--vary": ["oil.brent_price", "oil.brent_price=1", "oil.brent_price=b:c", "oil.brent_price=9:1",
               "oil.brent_price=-5:100", "nope=1:2", "oil.brent_price=nan:5"],
    "--calibrated": ["{d}/missing.toml", "{d}/latin.toml"],
    "--ensemble": ["{d}/missing.parquet", "{d}/latin.toml", "{d}/afile"],
    "--out": ["{d}/afile/x", "/proc/sanctions-model-x", "{d}/" + "x" * 300, "{d}", "{d}/afile"],
}


def _matrix() -> list[tuple[str, str, str]]:
    from sanctions_model.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices  # type: ignore[attr-defined]
    cases = []
    for command, p in sub.items():
        options = {s for a in p._actions for s in a.option_strings}
        for option, values in {**NUMBERS, **NAMES}.items():
            if option in options:
                cases += [(command, option, v) for v in values]
    return cases


MATRIX = _matrix()


@pytest.mark.parametrize("command, option, value", MATRIX, ids=[f"{c} {o} {v[:20]}" for c, o, v in MATRIX])
def test_every_option_refuses_bad_values(files, capsys, command, option, value):
    value = value.format(d=files)
    base = [a.format(d=files) for a in BASE[command] if True]
    if option == "--every":
        base += ["--trajectories", "strain"]
    if option in ("--param", "--method"):  # the option under test replaces the base's
        base = [a for i, a in enumerate(base) if not (a == option or (i and base[i - 1] == option))]
        if option == "--param":
            base += ["--method", "oat"] if "--method" not in base else []
    if option in ("-n", "--max-evals"):
        base = [a for i, a in enumerate(base) if not (a == option or (i and base[i - 1] == option))]
    argv = [command, *base, f"{option}={value}" if value.startswith("-") or not value else option,
            *([] if value.startswith("-") or not value else [value])]
    takes_out = any(a.dest == "out" for a in _parser_of(command)._actions)
    if takes_out and option != "--out":
        argv += ["--out", str(files / "o")]
    before = sorted(p.name for p in files.iterdir())
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 2, (argv, err)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert sorted(p.name for p in files.iterdir()) == before


@pytest.mark.parametrize("argv, message", [
    (["explore", "--days", "50"], "--days must be between 100 and 3650, got 50"),
    (["explore", "--port", "70000"], "--port must be at most 65535, got 70000"),
])
def test_the_explorer_s_options_are_named_in_their_errors(capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def _parser_of(command: str):
    from sanctions_model.cli import build_parser

    parser = build_parser()
    return next(a for a in parser._actions if a.dest == "command").choices[command]  # type: ignore[attr-defined]


def test_the_matrix_is_broad():
    assert len(MATRIX) >= 300, len(MATRIX)


# --- a generated API matrix: each public function's arguments with values of the wrong kind ---------------

BAD_NUMBERS = [None, "x", -1, float("nan"), float("inf"), [1, 2], True]
API_MATRIX = [
    *[(f"simulate(days={v!r})", lambda v=v: sm.simulate(days=v)) for v in BAD_NUMBERS],
    *[(f"simulate(step={v!r})", lambda v=v: sm.simulate(step=v, days=30)) for v in BAD_NUMBERS],
    *[(f"simulate(rtol={v!r})", lambda v=v: sm.simulate(rtol=v, days=30)) for v in BAD_NUMBERS],
    *[(f"simulate_batch(days={v!r})", lambda v=v: sm.simulate_batch(_values(), days=v)) for v in BAD_NUMBERS],
    *[(f"run_ensemble(n={v!r})", lambda v=v: sm.run_ensemble(["status_quo"], 30, v, seed=1))
      for v in [None, "x", -1, 0, 2.5, True]],
    *[(f"run_ensemble(days={v!r})", lambda v=v: sm.run_ensemble(["status_quo"], v, 4, seed=1)) for v in BAD_NUMBERS],
    *[(f"run_ensemble(workers={v!r})", lambda v=v: sm.run_ensemble(["status_quo"], 30, 4, seed=1, workers=v))
      for v in ["x", -1, 0, 2.5, True, 10_000]],
    *[(f"Design.build(n={v!r})", lambda v=v: sm.Design.build("lhs", sm.load_params(), v, seed=1))
      for v in [None, "x", -1, 0, 2.5, True]],
    *[(f"Design.build(seed={v!r})", lambda v=v: sm.Design.build("lhs", sm.load_params(), 4, seed=v))
      for v in [None, "x", -1, 2.5, True, 2 ** 33]],
    *[(f"Design.build(chunk_size={v!r})", lambda v=v: sm.Design.build("lhs", sm.load_params(), 4, seed=1,
                                                                         chunk_size=v)) for v in ["x", 0, 2.5, True]],
    *[(f"load_params(overrides={v!r})", lambda v=v: sm.load_params(overrides=v))
      for v in [[1], "x", {"oil.brent_price": None}, {"oil.brent_price": True}, {"oil.brent_price": [60]},
                {3: 4}, {"oil.brent_price": float("nan")}]],
    *[(f"load_params(scenario={v!r})", lambda v=v: sm.load_params(v)) for v in [3, [3], ["nope"], "", {"a": 1}]],
    *[(f"simulate(overrides={v!r})", lambda v=v: sm.simulate(overrides=v, days=30))
      for v in [[1], "x", {"oil.brent_price": None}, {"oil.brent_price": True}, {"oil.brent_price": [60]},
                {3: 4}, {"oil.brent_price": float("nan")}]],
    *[(f"execution(workers={v!r})", lambda v=v: sm.execution(workers=v).__enter__())
      for v in ["x", -1, 0, 2.5, True, 10_000]],
]


@pytest.mark.parametrize("label, call", API_MATRIX, ids=[label for label, _ in API_MATRIX])
def test_every_api_argument_refuses_values_of_the_wrong_kind(label, call):
    with pytest.raises(InputError):
        call()


def test_the_api_tables_are_broad():
    assert len(API_CASES) + len(API_MATRIX) >= 126, len(API_CASES) + len(API_MATRIX)


def test_an_output_that_is_or_holds_an_input_is_refused_even_with_force(tmp_path, capsys, monkeypatch):
    """--force replaces an output; it must never delete what the command reads (a sweep given with
    --from, an ensemble file, the parameter folder), nor take '.', '..' or '' for a directory."""
    from sanctions_model.inputs.params import params_dir

    design = sm.Design.build("lhs", sm.load_params(), 4, seed=1)
    sweep = tmp_path / "sweep"
    sm.run_sweep(design, [("base", sm.load_params())], sweep, days=30, workers=1)
    before = sorted(p.name for p in sweep.iterdir())
    for argv in (["sensitivity", "--from", str(sweep), "--out", str(sweep), "--force"],
                 ["sensitivity", "--from", str(sweep), "--out", str(tmp_path), "--force"],
                 ["discover", "--from", str(sweep), "--out", str(sweep), "--force"],
                 ["backtest", "--out", str(params_dir()), "--force"]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert "writing there would delete it" in err and len(err.splitlines()) == 1, (argv, err)
        assert sorted(p.name for p in sweep.iterdir()) == before
    work = tmp_path / "work" / "in"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    for out in ("..", ".", ""):
        assert main(["backtest", "--out", out, "--force"]) == 2, out
        assert "give the path of a directory" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["in"] and not any(work.iterdir())


@pytest.mark.parametrize("manifest", ["{}", "[]", '{"settings": {"design": {}}}'])
def test_a_damaged_manifest_is_one_line_for_every_reader(tmp_path, capsys, manifest):
    design = sm.Design.build("lhs", sm.load_params(), 4, seed=1)
    sweep = tmp_path / "sweep"
    sm.run_sweep(design, [("base", sm.load_params())], sweep, days=30, workers=1)
    (sweep / "manifest.json").write_text(manifest)
    for argv in (["export", str(sweep), "--out", str(tmp_path / "x.nc")],
                 ["discover", "--from", str(sweep), "--out", str(tmp_path / "d")],
                 ["sensitivity", "--from", str(sweep), "--out", str(tmp_path / "s")]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert "not a sweep manifest" in err and len(err.splitlines()) == 1, (argv, err)
    with pytest.raises(InputError, match="not a sweep manifest"):
        sm.open_sweep(sweep)
    assert not any((tmp_path / name).exists() for name in ("x.nc", "d", "s"))


def test_api_arguments_of_the_wrong_shape_are_refused_before_anything_is_written(tmp_path):
    p = sm.load_params()
    d = sm.Design.build("lhs", p, 4, seed=1)
    out = tmp_path / "sweep"
    for scenarios, message in (([], "got \\[\\]"), (("base", p), "without the list around it"),
                               (["status_quo"], "load it with sm.load_params"), ([("x", {})], "among them"),
                               ([("b", p), ("b", p)], "its own label")):
        with pytest.raises(InputError, match=message):
            sm.run_sweep(d, scenarios, out, days=30, workers=1)
    with pytest.raises(InputError, match="design must be a Design"):
        sm.run_sweep("lhs", [("b", p)], out, days=30, workers=1)
    with pytest.raises(InputError, match="out must be the path"):
        sm.run_sweep(d, [("b", p)], None, days=30, workers=1)
    assert not out.exists()
    with pytest.raises(InputError, match="params must be a ParameterSet"):
        sm.Design.build("lhs", None, 4, seed=1)
    for pair in (50, ("50", "60"), (1, 2, 3)):
        with pytest.raises(InputError, match="needs \\(low, high\\), two numbers"):
            sm.Design.build("lhs", p, 4, seed=1, vary={"oil.brent_price": pair})
    assert "oil.brent_price" in sm.Design.build("lhs", p, 4, seed=1, vary={"oil.brent_price": np.array([50, 60])}).names
    with pytest.raises(InputError, match="give the path of a sweep directory"):
        sm.open_sweep(5)
    with pytest.raises(InputError, match="each scenario once"):
        sm.run_ensemble(["status_quo", "status_quo"], days=60, n=4, seed=1, workers=1)
    assert list(sm.run_ensemble("status_quo", days=60, n=4, seed=1, workers=1).shares().index) == ["status_quo"]


def test_an_existing_zarr_store_is_replaced_with_force_and_kept_without(tmp_path, capsys, monkeypatch):
    """A Zarr store is a directory: --force replaces it whole, and without --force it is kept."""
    import sys
    import types

    from sanctions_model.runs.sweep_result import SweepResult

    def fake_zarr(self, path):  # zarr is not a dependency; the command's handling of the store is tested
        Path(path).mkdir()
        (Path(path) / "new").write_text("new")
        return Path(path)

    monkeypatch.setattr(SweepResult, "to_zarr", fake_zarr)
    monkeypatch.setitem(sys.modules, "zarr", types.ModuleType("zarr"))  # the command asks for it first
    design = sm.Design.build("lhs", sm.load_params(), 4, seed=1)
    sweep = tmp_path / "sweep"
    sm.run_sweep(design, [("base", sm.load_params())], sweep, days=30, workers=1)
    store = tmp_path / "y.zarr"
    store.mkdir()
    (store / "old").write_text("old")
    assert main(["export", str(sweep), "--out", str(store)]) == 2
    assert "already exists" in capsys.readouterr().err and (store / "old").exists()
    assert main(["export", str(sweep), "--out", str(store), "--force"]) == 0
    assert sorted(p.name for p in store.iterdir()) == ["new"]


@pytest.mark.parametrize("edit", [
    lambda s: s.update(days="x"), lambda s: s.update(days=-5), lambda s: s["design"].update(kind="bogus"),
    lambda s: s.update(design=5), lambda s: s.update(every=0), lambda s: s["start_dates"].pop("base"),
    lambda s: s.update(trajectories="strain"), lambda s: s.pop("version"), lambda s: s["design"].update(chunk_size=1),
    lambda s: s.pop("settings_hash"), lambda s: s.update(scenarios={"nope": "0"})])
def test_settings_edited_after_the_sweep_ran_are_refused_by_every_reader(tmp_path, capsys, edit):
    """The settings are what the numbers were computed under; edited ones would be read as such (an export of
    a chunk size changed by hand wrote half the samples)."""
    design = sm.Design.build("lhs", sm.load_params(), 4, seed=1, chunk_size=2)
    sweep = tmp_path / "sweep"
    sm.run_sweep(design, [("base", sm.load_params())], sweep, days=30, trajectories=["strain"], every=10, workers=1)
    manifest = json.loads((sweep / "manifest.json").read_text())
    edit(manifest["settings"])
    (sweep / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="not the ones the sweep ran with"):
        sm.open_sweep(sweep)
    for argv in (["export", str(sweep), "--out", str(tmp_path / "x.nc")],
                 ["discover", "--from", str(sweep), "--out", str(tmp_path / "d")],
                 ["sensitivity", "--from", str(sweep), "--out", str(tmp_path / "s")]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert "not the ones the sweep ran with" in err and len(err.splitlines()) == 1, (argv, err)
    assert not list(tmp_path.glob("x.nc")) and not (tmp_path / "d").exists()
    if "settings_hash" in manifest["settings"]:  # resuming: the recorded digest is found, not its settings
        with pytest.raises(InputError, match="not the ones the sweep ran with|different settings"):
            sm.run_sweep(design, [("base", sm.load_params())], sweep, days=30, trajectories=["strain"], every=10,
                         workers=1)


def test_export_to_zarr_without_zarr_makes_no_folder(tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "zarr", None)  # as if not installed: importing it raises ImportError
    design = sm.Design.build("lhs", sm.load_params(), 2, seed=1)
    sweep = tmp_path / "sweep"
    sm.run_sweep(design, [("base", sm.load_params())], sweep, days=10, workers=1)
    assert main(["export", str(sweep), "--out", str(tmp_path / "new" / "deeper" / "x.zarr")]) == 2
    assert "needs the zarr package" in capsys.readouterr().err and not (tmp_path / "new").exists()


def test_a_parameter_folder_without_scenarios_is_said_so(tmp_path, capsys, monkeypatch):
    import shutil

    from sanctions_model.inputs.params import params_dir

    shutil.copy(params_dir() / "base.toml", tmp_path / "base.toml")
    monkeypatch.setenv("SANCTIONS_MODEL_PARAMS", str(tmp_path))
    for argv in (["scenarios"], ["compare", "--samples", "4", "--out", str(tmp_path / "c")]):
        assert main(argv) == 2, argv
        assert "no scenarios folder" in capsys.readouterr().err
    (tmp_path / "scenarios").mkdir()
    assert main(["scenarios"]) == 0 and "no scenarios in" in capsys.readouterr().out
    assert main(["compare", "--samples", "4", "--out", str(tmp_path / "c")]) == 2
    assert "no scenarios in" in capsys.readouterr().err and not (tmp_path / "c").exists()


def test_a_seed_out_of_range_is_named_as_such(tmp_path, capsys):
    for seed in ("-1", "99999999999999999999"):
        assert main(["compare", f"--seed={seed}", "--out", str(tmp_path / "c")]) == 2
        assert "from 0 to 4294967295" in capsys.readouterr().err
    assert main(["compare", "--seed", "abc", "--out", str(tmp_path / "c")]) == 2
    assert "must be a whole number, got 'abc'" in capsys.readouterr().err


def test_simulate_batch_refuses_values_the_quantity_cannot_take_and_allows_the_rest():
    values = sm.load_params().values()
    for name, bad in (("oil.brent_price", -50.0), ("sanctions.level", 5.0), ("forces.permanent_loss_share", 3.0),
                      ("sanctions.start_day", 1e5)):
        with pytest.raises(InputError, match=f"'{name}' = .* is beyond what the quantity allows"):
            sm.simulate_batch({**values, name: [values[name], bad]}, days=30)
    beyond_range = sm.simulate_batch({**values, "oil.brent_price": [30.0, 200.0]}, days=30)  # range 40-125
    assert len(beyond_range) == 2 and beyond_range["p_talks_horizon"].notna().all()


#: Refused in one line before any work, each with a message naming what was typed: a name given twice or
#: empty, an interval past the horizon, a date out of range, a design size SALib only warns of, a cut no
#: chance can pass, a directory for a file. ({d}: the test's folder.)
NAMED = [
    (["run", "--scenario", "{d}/dup.toml", "--days", "30"], "sets 'oil.brent_price' again"),
    (["sweep", "--design", "lhs", "-n", "4", "--across", ","], "scenario names separated by commas"),
    (["sweep", "--design", "lhs", "-n", "4", "--days", "120", "--every", "200", "--trajectories", "strain"],
     "longer than the horizon"),
    (["compare", "--scenario", "status_quo", "--scenario", "status_quo"], "given more than once"),
    (["run", "--set", "sanctions.start_day=2020-01-01", "--days", "30"],
     "= 2020-01-01 (day -1846) is outside its range"),
    (["sweep", "--design", "saltelli", "-n", "3"], "power of 2 for the saltelli design"),
    (["sensitivity", "--method", "morris", "-n", "4", "--param", "oil.brent_price", "--param", "oil.brent_price"],
     "'oil.brent_price' is given more than once"),
    (["discover", "--above", "5"], "is a chance, so its cut is a share 0-1"),
    (["discover", "--ensemble", "{d}"], "is a directory; give the ensemble's .parquet file"),
    (["compare", "--samples", "4", "--ensemble", "{d}"], "is a directory"),
]


@pytest.mark.parametrize("argv, message", NAMED, ids=[" ".join(argv[:3]) for argv, _ in NAMED])
def test_refused_in_one_line_naming_what_was_typed(tmp_path, capsys, argv, message):
    (tmp_path / "dup.toml").write_text('title = "t"\ndescription = "d"\n'
                                       '[[change]]\nparameter = "oil.brent_price"\nvalue = 60\nwhy = "a"\n'
                                       '[[change]]\nparameter = "oil.brent_price"\nvalue = 70\nwhy = "b"\n')
    assert main([*(a.format(d=tmp_path) for a in argv), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "o").exists()


def test_exporting_an_unfinished_sweep_says_so(tmp_path, capsys):
    import json

    design = sm.Design.build("lhs", sm.load_params(), 4, seed=1)
    sweep = tmp_path / "sweep"
    sm.run_sweep(design, [("base", sm.load_params())], sweep, days=30, workers=1)
    manifest = json.loads((sweep / "manifest.json").read_text())
    (sweep / "manifest.json").write_text(json.dumps({**manifest, "complete": False}))
    assert main(["export", str(sweep), "--out", str(tmp_path / "x.nc")]) == 0
    assert "is not complete" in capsys.readouterr().err and (tmp_path / "x.nc").is_file()


def test_rank_correlations_from_too_few_sets_are_refused(tmp_path, capsys):
    for n in ("1", "2"):
        assert main(["sensitivity", "--method", "mc", "-n", n, "--out", str(tmp_path / "o")]) == 2
        assert "need at least 10 sets" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
