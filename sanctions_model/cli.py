"""The ``sanctions-model`` command line: a thin layer over the Python API.

Every user error exits with status 2 and one line naming the problem; nothing is
half-written.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import signal
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from ._version import __version__
from .errors import InputError, InputWarning, SolverError, suggest
from .inputs.params import list_scenarios, load_params, params_dir, scenario_names
from .runs.executors import WorkerError


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2 like every other input error, and help
    text that reads the parameter files is worked out only when help is shown (:data:`_LATE_HELP`)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"{self.prog}: {message}")

    def format_help(self) -> str:
        for action in self._actions:
            for mark, text in _LATE_HELP.items():
                if action.help and mark in action.help:
                    action.help = action.help.replace(mark, text())
        return super().format_help()


def _days(text: str, low: float = 1.0, high: float = 3650.0) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--days must be a number, got {text!r}") from None
    if not low <= value <= high:  # NaN fails too
        raise argparse.ArgumentTypeError(f"--days must be between {low:g} and {high:g}, got {text}")
    return value


def _explorer_days(text: str) -> float:
    """The explorer's horizon: at least 100 days, as its chances by day 100 need (``explore.compute.MIN_DAYS``)."""
    return _days(text, low=100.0)


def _assignment(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"--set takes NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


def _range(text: str) -> tuple[str, tuple[float, float]]:
    name, sep, bounds = text.partition("=")
    low, colon, high = bounds.partition(":")
    try:
        if not sep or not colon or not name.strip():
            raise ValueError
        return name.strip(), (float(low), float(high))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--vary takes NAME=LOW:HIGH with numbers, got {text!r}") from None


def _whole(option: str, minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """A converter for a whole-number option from ``minimum`` (to ``maximum``), with a message naming it."""
    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} must be a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{option} must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"{option} must be at most {maximum}, got {value}")
        return value

    return convert


def _every(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--every must be a whole number of days, got {text!r}") from None
    if not (value >= 1 and value.is_integer()):  # NaN fails too
        raise argparse.ArgumentTypeError(f"--every must be a whole number of days >= 1, got {text}")
    return value


def _names(text: str) -> list[str]:
    """A comma-separated list of names, none of them empty."""
    names = [x.strip() for x in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"--across takes scenario names separated by commas, got {text!r}")
    return names


def _seed(text: str) -> int:
    from .runs.designs import check_seed

    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed must be a whole number, got {text!r}") from None
    try:  # (InputError is a ValueError: checked apart from the conversion)
        return check_seed(number)
    except InputError as exc:
        raise argparse.ArgumentTypeError(f"--{exc}".rstrip(".")) from None


def _real(option: str, accept: Callable[[float], bool], what: str) -> Callable[[str], float]:
    """A converter for a real-number option that ``accept`` holds for (NaN never does), with a message naming it."""
    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} must be a number, got {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"{option} must be {what}, got {text}")
        return value

    return convert


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not 0 < value < float("inf"):  # NaN fails too
        raise argparse.ArgumentTypeError(f"expected a positive, finite number, got {text}")
    return value


def _workers(text: str) -> int:
    from .runs.executors import MAX_WORKERS_PER_CORE, check_workers

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--workers must be a whole number, got {text!r}") from None
    most = MAX_WORKERS_PER_CORE * (os.cpu_count() or 1)
    if not 1 <= value <= most:
        raise argparse.ArgumentTypeError(f"--workers must be a whole number from 1 to {most} ({MAX_WORKERS_PER_CORE} "
                                         f"per core on this machine), got {value}")
    check_workers(value)
    return value


def _execution_options(parser: argparse.ArgumentParser) -> None:
    """--workers, --scheduler and --progress, the same on every command that runs many models."""
    parser.add_argument("--workers", type=_workers, default=None,
                        help="local processes (default: every core; the numbers do not depend on it)")
    parser.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT", help="run on this Dask cluster")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="progress bars (default: only on a terminal)")


#: The example that ends each subcommand's --help (tests parse each one).
EXAMPLES = {
    "run": "sanctions-model run --scenario hard_way --set oil.brent_price=65 --days 730 --out out/hard",
    "compare": "sanctions-model compare --scenario status_quo --scenario hard_way --samples 256 --out out/compare",
    "sweep": "sanctions-model sweep --design lhs -n 2000 --across status_quo,hard_way --trajectories strain "
             "--out out/lhs",
    "sensitivity": "sanctions-model sensitivity --method morris -n 20 --scenario hard_way --out out/morris",
    "report": "sanctions-model report --samples 200 --sobol-n 64 --out out/full",
    "export": "sanctions-model export out/lhs --out out/lhs.nc",
    "backtest": "sanctions-model backtest --out out/backtest",
    "calibrate": "sanctions-model calibrate --out out/calibrated.toml",
    "constrain": "sanctions-model constrain -n 2000 --out out/ensemble.parquet --report out/constrained",
    "discover": "sanctions-model discover --scenario hard_way --outcome p_ceasefire_horizon --above 0.5 "
                "--out out/discover",
    "explore": "sanctions-model explore --scenario hard_way --port 8050",
    "scenarios": "sanctions-model scenarios",
    "params": "sanctions-model params --group oil --scenario hard_way",
}


def _sobol_runs(n: int) -> str:
    """What a Sobol' analysis of every uncertainty costs, from the parameter files in use."""
    try:
        from .runs.designs import uncertainties

        k = len(uncertainties(load_params()))
    except InputError:  # a broken parameter folder is reported by the command itself
        return f"{n} x (k + 2) runs for k uncertainties"
    return f"{n * (k + 2):,} runs for the {k} uncertainties"


#: Marks in help text and what replaces them when help is shown: the parameter files are read (and the
#: sampling library imported) then, not on every command.
_LATE_HELP: dict[str, Callable[[], str]] = {"{SOBOL_RUNS_1024}": lambda: _sobol_runs(1024)}


def _constrained_options(cmd: argparse.ArgumentParser) -> None:
    """``--ensemble`` and ``--unconstrained``: which constrained ensemble's members a command's chances are
    also computed over."""
    cmd.add_argument("--ensemble", default=None, metavar="FILE",
                     help="the constrained ensemble whose members are projected too "
                          "(default params/constrained-ensemble.parquet)")
    cmd.add_argument("--unconstrained", action="store_true",
                     help="leave the constrained ensemble out (quicker; the chances without the record's constraint)")


def _ensemble(args: argparse.Namespace, start: str = "2025-01-20") -> str | None | bool:
    """``--ensemble FILE`` / ``--unconstrained`` as a study's ``ensemble_path``, a given file read and checked
    against the runs' start date before any work (None: the default file, if there is one; False: none)."""
    if args.unconstrained and args.ensemble:
        raise InputError("--ensemble and --unconstrained: give one or the other.")
    if args.unconstrained:
        return False
    if args.ensemble:
        from .inputs import ensemble_file

        given = ensemble_file.read(args.ensemble)
        if given.meta["as_of"] != start:
            raise InputError(f"{args.ensemble}: an ensemble on the record to {given.meta['as_of']}; the runs start "
                             f"on {start}, so they continue an ensemble cut on that day.")
    return str(args.ensemble) if args.ensemble else None


def _calibration(args: argparse.Namespace) -> bool | str:
    """``--calibrated FILE`` as ``load_params``' calibration (``--uncalibrated`` is the default and changes nothing)."""
    if args.calibrated is not None and args.uncalibrated:
        raise InputError("--calibrated and --uncalibrated: give one or the other.")
    return args.calibrated if args.calibrated is not None else False


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sanctions-model", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        """A subcommand whose --help ends with an example (EXAMPLES)."""
        return sub.add_parser(name, help=summary, description=summary[0].upper() + summary[1:] + ".",
                              epilog=f"example:\n  {EXAMPLES[name]}",
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    run = command("run", "run the model once and write trajectories, outcomes and a report")
    run.add_argument("--scenario", action="append", default=[], metavar="NAME",
                     help="scenario name or TOML path; repeat to apply several in order")
    run.add_argument("--set", action="append", default=[], type=_assignment, metavar="NAME=VALUE",
                     dest="assignments", help="set a parameter (checked against its range); repeatable")
    run.add_argument("--days", type=_days, default=730.0, help="horizon in days (default 730)")
    run.add_argument("--out", required=True, help="output directory (written whole or not at all)")
    run.add_argument("--force", action="store_true", help="replace an existing output directory")
    run.add_argument("--calibrated", default=None, metavar="FILE",
                     help="start from a single-point calibration's fitted values and joined state (a diagnostic, "
                          "e.g. params/calibrated.toml); default: the base file's values and the recorded state")
    run.add_argument("--uncalibrated", action="store_true", help=argparse.SUPPRESS)  # the default since issue 16
    _constrained_options(run)
    _execution_options(run)

    cmp_ = command("compare", "run scenarios side by side and write a comparison report")
    cmp_.add_argument("--scenario", action="append", default=[], metavar="NAME",
                      help="scenario to include (default: every scenario in params/scenarios)")
    cmp_.add_argument("--days", type=_days, default=730.0, help="horizon in days (default 730)")
    cmp_.add_argument("--samples", type=_non_negative_int, default=256,
                      help="Latin-hypercube assumption sets per scenario for the 'how sure' section (0 skips it)")
    cmp_.add_argument("--seed", type=_seed, default=20250120, help="seed of the sampled assumptions")
    cmp_.add_argument("--out", required=True, help="output directory (written whole or not at all)")
    cmp_.add_argument("--force", action="store_true", help="replace an existing output directory")
    _constrained_options(cmp_)
    _execution_options(cmp_)

    swp = command("sweep", "run the model over a sampling design, streamed to Parquet, resumable")
    swp.add_argument("--design", default="lhs", help="lhs, sobol, grid, oat, morris or saltelli (default lhs)")
    swp.add_argument("-n", type=_whole("-n", 1), required=True, dest="n",
                     help="samples (lhs, sobol), levels per parameter (grid), trajectories (morris) "
                          "or base samples (saltelli)")
    swp.add_argument("--vary", action="append", default=[], type=_range, metavar="NAME=LOW:HIGH",
                     help="vary a parameter over this range (narrows, widens, or adds a lever); repeatable")
    swp.add_argument("--fix", action="append", default=[], metavar="NAME", help="hold an uncertainty at its base value")
    swp.add_argument("--scenario", action="append", default=[], metavar="NAME",
                     help="scenario(s) applied to the base before sampling; repeat to compose")
    swp.add_argument("--across", type=_names, default=None,
                     metavar="S1,S2,...", help="run the same samples under each of these scenarios")
    swp.add_argument("--set", action="append", default=[], type=_assignment, metavar="NAME=VALUE",
                     dest="assignments", help="set a parameter of the base; repeatable")
    swp.add_argument("--seed", type=_seed, default=20250120, help="seed of the design")
    swp.add_argument("--days", type=_days, default=730.0, help="horizon in days (default 730)")
    swp.add_argument("--chunk-size", type=_whole("--chunk-size", 1), default=2000,
                     help="samples per chunk (default 2000)")
    swp.add_argument("--trajectories", type=lambda s: [x.strip() for x in s.split(",") if x.strip()], default=[],
                     metavar="NAME,...", help="stocks or flows to keep over time")
    swp.add_argument("--every", type=_every, default=7.0, help="days between kept trajectory points (default 7)")
    swp.add_argument("--levels", type=_whole("--levels", 2), default=4,
                     help="grid levels of the Morris design (default 4)")
    _execution_options(swp)
    swp.add_argument("--out", required=True, help="sweep directory (resumed if it holds the same sweep)")

    sen = command("sensitivity", "which assumptions decide the outcomes (SALib methods)")
    sen.add_argument("--method", choices=["oat", "morris", "sobol", "mc"],
                     help="required unless --from is given (then: what the sweep's design supports)")
    sen.add_argument("--from", dest="sweep", metavar="SWEEP_DIR",
                     help="compute the indices from a stored sweep (a saltelli, morris or oat design, or any design "
                          "for mc) instead of running the model")
    sen.add_argument("-n", type=_whole("-n", 1), default=None, dest="n",
                     help="trajectories (morris), base samples (sobol, a power of 2) or samples (mc); oat takes none")
    sen.add_argument("--scenario", action="append", default=[], metavar="NAME", help="scenario(s) for the levers")
    sen.add_argument("--outcome", action="append", default=[], metavar="NAME", help="outcome to analyse; repeatable")
    sen.add_argument("--param", action="append", default=[], metavar="NAME",
                     help="assumption to vary (default: every uncertainty); repeatable")
    sen.add_argument("--seed", type=_seed, default=None, help="seed of the sample (default 20250120; not with --from)")
    sen.add_argument("--days", type=_days, default=None, help="horizon in days (default 730; not with --from)")
    sen.add_argument("--out", required=True, help="output directory (written whole or not at all)")
    sen.add_argument("--force", action="store_true", help="replace an existing output directory")
    _execution_options(sen)

    rep = command("report", "the full analysis as one report: scenarios, how sure, which assumptions "
                                        "decide, and the article's assumptions one by one")
    rep.add_argument("--scenario", action="append", default=[], metavar="NAME",
                     help="scenario to include (default: every scenario in params/scenarios)")
    rep.add_argument("--days", type=_days, default=730.0, help="horizon in days (default 730)")
    rep.add_argument("--samples", type=_non_negative_int, default=1000,
                     help="Latin-hypercube assumption sets per scenario (default 1000)")
    rep.add_argument("--sobol-n", type=_non_negative_int, default=1024, dest="sobol_n",
                     help="base samples of the Sobol' analysis, a power of 2 (default 1024: {SOBOL_RUNS_1024})")
    rep.add_argument("--seed", type=_seed, default=20250120, help="seed of every sample")
    _constrained_options(rep)
    rep.add_argument("--out", required=True, help="output directory (written whole or not at all)")
    rep.add_argument("--force", action="store_true", help="replace an existing output directory")
    _execution_options(rep)

    exp = command("export", "write a sweep as an xarray dataset to netCDF (.nc) or Zarr (.zarr)")
    exp.add_argument("sweep", help="sweep directory")
    exp.add_argument("--out", required=True, help="FILE.nc (compressed netCDF4 via h5netcdf) or DIR.zarr (needs zarr)")
    exp.add_argument("--force", action="store_true", help="replace an existing file (.nc) or whole store (.zarr)")

    bt = command("backtest", "run 2022-02-24 to 2025-01-20 on the historical path and compare with the "
                                         "record (data/history.csv)")
    bt.add_argument("--scenario", default="history_2022_2025", help="the historical scenario (name or path)")
    bt.add_argument("--calibrated", default=None, metavar="FILE",
                    help="the calibration whose values the back-test uses (default params/calibrated.toml)")
    bt.add_argument("--uncalibrated", action="store_true", help="use the base file's values instead")
    bt.add_argument("--out", required=True, help="output directory (written whole or not at all)")
    bt.add_argument("--force", action="store_true", help="replace an existing output directory")

    cal = command("calibrate", "fit the oil tax take, the discount's response to sanctions and the Fund's "
                               "starting size and investment to the record (least squares, within each "
                               "parameter's range)")
    cal.add_argument("--out", required=True, help="TOML file for the fitted values (e.g. params/calibrated.toml)")
    cal.add_argument("--max-evals", type=_whole("--max-evals", 2), default=200, dest="max_evals",
                     help="most evaluations of the fit (default 200; each Jacobian adds one run per parameter)")
    cal.add_argument("--force", action="store_true", help="replace an existing file")
    cal.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="count the back-test runs as they finish (default: only on a terminal)")

    con = command("constrain", "draw many sets of assumptions, run each through 2022-2025 and keep those that "
                               "reproduce the record (a constrained ensemble, as FaIR's)")
    con.add_argument("-n", type=_whole("-n", 1), default=100_000,
                     help="prior members drawn (default 100,000; about 2 minutes on 2 cores)")
    con.add_argument("--seed", type=_seed, default=20220224, help="seed of the prior's Latin hypercube")
    con.add_argument("--as-of", default="2025-01-20", dest="as_of", metavar="DATE",
                     help="use the record up to this date only (default 2025-01-20)")
    con.add_argument("--accept", type=_positive, default=1.5,
                     help="largest error kept, in the back-test's tolerances averaged over its series (default 1.5)")
    con.add_argument("--out", required=True, help="Parquet file for the kept members "
                                                  "(e.g. params/constrained-ensemble.parquet)")
    con.add_argument("--report", default=None, metavar="DIR",
                     help="also write the report (prior against posterior) into this directory")
    con.add_argument("--force", action="store_true", help="replace an existing file or report directory")
    _execution_options(con)

    dis = command("discover", "under which assumptions does an outcome come? Scenario discovery (PRIM, with CART "
                              "as a second view) on the constrained ensemble's members or on a stored sweep")
    dis.add_argument("--from", dest="sweep", metavar="SWEEP_DIR",
                     help="a stored sweep to look into (default: the constrained ensemble's members, projected)")
    dis.add_argument("--scenario", default=None, metavar="NAME",
                     help="the scenario the members are projected under (default status_quo), or which of the "
                          "sweep's scenarios")
    dis.add_argument("--outcome", default="p_ceasefire_horizon", metavar="NAME",
                     help="the outcome the event is read from (default p_ceasefire_horizon)")
    cut = dis.add_mutually_exclusive_group()
    cut.add_argument("--above", type=_real("--above", math.isfinite, "a finite number"), default=None, metavar="X",
                     help="the event: the outcome above X (default: above 0.5, more likely than not)")
    cut.add_argument("--below", type=_real("--below", math.isfinite, "a finite number"), default=None, metavar="X",
                     help="the event: the outcome below X")
    dis.add_argument("--threshold", type=_real("--threshold", lambda v: 0 < v <= 1,
                                                        "a density above 0 and at most 1"), default=0.8,
                     help="the density the box must reach, 0-1 (default 0.8: the event in four sets of five inside)")
    dis.add_argument("--days", type=_days, default=None,
                     help="horizon of the members' projection in days (default 730; a sweep has its own)")
    dis.add_argument("--ensemble", default=None, metavar="FILE",
                     help="the constrained ensemble (default params/constrained-ensemble.parquet)")
    dis.add_argument("--seed", type=_seed, default=20250120,
                     help="seed of the members' projection and of CART's tree")
    dis.add_argument("--out", required=True, help="output directory (written whole or not at all)")
    dis.add_argument("--force", action="store_true", help="replace an existing output directory")
    _execution_options(dis)

    exp_ = command("explore", "start the explorer, a page in the browser with a slider per lever and key assumption, "
                              "the chances of talks and a ceasefire and the constrained members' band")
    exp_.add_argument("--scenario", default="status_quo", metavar="NAME_OR_FILE",
                      help="the scenario the page opens on (default status_quo), or a scenario file")
    exp_.add_argument("--days", type=_explorer_days, default=730.0, help="horizon in days, 100 to 3650 (default 730)")
    exp_.add_argument("--ensemble", default=None, metavar="FILE",
                      help="the constrained ensemble the band is drawn from "
                           "(default params/constrained-ensemble.parquet)")
    exp_.add_argument("--members", type=_whole("--members", 1), default=100,
                      help="members drawn for the band (default 100: a redraw in about 0.6 s on this kind of machine)")
    exp_.add_argument("--host", default="127.0.0.1",
                      help="address to bind to (default 127.0.0.1, this machine only; the page has no login)")
    exp_.add_argument("--port", type=_whole("--port", 1, 65535), default=8050, help="TCP port (default 8050)")

    command("scenarios", "list the scenarios with their descriptions")

    prm = command("params", "print every parameter with value, unit, range and source")
    prm.add_argument("--scenario", action="append", default=[], metavar="NAME",
                     help="show values after applying these scenarios")
    prm.add_argument("--group", help="only this group (e.g. oil, fiscal, russia)")
    prm.add_argument("--calibrated", default=None, metavar="FILE",
                     help="show the values after a single-point calibration file (e.g. params/calibrated.toml)")
    prm.add_argument("--uncalibrated", action="store_true", help=argparse.SUPPRESS)  # the default since issue 16
    return parser


def _command_line(argv: Sequence[str]) -> str:
    return "sanctions-model " + " ".join(shlex.quote(a) for a in argv)


def _once(option: str, names: Sequence[str], what: str = "parameter") -> None:
    """Refuse a name given twice to one option (which of the two should win?)."""
    duplicates = sorted({n for n in names if list(names).count(n) > 1})
    if duplicates:
        verb = "is set" if option == "--set" else "is given"
        raise InputError(f"{option}: {what} '{duplicates[0]}' {verb} more than once.")


def _reads(*paths: object) -> list[Any]:
    """What a command reads, which its output must neither be nor hold: the parameter and data folders
    (:func:`~sanctions_model.inputs.resources.standing_inputs`) and ``paths``."""
    from .inputs.resources import standing_inputs

    return [*standing_inputs(), *(p for p in paths if isinstance(p, (str, os.PathLike)))]


def _cmd_run(args: argparse.Namespace, argv: Sequence[str]) -> None:
    from .analysis.projection import SEED
    from .analysis.studies import constrained_projection
    from .outdir import check_target
    from .report import write_run
    from .runs.run import simulate

    _once("--set", [name for name, _ in args.assignments])
    params = load_params(args.scenario, dict(args.assignments), origin="--set", calibration=_calibration(args))
    ensemble = _ensemble(args, params.start_date.isoformat())
    check_target(args.out, args.force, _reads(ensemble))  # an existing or unwritable --out is refused before any run
    run = simulate(params=params, days=args.days)
    # the members carry their own values and states: never the single-point calibration's
    plain = params if not params.meta.get("calibration") else load_params(args.scenario, dict(args.assignments),
                                                                            origin="--set")
    projection, note = constrained_projection([(run.label, plain)], args.days, SEED, None, ensemble, fans=False)
    out = write_run(run, args.out, _command_line(argv), force=args.force, constrained=(projection, note))
    print(f"wrote {out}/report.md, trajectories.csv, outcomes.json, trajectories.png")


class Interrupted(Exception):
    """Stopped by Ctrl-C or SIGTERM; the message says what was kept."""


def _by_interrupt(exc: BaseException) -> bool:
    """Whether ``exc`` is Ctrl-C's ``KeyboardInterrupt`` (or SIGTERM's, :func:`_terminate_as_interrupt`) or was
    caused by it. A signal's handler runs between two steps of Python code; where that code was called by
    a compiled extension that does not look for it (Numba's, Arrow's), Python reports a ``SystemError``
    ("... returned a result with an exception set") whose cause is the interrupt."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return False


def _chunks_written(out: str) -> int:
    import json
    from pathlib import Path

    try:
        status = json.loads((Path(out) / "manifest.json").read_text()).get("chunk_status", {})
    except (OSError, ValueError, AttributeError):
        return 0
    return sum(v == "done" for v in status.values())


def _cmd_compare(args: argparse.Namespace, argv: Sequence[str]) -> None:
    from .inputs.params import load_scenario
    from .jobs import comparison
    from .outdir import check_target

    scenarios = args.scenario or scenario_names()
    _once("--scenario", scenarios, "scenario")
    if not scenarios:
        raise InputError(f"no scenarios in {params_dir() / 'scenarios'} to compare; give --scenario NAME or FILE.")
    for name in scenarios:
        load_scenario(name)  # fail fast, before any work
    check_target(args.out, args.force, _reads(args.ensemble))
    start = time.perf_counter()
    out = comparison(scenarios, args.out, _command_line(argv), days=args.days, samples=args.samples,
                     seed=args.seed, force=args.force, ensemble_path=_ensemble(args),
                     log=lambda line: print(line, file=sys.stderr))
    print(f"wrote {out}/report.md in {time.perf_counter() - start:.0f} s")


def _cmd_sweep(args: argparse.Namespace, argv: Sequence[str]) -> None:
    from .runs.designs import Design
    from .runs.sweep import run_sweep

    _once("--set", [name for name, _ in args.assignments])
    _once("--vary", [name for name, _ in args.vary])
    _once("--fix", args.fix)
    _once("--across", args.across or [], "scenario")
    _once("--trajectories", args.trajectories, "variable")
    base = load_params(args.scenario, dict(args.assignments), origin="--set")
    if args.across:
        scenarios = [(name, load_params([*args.scenario, name], dict(args.assignments), origin="--set"))
                     for name in args.across]
    else:
        scenarios = [("+".join(args.scenario) or "base", base)]
    design = Design.build(args.design, base, args.n, args.seed, vary=dict(args.vary), fix=args.fix,
                          chunk_size=args.chunk_size, num_levels=args.levels)
    ran: list[int] = []

    def log(line: str) -> None:  # after every check, once the directory is ready
        print(f"sweep: {args.design} design, {design.rows:,} samples x {len(scenarios)} scenario(s), "
              f"{design.k} varied parameters, {design.n_chunks} chunks. {line}", file=sys.stderr)

    start = time.perf_counter()
    try:
        out = run_sweep(design, scenarios, args.out, days=args.days, trajectories=args.trajectories,
                        every=args.every, workers=args.workers, scheduler=args.scheduler, progress=args.progress,
                        on_chunk=ran.append, log=log)
    except (KeyboardInterrupt, SystemError) as exc:
        if not _by_interrupt(exc):
            raise
        written = _chunks_written(args.out)
        raise Interrupted(f"{written} of {design.n_chunks} chunks written in {args.out}; run the same command to "
                          "resume.") from None
    elapsed = time.perf_counter() - start
    files = f"outcomes.parquet, samples.parquet{', trajectories.parquet' if args.trajectories else ''}"
    if not ran:
        print(f"{out} already holds this sweep, complete ({design.n_chunks} chunks); nothing was run.")
    elif len(ran) < design.n_chunks:
        print(f"wrote the {len(ran)} missing chunks of {design.n_chunks} into {out} ({files}, manifest.json) in "
              f"{elapsed:.1f} s; the other {design.n_chunks - len(ran)} were written by an earlier run.")
    else:
        print(f"wrote {files} and manifest.json into {out} in {elapsed:.1f} s")


def _cmd_sensitivity(args: argparse.Namespace, argv: Sequence[str]) -> None:
    from .analysis.sensitivity import default_outcomes
    from .analysis.studies import DEFAULT_N, sensitivity_study, sweep_sensitivity_study
    from .core.outcomes import OUTCOMES
    from .outdir import check_target
    from .report.sensitivity import write_sensitivity
    from .runs.designs import uncertainties

    _once("--param", args.param or [])
    _once("--outcome", args.outcome, "outcome")
    for out in args.outcome:
        if out not in OUTCOMES:
            raise InputError(f"unknown outcome '{out}'.{suggest(out, OUTCOMES)}")
    outcomes = args.outcome or None  # None: the defaults the horizon defines (the sweep's, with --from)
    check_target(args.out, args.force, _reads(args.sweep))  # before any work
    if args.sweep is not None:
        given = [opt for opt, value in (("-n", args.n), ("--param", args.param), ("--seed", args.seed is not None),
                                        ("--days", args.days is not None)) if value]
        if given:
            raise InputError(f"--from {args.sweep}: the sweep fixes the sample and its horizon; drop "
                             f"{' and '.join(given)}.")
        if len(args.scenario) > 1:
            raise InputError("--from: name one of the sweep's scenarios with --scenario.")
        study = sweep_sensitivity_study(args.sweep, outcomes, args.scenario[0] if args.scenario else None,
                                        args.method)
    else:
        if args.method is None:
            raise InputError("sensitivity needs --method (oat, morris, sobol or mc), or --from SWEEP_DIR.")
        params = load_params(args.scenario)
        for name in args.param:
            if name not in params:
                raise InputError(f"--param: unknown parameter '{name}'.{suggest(name, params)}")
        if args.method == "oat" and args.n is not None:
            raise InputError("-n does not apply to --method oat, which runs each assumption at the low and the "
                             "high end of its range; drop -n.")
        n = DEFAULT_N[args.method] if args.n is None else args.n
        if n < 1:
            raise InputError(f"-n must be at least 1, got {n}.")
        names = args.param or uncertainties(params)
        days = 730.0 if args.days is None else args.days
        seed = 20250120 if args.seed is None else args.seed
        study = sensitivity_study(args.method, params, names, outcomes or default_outcomes(days), n, seed, days)
    path = write_sensitivity(study, args.out, _command_line(argv), force=args.force)
    print(f"wrote {path}/report.md and indices.csv")


def _cmd_report(args: argparse.Namespace, argv: Sequence[str]) -> None:
    from .jobs import full_report
    from .outdir import check_target

    check_target(args.out, args.force, _reads(args.ensemble))
    start = time.perf_counter()
    out = full_report(args.out, _command_line(argv), scenarios=args.scenario or None, days=args.days,
                      samples=args.samples, sobol_n=args.sobol_n, seed=args.seed, force=args.force,
                      ensemble_path=_ensemble(args))
    print(f"wrote {out}/report.md in {time.perf_counter() - start:.0f} s")


def _cmd_export(args: argparse.Namespace, argv: Sequence[str]) -> None:
    import shutil
    from pathlib import Path

    from .outdir import check_file, check_target, make_parents
    from .runs.sweep_result import open_sweep, require_zarr

    out = Path(args.out)
    if out.suffix not in (".nc", ".zarr"):
        raise InputError(f"--out must end in .nc (netCDF) or .zarr (Zarr), got {out.name!r}.")
    if out.suffix == ".zarr":
        require_zarr()  # before any folder is made for it
    sweep = open_sweep(args.sweep)
    if not sweep.complete:
        print(f"note: {args.sweep} is not complete (stopped, or still running): the export holds the chunks written "
              "so far; run the same sweep command again to finish it.", file=sys.stderr)
    # a netCDF file, or a Zarr store (a directory, which --force replaces whole)
    check = check_file if out.suffix == ".nc" else check_target
    make_parents(check(out, args.force, _reads(args.sweep)))
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True) if tmp.is_dir() else tmp.unlink(missing_ok=True)
    (sweep.to_netcdf if out.suffix == ".nc" else sweep.to_zarr)(tmp)
    if out.is_dir():
        shutil.rmtree(out)
    tmp.replace(out)
    print(f"wrote {out}")


def _cmd_backtest(args: argparse.Namespace, argv: Sequence[str]) -> None:
    from .analysis.backtesting import backtest
    from .analysis.calibrate import load_calibrated
    from .outdir import check_target
    from .report.backtest import write_backtest

    check_target(args.out, args.force, _reads(getattr(args, "calibrated", None)))
    if args.uncalibrated and args.calibrated:
        raise InputError("--calibrated and --uncalibrated: give one or the other.")
    if args.uncalibrated:
        result, calibrated = backtest(args.scenario, calibration=False), None
    else:
        path = args.calibrated or params_dir() / "calibrated.toml"
        fit, table, start = load_calibrated(path)
        result = backtest(args.scenario, calibration=path)
        calibrated = (fit, table, start, backtest(args.scenario, calibration=False))
    out = write_backtest(result, args.out, _command_line(argv), force=args.force, calibrated=calibrated,
                         ensembles=_ensemble_files())
    print(f"wrote {out}/report.md: {int(result.targets['met'].sum())} of {len(result.targets)} target checks met")


def _ensemble_files() -> tuple[Any, Any]:
    """The committed constrained ensembles (on the record to 2025-01-20, and to 2024-01-20), where present."""
    from .inputs import ensemble_file

    def read(name: str) -> Any:
        path = params_dir() / name
        return ensemble_file.read(path) if path.is_file() else None

    return read(ensemble_file.DEFAULT_NAME), read(ensemble_file.AS_OF_2024_NAME)


def _cmd_calibrate(args: argparse.Namespace, argv: Sequence[str]) -> None:
    from .analysis.backtesting import backtest
    from .analysis.calibrate import calibrate, write_calibrated
    from .outdir import check_file

    out = check_file(args.out, args.force)
    print(f"calibrating: up to {args.max_evals} steps, each one back-test run and one more per fitted parameter "
          "for the Jacobian, integrated together; one to two minutes with the defaults ...", file=sys.stderr)
    result = calibrate(max_evaluations=args.max_evals)
    write_calibrated(result, out, _command_line(argv), force=args.force)
    before = backtest(calibration=False).targets["met"]
    after = backtest(calibration=out).targets["met"]
    print(f"wrote {out}: cost {result.cost_before:.3g} -> {result.cost_after:.3g} in {result.evaluations} runs; "
          f"target checks met {int(before.sum())} -> {int(after.sum())} of {len(after)}")
    for name, row in result.table.iterrows():
        bound = "  (at the edge of its range)" if row["at_bound"] else ""
        print(f"  {name}: {row['before']:g} -> {row['value']:.4g} +/- {row['standard_error']:.2g} {row['unit']}{bound}")


def _cmd_constrain(args: argparse.Namespace, argv: Sequence[str]) -> None:
    from .analysis.constrain import check_as_of, constrain, write_ensemble
    from .inputs.params import load_params as _load
    from .outdir import check_file, check_target, make_parents
    from .report.constrain import write_constrain_report

    out = check_file(args.out, args.force, _reads())
    if args.report is not None:
        check_target(args.report, args.force, _reads(out))
    params = _load("history_2022_2025", calibration=False)
    check_as_of(args.as_of, params.start_date)
    print(f"constraining: {args.n:,} prior members, each run through the history to {args.as_of} "
          f"(about {args.n / 900:,.0f} s on 2 cores) ...", file=sys.stderr)
    ens = constrain(args.n, args.seed, as_of=args.as_of, accept=args.accept, params=params)
    command = _command_line(argv)
    write_ensemble(ens, make_parents(out), command, force=args.force)
    print(f"wrote {out}: {ens.n_accepted:,} of {ens.n_prior:,} members kept ({ens.n_accepted / ens.n_prior:.1%}), "
          f"effective size {ens.effective_size:,.0f}; history runs {ens.seconds:.0f} s"
          + ("" if ens.enough else " -- too few to report shares from"))
    if args.report is not None:
        report = write_constrain_report(ens, args.report, command, force=args.force, ensemble_path=out)
        print(f"wrote {report}/report.md")


def _cmd_discover(args: argparse.Namespace, argv: Sequence[str]) -> None:
    from .analysis.studies import check_event, ensemble_discovery, sweep_discovery
    from .core.outcomes import OUTCOMES
    from .outdir import check_target
    from .report.discover import write_discovery

    if args.outcome not in OUTCOMES:
        raise InputError(f"--outcome: unknown outcome '{args.outcome}'.{suggest(args.outcome, OUTCOMES)}")
    if args.sweep is None:
        check_event(args.outcome, 730.0 if args.days is None else args.days)
    above = args.below is None
    cut = args.below if not above else (0.5 if args.above is None else args.above)
    if OUTCOMES[args.outcome][0] == "probability" and not 0 <= cut <= 1:
        raise InputError(f"--{'above' if above else 'below'}: '{args.outcome}' is a chance, so its cut is a share 0-1 "
                         f"(0.5: better than even), got {cut:g}.")
    check_target(args.out, args.force, _reads(args.sweep, args.ensemble))  # before any work
    if args.sweep is not None:
        given = [opt for opt, value in (("--days", args.days), ("--ensemble", args.ensemble)) if value is not None]
        if given:
            raise InputError(f"--from {args.sweep}: the sweep fixes its runs; drop {' and '.join(given)}.")
        study = sweep_discovery(args.sweep, args.outcome, cut, above, args.scenario, args.threshold, args.seed)
    else:
        from .analysis.projection import default_path, project
        from .inputs import ensemble_file

        scenario = "status_quo" if args.scenario is None else args.scenario
        start = load_params(scenario).start_date.isoformat()  # every check before any work
        path = args.ensemble or default_path()
        if os.path.isdir(path):
            raise InputError(f"{path} is a directory; give the ensemble's .parquet file.")
        if not os.path.isfile(path):
            raise InputError(f"{path}: no such ensemble file (`make constrain` writes the default one).")
        as_of = ensemble_file.read(path).meta["as_of"]
        if as_of != start:
            raise InputError(f"{path}: an ensemble on the record to {as_of}; scenario '{scenario}' starts on {start}, "
                             "so its members need an ensemble cut on that day.")
        days = 730.0 if args.days is None else args.days
        print(f"discover: projecting the constrained ensemble's members under {scenario} for {days:g} days ...",
              file=sys.stderr)
        projection = project([scenario], days, ensemble=path, seed=args.seed, workers=args.workers, fans=False)
        study = ensemble_discovery(projection, scenario, args.outcome, cut, above, args.threshold, args.seed)
    out = write_discovery(study, args.out, _command_line(argv), force=args.force)
    print(study.discovery.sentence())
    print(f"wrote {out}/report.md, box.csv, leaves.csv, trajectory.csv, peeling.png")


def _cmd_explore(args: argparse.Namespace, argv: Sequence[str]) -> None:
    from .explore import serve

    serve(host=args.host, port=args.port, scenario=args.scenario, days=args.days, ensemble=args.ensemble,
          members=args.members)


def _cmd_scenarios(args: argparse.Namespace, argv: Sequence[str]) -> None:
    table = list_scenarios()
    if table.empty:
        print(f"no scenarios in {params_dir() / 'scenarios'} (each is a TOML file there).")
    for name, row in table.iterrows():
        print(f"{name}\n  {row['title']}: {row['description']}\n  changes: {row['changes']}\n")


def _cmd_params(args: argparse.Namespace, argv: Sequence[str]) -> None:
    params = load_params(args.scenario, calibration=_calibration(args))
    frame = params.to_frame()
    if args.group is not None:
        groups = sorted(set(frame["group"]))
        if args.group not in groups:
            raise InputError(f"unknown group '{args.group}'.{suggest(args.group, groups)} Groups: {', '.join(groups)}.")
        frame = frame[frame["group"] == args.group]
    for name, row in frame.iterrows():
        print(f"{name} = {row['value']:g} {row['unit']}  [{row['low']:g} .. {row['high']:g}]")
        print(f"    {row['description']}")
        print(f"    source: {row['source']}")


COMMANDS = {"run": _cmd_run, "compare": _cmd_compare, "sweep": _cmd_sweep, "sensitivity": _cmd_sensitivity,
            "report": _cmd_report, "export": _cmd_export, "backtest": _cmd_backtest, "calibrate": _cmd_calibrate,
            "constrain": _cmd_constrain, "discover": _cmd_discover, "explore": _cmd_explore,
            "scenarios": _cmd_scenarios, "params": _cmd_params}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``sanctions-model``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    previous = _terminate_as_interrupt()
    shown = warnings.showwarning
    warnings.showwarning = _note
    try:
        args = build_parser().parse_args(argv)
        from .runs.executors import execution

        # --workers, --scheduler, --progress reach every batch (a sweep connects to its scheduler itself)
        options = {k: getattr(args, k, None) for k in ("workers", "scheduler", "progress")}
        if args.command == "sweep":
            options["scheduler"] = None
        with execution(**options):
            COMMANDS[args.command](args, argv)
    except InputError as exc:
        print(f"sanctions-model: error: {exc}", file=sys.stderr)
        return 2
    except SolverError as exc:
        print(f"sanctions-model: the solver failed: {exc}", file=sys.stderr)
        return 1
    except Interrupted as exc:
        print(f"sanctions-model: interrupted: {exc}", file=sys.stderr)
        return 130
    except (KeyboardInterrupt, SystemError) as exc:
        if not _by_interrupt(exc):
            raise
        print("sanctions-model: interrupted; nothing was written (outputs are written whole or not at all).",
              file=sys.stderr)
        return 130
    except WorkerError as exc:
        print(f"sanctions-model: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    finally:
        warnings.showwarning = shown
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


def _note(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None,
          line: str | None = None) -> None:
    """Print a warning as one line: an :class:`InputWarning` as a note on the input, others with their kind."""
    kind = "note" if issubclass(category, InputWarning) else f"warning ({category.__name__})"
    print(f"sanctions-model: {kind}: {message}", file=sys.stderr)


def _terminate_as_interrupt() -> Any:
    """SIGTERM (a scheduler stopping the job) cleans up as Ctrl-C does: temporary outputs removed,
    the sweep's lock released. Only in the main thread (signals cannot be set elsewhere)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, handler)


if __name__ == "__main__":
    sys.exit(main())
