"""Parameter files: every value sourced and in range; scenarios compose; bad input is named."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sanctions_model as sm
from sanctions_model.errors import InputError
from sanctions_model.inputs.params import LEVER_FIELDS, load_base, load_params, load_scenario, scenario_names

REQUIRED = ["status_quo", "hard_way", "easy_way", "frozen_assets", "allies_pressured",
            "security_guarantee", "us_aid_cut"]


def test_every_parameter_has_unit_range_source_and_description():
    params = load_base()
    assert len(params) > 100
    for p in params.parameters.values():
        assert p.unit and p.description and p.source
        assert p.low <= p.value <= p.high, p.name
        src = p.source.lower()
        assert src.startswith(("assumption", "article", "data:", "model brief")) or "data:" in src, p.name


def test_levers_are_schedules():
    params = load_base()
    assert set(params.levers) >= {"sanctions", "secondary_tariffs", "relief_offer", "frozen_assets",
                                  "security_arrangement", "ally_pressure", "us_aid"}
    for lever in params.levers:
        for field in LEVER_FIELDS:
            assert f"{lever}.{field}" in params


def test_required_scenarios_exist_and_explain_every_change():
    names = scenario_names()
    for name in REQUIRED:
        assert name in names
        sc = load_scenario(name, load_base())
        assert sc.description
        assert all(why.strip() for _, _, why in sc.changes)


def test_scenarios_compose_in_order_and_overrides_come_last():
    a = load_params(["hard_way", "easy_way"])
    assert a["sanctions.level"] == 0.8 and a["relief_offer.level"] == 23.0
    assert a.scenarios == ("hard_way", "easy_way")
    b = load_params(["hard_way"], {"sanctions.level": 0.7})
    assert b["sanctions.level"] == 0.7
    # a later scenario wins over an earlier one
    c = load_params(["security_guarantee", "status_quo"])
    assert c["security_arrangement.level"] == 1.0


def test_user_scenario_file_by_path(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text('title = "Mine"\ndescription = "d"\n[[change]]\nparameter = "oil.brent_price"\n'
                 'value = 60\nwhy = "test"\n')
    assert load_params(str(f))["oil.brent_price"] == 60


def test_start_day_accepts_an_iso_date():
    assert load_params(overrides={"sanctions.start_day": "2025-03-01"})["sanctions.start_day"] == 40


def test_list_scenarios_has_descriptions():
    table = sm.list_scenarios()
    assert set(REQUIRED) <= set(table.index)
    assert table.loc["hard_way", "description"]


@pytest.mark.parametrize("bad, fragment", [
    ({"oil.brent": 70}, "Did you mean 'oil.brent_price'"),
    ({"oil.brent_price": 500}, "outside its range [40, 125]"),
    ({"oil.brent_price": math.nan}, "finite"),
    ({"oil.brent_price": "abc"}, "must be a number"),
    ({"oil.brent_price": True}, "boolean"),
    ({"oil.brent_price": [70]}, "must be a number"),
    ({"oil.brent_price": None}, "must be a number"),
    ({"oil.brent_price": "2025-03-01"}, "date"),
    ({"oil.brent_price": np.float64(math.inf)}, "finite"),
])
def test_bad_overrides_are_named(bad, fragment):
    with pytest.raises(InputError) as err:
        load_params(overrides=bad)
    assert fragment in str(err.value)
    assert "oil.brent" in str(err.value)


def test_unknown_scenario_suggests_the_nearest():
    with pytest.raises(InputError, match="Did you mean 'hard_way'"):
        load_params("hardway")


def test_scenario_of_wrong_type():
    with pytest.raises(InputError, match="scenario must be a name"):
        load_params([3])


def test_overrides_of_wrong_type():
    with pytest.raises(InputError, match="overrides must be a dict"):
        load_params(overrides=[("oil.brent_price", 70)])


def test_malformed_toml_names_file_and_line(tmp_path):
    f = tmp_path / "broken.toml"
    f.write_text('title = "x"\ndescription = "y"\n[[change]]\nparameter = \n')
    with pytest.raises(InputError) as err:
        load_params(str(f))
    assert "broken.toml" in str(err.value) and "line 4" in str(err.value)


def test_missing_files(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_params(str(tmp_path / "nope.toml"))
    with pytest.raises(InputError, match="not found"):
        load_base(tmp_path / "base.toml")


def test_scenario_value_out_of_range_names_the_file(tmp_path):
    f = tmp_path / "wild.toml"
    f.write_text('title = "x"\ndescription = "y"\n[[change]]\nparameter = "sanctions.level"\n'
                 'value = 2.0\nwhy = "z"\n')
    with pytest.raises(InputError) as err:
        load_params(str(f))
    assert "wild.toml" in str(err.value) and "outside its range" in str(err.value)


def test_base_file_errors(tmp_path):
    f = tmp_path / "base.toml"
    f.write_text('[meta]\nstart_date = 2025-01-20\n[oil.x]\nvalue = 1\nunit = "u"\nlow = 2\nhigh = 3\n'
                 'source = "assumption"\ndescription = "d"\n')
    with pytest.raises(InputError, match="outside its range"):
        load_base(f)
    f.write_text('[meta]\nstart_date = 2025-01-20\n[oil.x]\nvalue = 1\nunit = "u"\n')
    with pytest.raises(InputError, match=r"line 3: \[oil.x\] lacks 'low'"):
        load_base(f)


def test_digest_changes_with_values():
    assert load_params().digest() != load_params(overrides={"oil.brent_price": 70}).digest()
    assert load_params().digest() == load_params().digest()
