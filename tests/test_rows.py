"""The margins and flows read at (member, day) points take only the parameters the model reads,
and give the same numbers as every parameter repeated over the points (core/rows.py)."""

from __future__ import annotations

import numpy as np
import pytest

import sanctions_model as sm
from sanctions_model.core import outcomes, solve
from sanctions_model.core.model import FLOWS, auxiliaries_of, decision
from sanctions_model.core.rows import RowsOf
from sanctions_model.core.schedules import at_time
from sanctions_model.core.system import DAYS_PER_YEAR
from sanctions_model.runs.designs import Design, overlay


def test_a_parameter_is_taken_on_its_first_read_and_kept():
    taken = []

    def take(v):
        taken.append(v)
        return v[[1, 1, 0]]

    rows = RowsOf({"a": np.array([1.0, 2.0]), "b": np.array([3.0, 4.0])}, take)
    assert "a" in rows and "c" not in rows and len(rows) == 2 and list(rows) == ["a", "b"]
    assert taken == []  # asking whether a name is there takes nothing
    np.testing.assert_array_equal(rows["a"], [2.0, 2.0, 1.0])
    assert rows["a"] is rows["a"] and len(taken) == 1
    with pytest.raises(KeyError):
        rows["c"]


@pytest.fixture(scope="module")
def history():
    params = sm.load_params("history_2022_2025")
    design = Design.build("lhs", params, 12, seed=4)
    values = {k: np.asarray(v, float) for k, v in overlay(params.values(), design.names, design.chunk(0)).items()}
    return solve.integrate(values, 400, rtol=1e-5)


def test_the_margins_read_lazily_are_those_of_every_parameter_repeated(history):
    members = np.repeat(np.arange(12), 5)
    columns = np.tile(np.arange(0, 400, 80), 12)
    eager = {k: v[members] for k, v in history.params.items()}
    ref = {k: v[members] for k, v in history.ref.items()}
    t = history.t[columns]
    expected = decision(t, history.y[:, members, columns], at_time(t, eager), ref)
    got = outcomes.margins_on(history, members, columns)
    for name in outcomes.MARGINS:
        np.testing.assert_array_equal(got[name], expected[name])


def test_the_flows_read_lazily_are_those_of_every_parameter_repeated(history, monkeypatch):
    columns = np.arange(0, history.t.size, 30)
    monkeypatch.setattr(outcomes, "FLOW_POINTS", 50)  # blocks of 4 days: 14 days in 4 blocks, the last shorter
    got = outcomes.trajectory_values(history, list(FLOWS), columns)
    k = columns.size
    eager = {key: np.repeat(v, k) for key, v in history.params.items()}
    ref = {key: np.repeat(v, k) for key, v in history.ref.items()}
    t = np.tile(history.t[columns], 12)
    flat = history.y[:, :, columns].reshape(history.y.shape[0], 12 * k)
    sources = {name: outcomes._FLOW_SOURCES[name] for name in FLOWS if name in got and name not in outcomes.CHANCES}
    aux = auxiliaries_of([key for key, _ in sources.values()], t, flat, at_time(t, eager), ref)
    for name, (key, per_day) in sources.items():
        expected = np.broadcast_to(aux[key], (12 * k,)).reshape(12, k) * (DAYS_PER_YEAR if per_day else 1.0)
        np.testing.assert_array_equal(got[name], expected, err_msg=name)
