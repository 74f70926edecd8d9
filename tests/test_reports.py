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
