"""The committed example report must match the current parameters and scenarios."""

from __future__ import annotations

import re
from pathlib import Path

from sanctions_model.params import load_params, scenario_names
from sanctions_model.report.markdown import combined_digest

REPORT = Path(__file__).resolve().parent.parent / "reports" / "scenarios" / "report.md"


def _provenance(text: str) -> dict[str, str]:
    rows = re.findall(r"^\| ([^|]+) \| (.+) \|$", text.split("## Provenance", 1)[1], flags=re.M)
    return {k.strip(): v.strip() for k, v in rows}


def test_committed_scenario_report_is_current():
    """Fails when parameters or scenarios change without `make report` being run again."""
    assert REPORT.is_file(), "reports/scenarios/report.md is missing: run `make report`"
    prov = _provenance(REPORT.read_text())
    names = scenario_names()
    assert prov["scenarios"] == ", ".join(names), "the scenarios changed: run `make report`"
    expected = combined_digest([load_params(n).digest() for n in names])
    assert prov["parameter hash"] == expected, "parameters changed since the report was made: run `make report`"


def test_committed_report_links_resolve():
    text = REPORT.read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert links and all((REPORT.parent / link).is_file() for link in links)


def test_committed_outcomes_match_the_current_model():
    """Fails when the equations change without `make report` being run again."""
    import numpy as np
    import pandas as pd

    import sanctions_model as sm

    committed = pd.read_csv(REPORT.parent / "outcomes.csv", index_col="outcome")
    for name in committed.columns:
        now = sm.simulate(name).outcomes
        for key, value in committed[name].items():
            current = float(now[key])
            expected = float(value) if str(value) not in ("True", "False") else float(value == "True")
            assert (np.isnan(expected) and np.isnan(current)) or np.isclose(current, expected, rtol=1e-6, atol=1e-9), (
                f"{name}: {key} is {current}, the committed report says {expected}: run `make report`")
