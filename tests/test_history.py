"""data/history.csv: every figure traceable to the sourced figures, and bad files refused."""

from __future__ import annotations

import pandas as pd
import pytest

from sanctions_model.errors import InputError
from sanctions_model.inputs.history import data_dir, load_history


def test_history_is_tidy_with_units_and_sources():
    h = load_history()
    assert {"series", "date", "period", "value", "unit", "source", "confidence"} <= set(h.columns)
    assert pd.api.types.is_datetime64_any_dtype(h["date"]) and h["value"].dtype == float
    assert (h.groupby("series")["unit"].nunique() == 1).all()
    assert (h["source"].str.len() > 0).all()
    assert h["date"].max() <= pd.Timestamp("2025-01-20"), "nothing after the projection start"
    # what the back-test targets need
    for series in ("oil_gas_revenue", "nwf_liquid", "territory", "cpi_dec_dec", "key_rate", "urals_price",
                   "export_volume", "defence_spending", "deficit", "federal_revenue", "federal_spending",
                   "russian_casualty_rate", "russian_recruitment", "western_aid_allocated"):
        assert series in set(h["series"]), series


def test_every_number_appears_in_the_row_it_cites():
    """A transcription check: the figure's text holds the number copied into history.csv."""
    raw = pd.read_csv(data_dir() / "history.csv", dtype=str, keep_default_na=False)
    figures = pd.read_csv(data_dir() / "figures-to-2025-01-20.csv", dtype=str, keep_default_na=False)
    text = {(r.item, r.date): f"{r.value} {r.unit}" for r in figures.itertuples()}
    for row in raw.itertuples():
        cited = text[(row.item, row.item_date)]
        assert row.value in cited.replace("$", ""), f"{row.series} {row.date}: {row.value} not in {cited!r}"


@pytest.mark.parametrize("line, message", [
    ("territory,2023-02-21,point,abc,% of Ukraine,Territory,2023-02 (Guardian/ISW),", "is not a number"),
    ("territory,2023-02-21,point,nan,% of Ukraine,Territory,2023-02 (Guardian/ISW),", "is not finite"),
    ("territory,21/02/2023x,point,17,% of Ukraine,Territory,2023-02 (Guardian/ISW),", "is not a date"),
    ("territory,2023-02-21,weekly,17,% of Ukraine,Territory,2023-02 (Guardian/ISW),", "period 'weekly'"),
    ("territory,2023-02-21,point,17,% of Ukraine,Territory,2031,", "not a row of"),
    ("territory,2023-02-21,point,17,km2,Territory,2023-02 (Guardian/ISW),", "more than one unit"),
])
def test_bad_history_rows_are_refused_with_their_line(tmp_path, line, message):
    good = (data_dir() / "history.csv").read_text()
    path = tmp_path / "history.csv"
    path.write_text(good + line + "\n")
    with pytest.raises(InputError, match=message) as err:
        load_history(path)
    if "unit" not in message:
        assert f"line {len(good.splitlines()) + 1}" in str(err.value)


def test_missing_or_malformed_history_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_history(tmp_path / "none.csv")
    (tmp_path / "cols.csv").write_text("series,date\nx,2024-01-01\n")
    with pytest.raises(InputError, match="missing column"):
        load_history(tmp_path / "cols.csv")



def test_no_parameter_cites_a_figure_from_after_the_projection_start():
    """Every 'data: ITEM, DATE' citation in params/ names a figure dated no later than 2025-01-20
    (the model is judged on what came after)."""
    import datetime as dt
    import re
    from pathlib import Path

    cutoff = dt.date(2025, 1, 20)
    late, seen = [], 0
    for path in (Path(__file__).resolve().parent.parent / "params").rglob("*.toml"):
        for item, when in re.findall(r"data: ([^,;()]+), (\d{4}-\d{4}\b|\d{4}(?:-\d{2}){0,2})", path.read_text()):
            seen += 1
            last = when.split("-")
            if len(last) == 2 and len(last[1]) == 4:  # a span of years, 2022-2024
                day = dt.date(int(last[1]), 1, 1)
            else:
                day = dt.date(int(last[0]), int(last[1]) if len(last) > 1 else 1, int(last[2]) if len(last) > 2 else 1)
            if day > cutoff:
                late.append((path.name, item, when))
    assert seen > 50 and not late, late


def _published_late(source: str) -> list[str]:
    """The dates in a row's ``source`` (its publication, as cited) that may fall after 2025-01-20: a date
    that gives only the month counts as the month's last day."""
    import calendar
    import datetime as dt
    import re

    late = []
    for year, month, day in re.findall(r"\b(20\d\d)-(\d\d)(?:-(\d\d))?\b", source):
        y, m = int(year), int(month)
        if 1 <= m <= 12 and dt.date(y, m, int(day or calendar.monthrange(y, m)[1])) > dt.date(2025, 1, 20):
            late.append(f"{year}-{month}" + (f"-{day}" if day else ""))
    return late


def _citations(text: str, dates: dict[str, list[str]]) -> dict[str, set[tuple[str, str]]]:
    """Each 'data: ITEM, DATE' citation in ``text`` and the rows (item, date) of data/ it names: the row
    whose date the citation starts with, or whose date starts with (or, for 'a / b' dates, holds) the
    citation's date; a span of years (2022-2024) names the item's rows in it; 'A and B' names both items."""
    import re

    found: dict[str, set[tuple[str, str]]] = {}
    for m in re.finditer(r"data: ([^,;()\"]+), ", text):
        rest = text[m.end():m.end() + 80]
        token = re.match(r"\d{4}-\d{4}\b|\d{4}(?:-\d{2}){0,2}", rest)
        rows = found.setdefault(f"{m.group(0)}{rest[:24]}", set())
        for item in (part.strip() for part in m.group(1).split(" and ")):
            exact = {date for date in dates.get(item, [])
                     if rest.startswith(date) and rest[len(date):len(date) + 1] in ("", " ", ",", ";", ":", ")", "(")}
            longest = max(exact, key=len, default=None)
            for date in dates.get(item, []):
                within = token is not None and (date.startswith(token.group()) or token.group() in date.split(" / "))
                span = (token is not None and re.fullmatch(r"\d{4}-\d{4}", token.group()) is not None
                        and date[:4].isdigit()
                        and int(token.group()[:4]) <= int(date[:4]) <= int(token.group()[5:]))
                if date == longest or (longest is None and (within or span)):
                    rows.add((item, date))
    return found


def test_no_parameter_or_recorded_figure_rests_on_a_report_published_after_the_projection_start():
    """A figure dated before 2025-01-20 may still have been read from a later report; no row that
    params/ or history.csv cites may be (the rows kept in data/ for other uses may). Every citation
    must name a row, so that none escapes the check."""
    from pathlib import Path

    figures = pd.read_csv(data_dir() / "figures-to-2025-01-20.csv", dtype=str, keep_default_na=False)
    source = {(r.item.strip(), r.date.strip()): r.source for r in figures.itertuples()}
    dates: dict[str, list[str]] = {}
    for item, date in source:
        dates.setdefault(item, []).append(date)
    cited: set[tuple[str, str]] = set()
    unresolved = []
    for path in (Path(__file__).resolve().parent.parent / "params").rglob("*.toml"):
        for citation, rows in _citations(path.read_text(), dates).items():
            if not rows and not citation.startswith("data: ITEM, "):  # base.toml's header explains the form
                unresolved.append((path.name, citation))
            cited |= rows
    history = pd.read_csv(data_dir() / "history.csv", dtype=str, keep_default_na=False)
    cited |= set(zip(history["item"], history["item_date"], strict=True))
    assert not unresolved, unresolved
    late = {key: _published_late(source[key]) for key in cited if _published_late(source[key])}
    assert len(cited) > 100 and not late, late
    # and the check can fail: rows that no parameter cites still carry later reports, a month counts whole
    assert _published_late(source[("Kiel tracker", "2022-2024")]) == ["2025-12-10"]
    assert _published_late("MinFin 2025-01") == ["2025-01"] and not _published_late("TASS 2025-01-16")
