"""The file schema: typos, wrong types and bad steps in scenario and parameter files are refused
with the file, the line, the table and the nearest valid name; the JSON Schemas are current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sanctions_model.errors import InputError
from sanctions_model.inputs.params import load_base, load_params, load_scenario, scenario_names
from sanctions_model.inputs.schema import SCHEMAS, schema_text

HEAD = 'title = "t"\ndescription = "d"\n'
CHANGE = '[[change]]\nparameter = "sanctions.level"\nvalue = 0.7\nwhy = "x"\n'
ROOT = Path(__file__).resolve().parent.parent


def _scenario(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mine.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, message", [
    (HEAD + CHANGE.replace("[[change]]", "[[chnage]]"),
     "line 3: unknown key 'chnage' in the top level. Did you mean 'change'?"),
    (HEAD + CHANGE.replace("value =", "valu ="), "line 5: unknown key 'valu' in [[change]] 1. Did you mean 'value'?"),
    (HEAD + CHANGE + CHANGE.replace("0.7", '"0.75"'),
     "line 9: 'value' in [[change]] 2 must be a number (write it without quotes), got the string '0.75'."),
    (HEAD + CHANGE.replace("0.7", "nan"), "line 5: 'value' in [[change]] 1: must be a finite number, got nan."),
    (HEAD + CHANGE.replace('why = "x"\n', ""), "line 3: [[change]] 1 lacks 'why'."),
    (HEAD + CHANGE.replace("0.7", "true"), "'value' in [[change]] 1 must be a number, got bool True."),
    (HEAD + CHANGE.replace("0.7", "0.7\nlow = 0\nhigh = 1"),
     "restates the range of 'sanctions.level'; only a scenario with its own start_date"),
    ('title = "t"\n' + CHANGE, "lacks 'description'"),
    (HEAD + 'start_date = "2022-02-24"\n', "line 3: 'start_date' must be a date (2025-03-01), got the string"),
    (HEAD + "change = 3\n", "'change' must be an array of tables ([[...]]), got int 3."),
    (HEAD + 'colour = "red"\n', "unknown key 'colour' in the top level. Allowed: title, description"),
    (HEAD + '[[step]]\nlevr = "sanctions"\nday = 3\nlevel = 0.5\nwhy = "b"\n',
     "line 4: unknown key 'levr' in [[step]] 1. Did you mean 'lever'?"),
    (HEAD + '[[step]]\nlever = "sanctions"\nlevel = 0.5\nwhy = "b"\n', "[[step]] 1: give one of 'day' or 'date'"),
    (HEAD + '[[step]]\nlever = "sanctions"\ndate = 2024-09-01\nlevel = 0.5\nwhy = "b"\n',
     "step of 'sanctions': starts on 2024-09-01, before the start date 2025-01-20."),
    (HEAD + '[[step]]\nlever = "sanctions"\ndate = 2025-09-01\nlevel = 1.5\nwhy = "b"\n',
     "'sanctions.step1.level' = 1.5 is outside its range [0, 1]"),
    (HEAD + '[[step]]\nlever = "sanction"\nday = 9\nlevel = 0.5\nwhy = "b"\n',
     "unknown lever 'sanction'. Did you mean 'sanctions'?"),
    (HEAD + CHANGE.replace("sanctions.level", "sanctions.levle"),
     "unknown parameter 'sanctions.levle'. Did you mean 'sanctions.level'?"),
    (HEAD + CHANGE.replace("0.7", "7"), "'sanctions.level' = 7 is outside its range [0, 1]"),
])
def test_bad_scenario_files_are_refused_with_file_line_and_hint(tmp_path, text, message):
    path = _scenario(tmp_path, text)
    with pytest.raises(InputError, match=re.escape(message)) as info:
        load_params(path)
    assert "mine.toml" in str(info.value)


def test_a_non_utf8_file_names_its_line(tmp_path):
    path = tmp_path / "latin.toml"
    path.write_bytes(HEAD.encode() + b'[[change]]\nparameter = "sanctions.level"\nvalue = 0.7\nwhy = "caf\xe9"\n')
    with pytest.raises(InputError, match=r"latin.toml, line 6: not UTF-8 text \(byte 0xe9\)"):
        load_scenario(path)


@pytest.mark.parametrize("text, message", [
    ('[meta]\nstart_date = 2025-01-20\n[oil.x]\nvalue = 1\nunit = "u"\nlow = 2\nhigh = 3\nsource = "a"\n'
     'description = "d"\n', "line 3: [oil.x]: value 1 is outside its range [2, 3]."),
    ('[meta]\nstart_date = 2025-01-20\n[oil.x]\nvalue = 1\nunit = "u"\nlow = 0\nhihg = 3\nsource = "a"\n'
     'description = "d"\n', "line 7: unknown key 'hihg' in [oil.x]. Did you mean 'high'?"),
    ('[meta]\nstart_date = 2025-01-20\n[oil]\ndescriptoin = "x"\n',
     "line 4: unknown key 'descriptoin' in [oil]. Did you mean 'description'?"),
    ('[meta]\nstart_dat = 2025-01-20\n', "line 2: unknown key 'start_dat' in [meta]. Did you mean 'start_date'?"),
    ('[meta]\nstart_date = 2025-01-20\n[oil.x]\nvalue = "1"\nunit = "u"\nlow = 0\nhigh = 3\nsource = "a"\n'
     'description = "d"\n', "line 4: 'value' in [oil.x] must be a number (write it without quotes)"),
    ('[meta]\nstart_date = 2025-01-20\n[oil.x]\nvalue = 1\nunit = ""\nlow = 0\nhigh = 3\nsource = "a"\n'
     'description = "d"\n', "'unit' in [oil.x]: String should have at least 1 character"),
])
def test_bad_parameter_files_are_refused_with_file_line_and_hint(tmp_path, text, message):
    path = tmp_path / "base.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=re.escape(message)) as info:
        load_base(path)
    assert "base.toml" in str(info.value)


def test_every_shipped_scenario_and_the_base_file_fit_the_schema():
    base = load_params(calibration=False)
    for name in scenario_names() + scenario_names(dated=True):
        assert load_scenario(name, base).name == name


@pytest.mark.parametrize("file_name", sorted(SCHEMAS))
def test_committed_json_schemas_are_current(file_name):
    committed = (ROOT / "docs" / "schema" / file_name).read_text()
    assert committed == schema_text(SCHEMAS[file_name]), (
        f"docs/schema/{file_name} is stale: run `python -m sanctions_model.inputs.schema docs/schema`")
