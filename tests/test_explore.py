"""The explorer (issue 17, parts 2 and 3): what its page computes, the scenario file it writes, the
inputs it refuses, and the page itself driven in headless Chromium.

The browser test uses Debian's Chromium and its driver (``apt-get install chromium
chromium-driver``; ``make test`` installs them where it can) and is skipped only where they are
missing. It saves a screenshot to ``$SANCTIONS_MODEL_SCREENSHOT`` if set (``docs/img/explorer.png``
is made so), else to the test's temporary folder, so that a CI run does not rewrite the committed one.
"""

from __future__ import annotations

import glob
import math
import os
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sanctions_model.analysis.projection import default_path, project
from sanctions_model.errors import InputError
from sanctions_model.explore import Explorer, build_app, serve, words
from sanctions_model.explore.compute import CHANCES, check_days, margin, resample
from sanctions_model.explore.scenario_file import file_name, scenario_text
from sanctions_model.inputs import ensemble_file
from sanctions_model.inputs.params import load_params
from sanctions_model.runs.run import simulate

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
#: Members the tests draw (fewer than the page's default: the tests check the method, not the precision).
MEMBERS = 20


@pytest.fixture(scope="module")
def explorer() -> Explorer:
    return Explorer("status_quo", 730, members=MEMBERS)


def settings(explorer: Explorer, scenario: str, **changes: float) -> dict[str, float]:
    values = explorer.values(scenario)
    values.update({k.replace("__", "."): v for k, v in changes.items()})
    return values


# --- what the page computes -----------------------------------------------------------------------------------


def test_the_central_run_is_simulates(explorer):
    """The numbers at the page's settings are simulate()'s with the values that differ set as overrides."""
    view = explorer.view("hard_way", settings(explorer, "hard_way", sanctions__level=0.95, russia__strain_cost=0.1))
    run = simulate("hard_way", overrides={"sanctions.level": 0.95, "russia.strain_cost": 0.1}, days=730)
    assert dict(view.params.overrides) == {"sanctions.level": 0.95, "russia.strain_cost": 0.1}
    pd.testing.assert_series_equal(view.central.outcomes, run.outcomes, check_names=False)
    for name, chance in view.chances.items():
        assert chance.central == run.outcomes[name]
        assert chance.filed == simulate("hard_way", days=730).outcomes[name]
    assert view.central.trajectories["strain"].to_numpy() == pytest.approx(run.trajectories["strain"].to_numpy())


def test_values_at_the_scenarios_are_not_overrides(explorer):
    view = explorer.view("security_guarantee", settings(explorer, "security_guarantee"))
    assert not view.params.overrides
    assert view.params.values() == load_params("security_guarantee").values()
    assert explorer.is_cached("security_guarantee", settings(explorer, "security_guarantee"))


def test_the_band_is_the_projections_on_the_members_drawn(explorer, tmp_path):
    """Each member drawn gives what sanctions-model project gives it (to the solver's tolerance: the two
    integrate different batches), and the chances are their means with the stated margin."""
    file = ensemble_file.read(default_path())
    small = tmp_path / "small.parquet"
    ensemble_file.write(file.members.iloc[:40], file.meta, small)
    mine = Explorer("status_quo", 400, ensemble=small, members=10)
    values = settings(mine, "status_quo", sanctions__level=0.9, oil__brent_price=60)
    view = mine.view("status_quo", values)
    whole = project([("x", view.params)], 400, ensemble=small, workers=1, fans=False).outcomes
    rows = whole.iloc[mine.rows]
    assert list(view.members["member"]) == list(file.members["member"].iloc[:40].to_numpy()[mine.rows])
    assert (view.members["status"] == "ok").all() and view.n_ok == 10
    for name in CHANCES:
        assert view.members[name].to_numpy() == pytest.approx(rows[name].to_numpy(), abs=2e-3)
        assert view.chances[name].members == pytest.approx(view.members[name].mean())
        assert view.chances[name].margin == pytest.approx(margin(view.chances[name].members, 10))
    band = view.band["strain"]
    assert (band["p5"] <= band["p50"]).all() and (band["p50"] <= band["p95"]).all()
    assert band.index[-1] == 400


def test_a_value_set_on_the_page_holds_for_every_member(explorer):
    """As --set does in a projection: an uncertain assumption moved away from the scenario's value is the
    same in every member (and then, with every member at the top of its range, the chances move)."""
    values = settings(explorer, "status_quo", russia__strain_cost=0.15)
    view = explorer.view("status_quo", values)
    assert view.params.overrides == {"russia.strain_cost": 0.15}
    base = explorer.view("status_quo", settings(explorer, "status_quo"))
    assert view.chances["p_ceasefire_horizon"].members > base.chances["p_ceasefire_horizon"].members


def test_resample_draws_by_weight():
    weights = np.array([0.5, 0.25, 0.125, 0.125])
    rows = resample(weights, 8, seed=1)
    assert list(np.bincount(rows, minlength=4)) == [4, 2, 1, 1]
    assert list(resample(weights, 8, seed=1)) == list(rows)
    file = ensemble_file.read(default_path())
    drawn = resample(file.members["weight"].to_numpy(), 100)
    assert len(set(drawn)) == 100 and (np.diff(drawn) > 0).all()


def test_margin():
    assert margin(0.5, 100) == pytest.approx(1.96 * 0.05, rel=1e-3)
    assert math.isnan(margin(0.5, 0)) and math.isnan(margin(math.nan, 10))


# --- the scenario file ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario, changes", [("hard_way", {"sanctions.level": 0.95, "us_aid.level": 5.0,
                                                             "russia.optimism": 0.01}),
                                               ("easy_way", {}), ("status_quo", {"relief_offer.start_day": 45.0})])
def test_the_scenario_file_round_trips(explorer, tmp_path, scenario, changes):
    values = explorer.values(scenario)
    values.update(changes)
    view = explorer.view(scenario, values)
    text = scenario_text(view.params, scenario, view.filed.params)
    path = tmp_path / file_name(scenario, bool(changes))
    path.write_text(text)
    assert path.name == (f"{scenario}-explorer.toml" if changes else f"{scenario}.toml")
    again = load_params(path)
    assert again.values() == view.params.values()
    assert simulate(str(path), days=730).outcomes.equals(view.central.outcomes)
    base = load_params()
    for parameter, value, why in again.applied[0].changes:
        assert value != base[parameter] and why
    set_here = [why for p, _, why in again.applied[0].changes if p in changes]
    assert all("explorer" in why for why in set_here) and len(set_here) == len(changes)
    # the page opens on its own file, and offers it beside the named scenarios
    mine = Explorer(str(path), 730, members=5)
    assert str(path) in mine.choices and mine.values(str(path)) == {c.name: view.params[c.name]
                                                                     for c in mine.controls}


# --- what it refuses -----------------------------------------------------------------------------------------

#: The committed ensemble's members (read from the file, so that a redrawn ensemble does not break the test).
ENSEMBLE_MEMBERS = len(pd.read_parquet(default_path(), columns=["weight"]))


@pytest.mark.parametrize("kwargs, message", [
    ({"scenario": "hard_wya"}, "Did you mean 'hard_way'"),
    ({"scenario": "history_2022_2025"}, "starts on 2022-02-24"),
    ({"scenario": 3}, "scenario must be"),
    ({"scenario": "nowhere/x.toml"}, "scenario file not found"),
    ({"days": float("nan")}, "days must be between"),
    ({"days": 99}, "days must be between 100 and 3650"),
    ({"days": 3651}, "days must be between"),
    ({"days": "730"}, "days must be a number"),
    ({"days": True}, "days must be a number"),
    ({"members": 0}, "members must be a whole number"),
    ({"members": 2.5}, "members must be a whole number"),
    ({"members": 100_000}, f"members must be at most {ENSEMBLE_MEMBERS:,} \\(the constrained ensemble's members\\)"),
    ({"ensemble": "no/such.parquet"}, "file not found"),
    ({"ensemble": 5}, "ensemble must be a path"),
])
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(InputError, match=message):
        build_app(**kwargs)


@pytest.mark.parametrize("kwargs, message", [
    ({"port": 0}, "port must be a whole number from 1 to 65535"),
    ({"port": 65536}, "port must be"),
    ({"port": "8050"}, "port must be"),
    ({"port": 80.0}, "port must be"),
    ({"host": ""}, "host must be"),
    ({"host": None}, "host must be"),
    ({"host": "a b"}, "host must be"),
    ({"days": -1}, "days must be between"),
    ({"members": -3}, "members must be"),
    ({"scenario": "hard_wya"}, "Did you mean"),
    ({"debug": "yes"}, "debug must be"),
])
def test_serve_refuses_bad_values_before_it_starts(kwargs, message):
    with pytest.raises(InputError, match=message):
        serve(**kwargs)


def test_serve_refuses_a_port_in_use():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(InputError, match=f"port {port} on 127.0.0.1 is in use"):
            serve(port=port)


@pytest.mark.parametrize("values, message", [
    ({"sanctions.level": 1.5}, r"explorer: parameter 'sanctions.level' = 1.5 is outside its range \[0, 1\]"),
    ({"oil.brent_price": float("nan")}, "must be a finite number"),
    ({"sanctions.level": None}, r"Western sanctions \(sanctions.level\): enter a number from 0 to 1 index 0-1; the "
                                r"box is empty"),
    ({"sanctions.level": "high"}, "enter a number from 0 to 1 index 0-1; got 'high'"),
    ({"sanctions.levels": 0.5}, "not one of the page's controls"),
])
def test_bad_values_on_the_page_are_refused(explorer, values, message):
    with pytest.raises(InputError, match=message):
        explorer.view("status_quo", {**explorer.values("status_quo"), **values})


def test_check_days():
    assert check_days(100) == 100.0 and check_days(np.float64(3650)) == 3650.0


def test_without_dash_the_message_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "dash", None)  # import dash now raises ImportError
    for call in (build_app, lambda: serve(port=65000)):
        with pytest.raises(InputError, match=r"the explorer needs Dash: pip install 'sanctions-model\[explore\]'"):
            call()


def test_importing_the_package_needs_no_dash():
    code = ("import sys; sys.modules['dash'] = None; sys.modules['plotly'] = None\n"
            "import sanctions_model, sanctions_model.explore\n"
            "from sanctions_model.explore import Explorer, build_app, serve\n"
            "assert 'dash' not in [m for m in sys.modules if sys.modules[m] is not None]")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_the_page_is_built_with_stable_ids():
    app = build_app("easy_way", days=365, members=MEMBERS)
    layout = str(app.layout)
    for slug in ("p-talks-100-days", "p-talks-horizon", "p-ceasefire-100-days", "p-ceasefire-horizon",
                 "members-p-ceasefire-horizon", "slider-sanctions-level", "slider-russia-strain-cost",
                 "fig-strain", "fig-p-ceasefire", "download-button", "scenario", "summary", "timing"):
        assert f"'{slug}'" in layout, slug
    assert "cdn" not in app.index().lower()  # scripts come from the installed package


# --- the page in a real browser ------------------------------------------------------------------------------


@pytest.fixture
def browser(tmp_path):
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(f"no browser: the test needs Debian's {CHROMIUM} and {CHROMEDRIVER} "
                    "(apt-get install chromium chromium-driver; make test installs them when run as root)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,1000"):
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="chromium-", dir=tmp_path)
    options.add_argument(f"--user-data-dir={profile}")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def served():
    """The explorer on a free port of 127.0.0.1, in a thread of this process; shut down afterwards."""
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = build_app("status_quo", 730)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        thread.join(timeout=30)


def _text(driver, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, element_id).text


def _last_central(driver, figure: str) -> float:
    """The last value of a panel's line 'at these settings' (its fifth trace), as the browser holds it."""
    return driver.execute_script(
        "const d = document.querySelector(arguments[0] + ' .js-plotly-plot').data[4].y; return d[d.length - 1];",
        f"#{figure}")


#: Records, in the page, when a key is pressed and when each panel is drawn after it (browser clock).
REDRAW_CLOCK = """
window.explorerClock = {pressed: null, drawn: {}};
document.addEventListener('keydown', () => { window.explorerClock = {pressed: performance.now(), drawn: {}}; }, true);
for (const gd of document.querySelectorAll('.js-plotly-plot')) {
  gd.on('plotly_afterplot', () => { window.explorerClock.drawn[gd.parentElement.id] = performance.now(); });
}
"""


def _redrawn(driver) -> float | None:
    """Seconds from the last key press to the last of the four panels drawn, or None until all four are."""
    return driver.execute_script("const c = window.explorerClock; const t = Object.values(c.drawn);"
                                 "return c.pressed !== null && t.length === 4 ? (Math.max(...t) - c.pressed) / 1000"
                                 " : null;")


def _shows(driver, run, view) -> None:
    """The page shows simulate()'s chances for the run, to the shown precision, and the members'."""
    for name in CHANCES:
        slug = name.replace("_", "-")
        assert _text(driver, slug) == words.chance(run.outcomes[name]), name
        assert _text(driver, f"members-{slug}") == words.members_line(view, name), name
    assert _last_central(driver, "fig-strain") == pytest.approx(run.trajectories["strain"].iloc[-1], rel=1e-9)


def test_the_explorer_in_a_browser(browser, served, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    app, url = served
    explorer = app.explorer
    wait = WebDriverWait(browser, 120)
    browser.get(url)
    wait.until(lambda d: _text(d, "p-ceasefire-horizon") not in ("", "...") and _text(d, "summary"))
    assert browser.title == "sanctions-model explorer"
    values = explorer.values("status_quo")
    _shows(browser, simulate("status_quo", days=730), explorer.view("status_quo", values))
    assert "constrained-ensemble.parquet" in _text(browser, "provenance")
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert loaded and all(u.startswith(url) for u in loaded), [u for u in loaded if not u.startswith(url)]  # no CDN
    before = {"summary": _text(browser, "summary"), "strain": _last_central(browser, "fig-strain")}
    browser.execute_script(REDRAW_CLOCK)

    # move a lever: sanctions to a full embargo (the End key on the slider's handle)
    handle = browser.find_element(By.CSS_SELECTOR, "#slider-sanctions-level [role=slider]")
    handle.send_keys(Keys.END)
    wait.until(lambda d: _text(d, "summary") != before["summary"] and "Western sanctions 1 " in _text(d, "summary"))
    wait.until(lambda d: _last_central(d, "fig-strain") != before["strain"])
    redraw = wait.until(_redrawn)
    run = simulate("status_quo", overrides={"sanctions.level": 1.0}, days=730)
    view = explorer.view("status_quo", {**values, "sanctions.level": 1.0})
    _shows(browser, run, view)
    assert _last_central(browser, "fig-strain") > before["strain"]  # more sanctions, more strain
    print(f"\nexplorer: the last panel was drawn {redraw:.2f} s after the key press. {_text(browser, 'timing')}")

    # the settings as a scenario file: the download gives what load_params reads back as these values
    browser.find_element(By.ID, "download-button").click()
    wait.until(lambda d: glob.glob(str(browser.downloads / "*.toml")))
    downloaded = Path(glob.glob(str(browser.downloads / "*.toml"))[0])
    assert downloaded.name == "status_quo-explorer.toml"
    assert load_params(downloaded).values() == run.params.values()

    shot = Path(os.environ.get("SANCTIONS_MODEL_SCREENSHOT") or tmp_path / "explorer.png")
    shot.parent.mkdir(parents=True, exist_ok=True)
    browser.set_window_size(1400, 1120)
    browser.execute_script("window.scrollTo(0, 0)")
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000

    # a scenario chosen in the list resets the levers to its values
    browser.find_element(By.ID, "scenario").click()
    wait.until(lambda d: d.find_elements(By.XPATH, "//*[normalize-space(text())='The hard way']"))
    browser.find_element(By.XPATH, "//*[normalize-space(text())='The hard way']").click()
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#slider-sanctions-level [role=slider]")
               .get_attribute("aria-valuenow") == "0.8")
    wait.until(lambda d: _text(d, "summary").startswith("With The hard way as filed"))
    _shows(browser, simulate("hard_way", days=730), explorer.view("hard_way", explorer.values("hard_way")))


def test_the_command_starts_the_page_on_127_0_0_1_and_stops_on_a_signal():
    """``sanctions-model explore`` is the one command: it serves the page on the loopback address
    until stopped."""
    import signal
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "sanctions_model.cli", "explore", "--port", str(port),
                             "--members", "10"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url, page, deadline = f"http://127.0.0.1:{port}/", "", time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    page = response.read().decode()
                break
            except OSError:
                time.sleep(0.5)
        assert "<title>sanctions-model explorer</title>" in page, (proc.poll(), page[:200])
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            output = proc.communicate(timeout=60)[0]
        except subprocess.TimeoutExpired:
            proc.kill()
            output = proc.communicate()[0]
    assert f"sanctions-model explorer: {url}" in output and "Traceback" not in output, output
