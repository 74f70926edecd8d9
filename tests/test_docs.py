"""The public API is documented: numpydoc sections on every public function and method, and
every public name in the API reference (docs/api.md)."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

import sanctions_model as sm
from sanctions_model import jobs
from sanctions_model.analysis import calibrate, sensitivity, studies
from sanctions_model.inputs import history
from sanctions_model.report import backtest as backtest_report
from sanctions_model.report import full
from sanctions_model.runs import ensemble, sweep

backtest_module = importlib.import_module("sanctions_model.analysis.backtesting")

DOCS = Path(__file__).resolve().parent.parent / "docs"
MODULES = {"sanctions_model": sm, "sanctions_model.analysis.sensitivity": sensitivity,
           "sanctions_model.runs.ensemble": ensemble,
           "sanctions_model.runs.sweep": sweep, "sanctions_model.report.full": full,
           "sanctions_model.inputs.history": history, "sanctions_model.analysis.backtesting": backtest_module,
           "sanctions_model.report.backtest": backtest_report, "sanctions_model.analysis.calibrate": calibrate,
           "sanctions_model.analysis.studies": studies, "sanctions_model.jobs": jobs}
PUBLIC = {
    "sanctions_model": list(sm.__all__),
    "sanctions_model.analysis.sensitivity": ["oat", "morris", "sobol", "monte_carlo", "monte_carlo_sample",
                                             "problem_from_params", "model_function", "trajectory_function",
                                             "analyze", "analyze_sweep"],
    "sanctions_model.runs.ensemble": ["run_ensemble", "at_each_end"],
    "sanctions_model.runs.sweep": ["run_sweep", "read_sweep"],
    "sanctions_model.report.full": ["write_report"],
    "sanctions_model.analysis.studies": ["full_study", "comparison_study", "sensitivity_study",
                                         "sweep_sensitivity_study"],
    "sanctions_model.jobs": ["full_report", "comparison"],
    "sanctions_model.inputs.history": ["load_history"],
    "sanctions_model.analysis.backtesting": ["backtest", "compare", "targets", "comparable"],
    "sanctions_model.report.backtest": ["write_backtest"],
    "sanctions_model.analysis.calibrate": [
        "calibrate", "write_calibrated", "load_calibrated", "cost_at", "joined_start"],
}


def _api() -> list[tuple[str, object]]:
    items = []
    for module, names in PUBLIC.items():
        for name in names:
            obj = getattr(MODULES[module], name)
            if name.startswith("__") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            items.append((f"{module}.{name}", obj))
            if inspect.isclass(obj) and not issubclass(obj, Exception):
                for attr, member in vars(obj).items():
                    if attr.startswith("_") or not inspect.isfunction(member):
                        continue
                    items.append((f"{module}.{name}.{attr}", member))
    return items


API = _api()


@pytest.mark.parametrize("qualname, obj", API, ids=[q for q, _ in API])
def test_public_callable_has_numpydoc_sections(qualname, obj):
    doc = inspect.getdoc(obj)
    assert doc, f"{qualname} has no docstring"
    if inspect.isclass(obj):
        return
    sig = inspect.signature(obj)
    params = [p for p in sig.parameters if p not in ("self", "cls")]
    if params:
        assert re.search(r"^Parameters\n-{5,}", doc, flags=re.M), f"{qualname}: no 'Parameters' section"
        for p in params:
            assert re.search(rf"^\*?\*?{p}\b", doc, flags=re.M), f"{qualname}: parameter '{p}' undocumented"
    if sig.return_annotation not in (None, "None", inspect.Signature.empty):
        assert re.search(r"^Returns\n-{5,}", doc, flags=re.M), f"{qualname}: no 'Returns' section"


def test_api_reference_names_every_public_callable():
    text = (DOCS / "api.md").read_text()
    missing = [q for q, _ in API if f"`{q.removeprefix('sanctions_model.')}`" not in text and f"`{q}`" not in text]
    assert not missing, f"docs/api.md does not mention: {missing}"


def test_user_guide_links_resolve():
    for page in DOCS.glob("*.md"):
        for link in re.findall(r"\]\((?!https?:)([^)#]+)", page.read_text()):
            assert (page.parent / link).exists(), f"{page.name} links to missing {link}"


def test_the_guides_scenario_example_runs(tmp_path):
    text = (DOCS / "guide.md").read_text()
    example = re.search(r"```toml\n(.*?)```", text, flags=re.S).group(1)
    path = tmp_path / "cap.toml"
    path.write_text(example)
    run = sm.simulate(str(path), days=60)
    assert run.params["sanctions.level"] == 0.75 and run.params["sanctions.start_day"] == 40
