"""Figures say what they show: no empty panels, coinciding lines named, reference lines drawn,
plain titles, censored days explained, intervals drawn; and territory has one unit."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import sanctions_model as sm
from sanctions_model.inputs.params import load_params
from sanctions_model.report.figures import (
    coincidence_caption,
    coincidence_notes,
    coincident,
    fan_figure,
    trajectories_figure,
    uncertainty_figure,
)
from sanctions_model.report.markdown import central_section
from sanctions_model.report.sensitivity import index_chart, outcome_section
from sanctions_model.runs.describe import wilson_interval

SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


@pytest.fixture(scope="module")
def runs() -> list[sm.RunResult]:
    return [sm.simulate(name, days=730) for name in ("status_quo", "easy_way", "hard_way")]


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text"))]


def _dashed_levels(ax) -> list[float]:
    """y of every dashed horizontal line of an axes."""
    out = []
    for line in ax.get_lines():
        y = np.asarray(line.get_ydata(), float)
        if line.get_linestyle() == "--" and y.size and np.allclose(y, y[0]):
            out.append(float(y[0]))
    return out


def test_coincident_groups_lines_within_tolerance():
    x = np.linspace(0, 1, 50)
    lines = {"status_quo": x, "a": x.copy(), "b": x + 1e-6, "c": x + 0.1, "d": x + 0.1}
    assert coincident(lines) == {"status_quo": ["a", "b"], "c": ["d"]}
    assert coincident({"a": x, "b": x + 0.05}) == {}
    nan = np.where(x > 0.5, np.nan, x)
    assert coincident({"a": nan, "b": nan.copy(), "c": x}) == {"a": ["b"]}


def test_coinciding_scenarios_are_named_in_figure_and_caption(runs):
    notes = coincidence_notes(runs)
    # easy_way changes only the relief offer: strain and reserves are those of status_quo
    assert notes["Perceived strain on Russia's war economy"] == "easy_way coincides with status_quo"
    assert "hard_way" not in notes["Perceived strain on Russia's war economy"]
    assert "Chance a ceasefire has been agreed" not in notes, "easy_way moves the chance of a ceasefire"
    fig = trajectories_figure(runs, None, "test")
    assert "easy_way coincides with status_quo" in _texts(fig)
    caption = coincidence_caption(runs)
    assert "*Perceived strain on Russia's war economy*: easy_way coincides with status_quo." in caption
    section = "\n".join(central_section(runs, "scenarios.png"))
    assert caption in section
    assert coincidence_caption(runs[:1]) == ""


def test_the_range_panel_draws_its_zero_and_probability_panels_run_from_zero_to_one(runs):
    fig = trajectories_figure(runs, None, "test")
    titles = {ax.get_title(): ax for ax in fig.axes}
    assert 0.0 in _dashed_levels(titles["Bargaining range (above 0: a ceasefire both prefer)"])
    assert any("above: a ceasefire both prefer" in t for t in _texts(fig))
    assert not _dashed_levels(titles["Perceived strain on Russia's war economy"])
    for title in ("Chance direct talks have started", "Chance a ceasefire has been agreed"):
        assert titles[title].get_ylim() == (0.0, 1.0)
    # and in the fan charts
    ens = sm.run_ensemble(["status_quo"], 200, 8, 1)
    fan = fan_figure(ens.fans["status_quo"], runs[0], None, 8)
    fan_titles = {ax.get_title(): ax for ax in fan.axes}
    assert 0.0 in _dashed_levels(fan_titles["Bargaining range (above 0: a ceasefire both prefer)"])
    assert fan_titles["Chance a ceasefire has been agreed"].get_ylim() == (0.0, 1.0)


def test_titles_are_plain_words(runs):
    figs = [trajectories_figure(runs, None, "Key trajectories by scenario")]
    ens = sm.run_ensemble(["status_quo"], 200, 8, 1)
    figs.append(fan_figure(ens.fans["status_quo"], runs[0], None, 8))
    for fig in figs:
        for ax in fig.axes:
            if ax.get_visible() and ax.axison:
                assert ax.get_title() and not SNAKE.search(ax.get_title()), ax.get_title()
                assert ax.get_ylabel(), ax.get_title()
    assert figs[1]._suptitle.get_text().startswith("Status quo (status_quo)")


def _oat_table(params, censored: float) -> pd.DataFrame:
    names = ["russia.claim_weight", "russia.strain_cost", "oil.brent_price"]
    return pd.DataFrame({"low": [censored, censored, 546.0], "high": [322.0, 438.0, censored],
                         "base": [censored] * 3, "swing": [censored - 322, censored - 438, censored - 546]},
                        index=names)


def test_tornado_explains_the_censored_day(tmp_path):
    params = load_params("status_quo")
    fig = index_chart("oat", _oat_table(params, 731.0), params, "diagnostic_days_to_range_open", None, 730)
    texts = " ".join(_texts(fig))
    assert "Day 731 means not within the 730-day horizon" in texts
    assert "not within the horizon (day 731)" in texts
    ax = fig.axes[0]
    assert not SNAKE.search(ax.get_title()) and not SNAKE.search(ax.get_xlabel())
    assert ax.get_xlim()[1] > 731, "the censored day is inside the chart, not on its edge"
    lines = outcome_section("oat", _oat_table(params, 731.0), params, "diagnostic_days_to_range_open", tmp_path,
                            "t.png", horizon=730)
    assert "Day 731 means not within the 730-day horizon" in lines[0]
    # an outcome that is not a day has nothing censored
    other = index_chart("oat", _oat_table(params, 731.0), params, "reserves_at_horizon", None, 730)
    assert "censored" not in " ".join(_texts(other))


def test_uncertainty_figure_draws_wilson_intervals():
    shares = pd.DataFrame({"talks within horizon": [0.062, 0.105], "reserves exhausted": [0.64, 0.0]},
                          index=["status_quo", "easy_way"])
    fig = uncertainty_figure(shares, None, 1000)
    ax = fig.axes[0]
    bars = [c for c in ax.containers if hasattr(c, "errorbar") and c.errorbar is not None]
    assert len(bars) == 2
    # rows are drawn bottom-up: easy_way first
    segments = bars[0].errorbar.lines[2][0].get_segments()
    for segment, share in zip(segments, [0.105, 0.062]):
        low, high = wilson_interval(share, 1000)
        xs = sorted(p[0] for p in segment)
        assert xs == pytest.approx([100 * low, 100 * high], abs=1e-9)
    assert "95% interval" in ax.get_xlabel()


def test_backtest_figure_has_no_empty_panel(tmp_path):
    from sanctions_model.analysis.backtesting import backtest
    from sanctions_model.report.backtest import _figure

    result = backtest()
    fig = _figure(result, tmp_path / "b.png")
    series = list(dict.fromkeys(result.fit["series"]))
    assert len(fig.axes) == len(series), "every panel shows a series"
    assert all(ax.get_lines() for ax in fig.axes)
    bottom = [ax for ax in fig.axes if any(t.get_visible() and t.get_text() for t in ax.get_xticklabels())]
    assert len(bottom) == 3, "one panel per column shows the dates"


def test_territory_has_one_unit_in_outcomes_and_trajectories():
    run = sm.simulate("frozen_assets", days=400)
    assert run.units["territory_at_horizon"] == run.units["territory"] == "share of Ukraine"
    assert run.outcomes["territory_at_horizon"] == run.trajectories["territory"].iloc[-1]
    assert 0 < run.outcomes["territory_at_horizon"] < 1
