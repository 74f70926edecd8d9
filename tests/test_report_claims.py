"""Claims in reports follow from the intervals: rounding of a share and its interval by one
rule, 'most often' only when intervals are clear of each other, and Sobol' rankings only when
resolved."""

from __future__ import annotations

import re

import pytest

from sanctions_model.errors import InputError
from sanctions_model.report.markdown import leading_group, most_often, rank_range, ranking
from sanctions_model.runs.describe import percents, share_with_interval, wilson_interval

CELL = re.compile(r"^([\d.]+)% \(([\d.]+)-([\d.]+)%\)$")


def _decimals(number: str) -> int:
    return len(number.split(".")[1]) if "." in number else 0


@pytest.mark.parametrize("n", [24, 100, 256, 1000, 2000])
def test_a_share_and_its_interval_are_rounded_alike(n):
    for k in range(n + 1):
        text = share_with_interval(k / n, n)
        match = CELL.match(text)
        assert match, text
        numbers = match.groups()
        assert len({_decimals(x) for x in numbers}) == 1, f"mixed rounding in {text!r}"
        value, low, high = map(float, numbers)
        assert low <= value <= high, text


def test_the_rounding_rule():
    # the report's old '2% (0.9-2%)' cannot happen: one decimal for all three when any is below 10%
    assert share_with_interval(0.015, 1000) == "1.5% (0.9-2.5%)"
    assert share_with_interval(0.0, 1000) == "0.0% (0.0-0.4%)"
    assert share_with_interval(0.5, 100) == "50% (40-60%)"
    assert share_with_interval(0.105, 1000) == "10.5% (8.7-12.6%)"  # low bound below 10%: one decimal
    assert share_with_interval(0.42, 1000) == "42% (39-45%)"
    assert percents(0.42, 0.099) == ("42.0", "9.9")
    assert percents(0.42, 0.1) == ("42", "10")


def test_a_sentence_never_calls_a_chance_nil_or_certain_that_is_not():
    from sanctions_model.runs.describe import percent

    assert [percent(x) for x in (0.0, 0.0004, 0.0006, 0.42, 0.994, 0.99883, 1.0)] == \
        ["0.0", "<0.1", "0.1", "42", "99", ">99", "100"]
    assert percent(float("nan")) == "n/a"


def test_a_run_shorter_than_100_days_says_so_instead_of_nan(tmp_path):
    import sanctions_model as sm
    from sanctions_model.runs.describe import summary

    text = summary(sm.simulate("status_quo", days=30))
    assert "nan" not in text.lower() and "The run ends before day 100" in text
    assert "nan" not in summary(sm.simulate("status_quo", days=120)).lower()


def test_wilson_interval():
    low, high = wilson_interval(0.0, 1000)
    assert low == pytest.approx(0.0, abs=1e-12) and high == pytest.approx(0.00383, abs=1e-4)
    low, high = wilson_interval(0.5, 100)
    assert low == pytest.approx(0.4038, abs=1e-3) and high == pytest.approx(0.5962, abs=1e-3)


def test_wilson_interval_is_scipys_for_counts_and_moves_with_a_mean_chance():
    """The score interval written out equals SciPy's for whole counts, and a mean chance is not
    rounded to a whole count first (0.0016 of 256 sets was the interval of none)."""
    from scipy.stats import binomtest

    from sanctions_model.runs.ensemble import wilson_interval as score

    for k, n in ((0, 1000), (1, 256), (37, 256), (128, 256), (255, 256), (256, 256), (3, 10)):
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert score(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12), (k, n)
    low, high = wilson_interval(0.0016, 256)
    assert 0 < low < 0.0016 < high and (low, high) != wilson_interval(0.0, 256)
    assert wilson_interval(0.0016, 256)[1] < wilson_interval(0.0030, 256)[1], "continuous in the share"
    assert score(0, 7)[0] == 0.0 and score(7, 7)[1] == 1.0, "the ends are exact"
    for bad in ({"confidence": 95}, {"confidence": 1.0}, {"confidence": float("nan")}):
        with pytest.raises(InputError, match="confidence must be a level between 0 and 1"):
            score(1, 10, **bad)
    for k, n in ((11, 10), (-1, 10), (1, -5)):
        with pytest.raises(InputError, match="0 <= k <= n"):
            score(k, n)


def test_leading_group():
    clear = {"a": (0.5, 0.45, 0.55), "b": (0.3, 0.25, 0.35), "c": (0.1, 0.05, 0.15)}
    assert leading_group(clear) == ["a"]
    touching = {"a": (0.5, 0.40, 0.60), "b": (0.38, 0.30, 0.41), "c": (0.1, 0.05, 0.15)}
    assert leading_group(touching) == ["a", "b"]
    assert leading_group({"x": (0.2, 0.1, 0.3)}) == ["x"]


def test_most_often_claims_a_scenario_only_when_intervals_do_not_overlap():
    # the report's case: 10.5% against 9.7% of 1,000 sets overlap, so no 'most often'
    close = {"status_quo": 0.062, "easy_way": 0.105, "security_guarantee": 0.097, "frozen_assets": 0.029}
    text = most_often("talks within 730 days", close, 1000)
    assert "cannot tell" in text and "the highest chance" in text
    assert "`easy_way`" in text and "`security_guarantee`" in text
    assert "`frozen_assets`" not in text, "a scenario whose interval is below the leader's is not in the group"
    assert not text.startswith("`easy_way` gives")
    # well apart: the claim is made, and names the runner-up
    apart = {"status_quo": 0.06, "easy_way": 0.25, "hard_way": 0.08}
    text = most_often("talks within 730 days", apart, 1000)
    assert text.startswith("`easy_way` gives the highest chance of talks within 730 days, 25% (22-28%) over the "
                           "sampled sets")
    assert "next: `hard_way`" in text and "cannot tell" not in text
    # the same numbers from few sets overlap again
    assert "cannot tell" in most_often("talks within 730 days", apart, 20)
    # every interval overlapping says so
    text = most_often("x", {"a": 0.1, "b": 0.11, "c": 0.09}, 1000)
    assert "all 3 scenarios overlap" in text and "below" not in text
    text = most_often("x", {f"s{i}": 0.1 + 0.001 * i for i in range(7)}, 1000, most=4)
    assert "all 7 scenarios" in text and "3 more" in text and "`s2`" not in text
    assert most_often("x", {"a": 0.0, "b": 0.0}, 1000) == "No scenario gives any chance of x in the sampled sets."


def test_ranking_claims_a_leader_only_when_resolved():
    # the top three of the report before issue 15: 0.344 ± 0.058 overlaps 0.25 ± 0.048, not 0.17 ± 0.029
    overlapping = {"russia.strain_cost": (0.344, 0.058), "russia.claim_weight": (0.25, 0.048),
                   "russia.optimism": (0.17, 0.029), "oil.brent_price": (0.06, 0.02)}
    text = ranking("the day Russia becomes willing", overlapping)
    assert "not resolved at this sample size" in text
    assert "`russia.strain_cost`" in text and "`russia.claim_weight`" in text
    assert "`russia.optimism`" not in text
    assert "2 assumptions overlap that of the largest" in text
    resolved = {"a": (0.6, 0.05), "b": (0.3, 0.05), "c": (0.1, 0.05)}
    text = ranking("the day Russia becomes willing", resolved, {"a": "*A*", "b": "*B*", "c": "*C*"})
    assert text == ("The day Russia becomes willing depends most on *A* (`a`, ST 0.60 ± 0.05): its 95% interval "
                    "lies above every other assumption's.")
    wide = {f"p{i}": (0.3 - 0.01 * i, 0.2) for i in range(8)}
    text = ranking("x", wide, most=3)
    assert "all 8 assumptions overlap" in text and "5 more" in text and "`p3`" not in text
    assert "lies below" not in text, "no assumption lies below the largest when all overlap"


def test_rank_range_widens_with_overlapping_intervals():
    indices = {"a": (0.6, 0.05), "b": (0.3, 0.05), "c": (0.28, 0.05), "d": (0.1, 0.01)}
    assert rank_range("a", indices) == (1, 1)
    assert rank_range("b", indices) == (2, 3)
    assert rank_range("c", indices) == (2, 3)
    assert rank_range("d", indices) == (4, 4)
    assert rank_range("b", {**indices, "c": (0.28, 0.001)}) == (2, 3)
    assert rank_range("b", {**indices, "c": (0.2, 0.01)}) == (2, 2)


def test_the_docs_example_is_what_the_function_prints():
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "reports.md").read_text()
    printed, share, n = re.search(r'"([^"]+)" \(what `share_with_interval\(([\d.]+), (\d+)\)` prints\)',
                                  text).groups()
    assert share_with_interval(float(share), int(n)) == printed


def test_a_one_year_horizon_does_not_head_two_columns_with_one_figure():
    from sanctions_model.report.projection import COLUMNS, columns_for

    every = {col: 0.0 for col, _ in COLUMNS}
    at_365 = [h for _, h in columns_for(365, every)]
    assert "ceasefire within a year" not in at_365 and "ceasefire within 365 days" in at_365
    assert "ceasefire within a year" in [h for _, h in columns_for(730, every)]
    assert [col for col, _ in columns_for(120, {k: v for k, v in every.items() if "1 year" not in k})] == \
        ["talks within 100 days", "talks within horizon", "ceasefire within horizon"]
