"""The dashboard in a real browser: headless Debian chromium driven by Playwright.

The server runs on a free loopback port in a thread (il6sim.dashboard.background_server). The
tests change a dose and check the numbers move as the model says, submit invalid input and read
the message, fit a digital twin from an uploaded file, cancel one, run a small trial, and take
the screenshot the README shows (written to docs/figures/dashboard.png when
IL6SIM_UPDATE_SCREENSHOTS=1, to a temporary folder otherwise).

`make test` installs chromium (as root); without it these tests skip and say so.
"""

from __future__ import annotations

import os
import shutil
import urllib.request
from pathlib import Path

import pytest

from il6sim.dashboard import background_server, create_app
from waiting import LONG_WAIT_MS, LONG_WAIT_S

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "figures" / "dashboard.png"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).is_file(),
    reason="chromium not found (install Debian's: apt-get install -y chromium; make test "
           "does this as root)")


@pytest.fixture(scope="module")
def server():
    """(url, application) of a dashboard on a free loopback port."""
    application = create_app()
    with background_server(application) as url:
        yield url, application


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(server, browser):
    """A fresh page on the dashboard after its first (default) run has been shown."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(LONG_WAIT_MS)  # every wait is on an element or a state
    opened = context.new_page()
    problems = []
    opened.on("pageerror", lambda error: problems.append(str(error)))
    opened.goto(server[0])
    opened.wait_for_selector("#out-peak_crp-treated")
    yield opened
    context.close()
    assert not problems, problems


def value(page, cell: str) -> float:
    return float(page.get_attribute(f"#{cell}", "data-value"))


def run_explore(page) -> None:
    """Press Run and wait until the new result is shown."""
    page.evaluate("document.getElementById('explore-status').textContent = ''")
    page.click("#explore-run")
    page.wait_for_function(
        "document.getElementById('explore-status').textContent.startsWith('done')"
        " || !document.getElementById('explore-error').hidden")


def test_default_page_shows_severe_covid_treated_vs_untreated(page, tmp_path):
    assert page.input_value("#preset") == "covid19-severe"
    assert page.input_value("#drug") == "tocilizumab"
    assert "tocilizumab 8 mg/kg IV from day 8" in page.text_content("#explore-treated-head")
    assert value(page, "out-peak_crp-treated") < value(page, "out-peak_crp-untreated")
    assert value(page, "out-peak_drug-untreated") == 0 < value(page, "out-peak_drug-treated")
    assert value(page, "out-death_probability-treated") < value(
        page, "out-death_probability-untreated")
    assert page.locator("#explore-figure svg").count() == 1
    assert "IL-6 (pg/mL)" in page.text_content("#explore-figure")
    target = SCREENSHOT if os.environ.get("IL6SIM_UPDATE_SCREENSHOTS") == "1" else (
        tmp_path / "dashboard.png")
    page.screenshot(path=str(target), full_page=True)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_higher_dose_lowers_crp_and_raises_drug_level(page):
    # day 5: CRP is still rising in the severe preset (its peak is on day 9); 1 mg/kg would
    # raise the CRP peak here (partial blockade offset by the IL-6 that accumulates)
    page.fill("#treatment_day", "5")
    page.fill("#dose", "2")
    run_explore(page)
    low = {k: value(page, f"out-{k}-treated") for k in ("peak_drug", "peak_crp", "peak_sil6r")}
    untreated = value(page, "out-peak_crp-untreated")
    page.fill("#dose", "8")
    run_explore(page)
    high = {k: value(page, f"out-{k}-treated") for k in ("peak_drug", "peak_crp", "peak_sil6r")}
    assert high["peak_drug"] / low["peak_drug"] == pytest.approx(4.0, rel=0.02)  # IV bolus
    assert high["peak_sil6r"] > low["peak_sil6r"]  # more drug-bound receptor, not cleared
    assert high["peak_crp"] < low["peak_crp"] < untreated
    assert value(page, "out-peak_crp-untreated") == untreated
    assert page.is_hidden("#explore-error")


def test_invalid_input_shows_the_field_and_fix_and_keeps_the_form(page):
    before = page.get_attribute("#out-peak_crp-treated", "data-value")
    page.fill("#dose", "-2")
    run_explore(page)
    message = page.text_content("#explore-error")
    assert page.is_visible("#explore-error")
    assert message == ("field 'Dose': negative dose -2 mg/kg; fix: give an amount above 0, "
                       "or choose 'none' as the drug")
    assert page.input_value("#dose") == "-2"  # nothing the user typed is lost
    assert "invalid" in page.get_attribute("#dose", "class")
    assert page.get_attribute("#out-peak_crp-treated", "data-value") == before

    page.fill("#dose", "8")
    page.fill("#treatment_day", "40")
    run_explore(page)
    message = page.text_content("#explore-error")
    assert "field 'Day of first dose': day 40 is outside the 28-day simulation" in message
    assert "fix:" in message
    assert page.input_value("#treatment_day") == "40"
    assert page.input_value("#dose") == "8"
    assert page.get_attribute("#dose", "class") in (None, "")

    page.fill("#treatment_day", "8")
    run_explore(page)
    assert page.is_hidden("#explore-error")


def test_choosing_an_infection_fills_its_host(page):
    page.select_option("#preset", "endotoxemia-2ngkg")
    assert page.input_value("#duration_days") == "2"
    assert page.input_value("#treatment_day") == "0"  # day 8 would be past the end
    assert "LPS" in page.text_content("#preset-description")
    page.select_option("#drug", "sarilumab")
    assert (page.input_value("#dose"), page.input_value("#dose_unit")) == ("400", "mg")
    run_explore(page)
    assert page.is_hidden("#explore-error")
    assert "sarilumab 400 mg IV from day 0" in page.text_content("#explore-treated-head")
    assert value(page, "out-peak_drug-treated") > 0


def _upload_example(page, server, tmp_path) -> None:
    example = tmp_path / "patient308.csv"
    with urllib.request.urlopen(server[0] + "api/twin/example.csv",
                                timeout=LONG_WAIT_S) as response:
        example.write_bytes(response.read())
    page.click("#tab-twin")
    page.set_input_files("#twin-file", str(example))


def test_digital_twin_forecast_from_an_uploaded_file(page, server, tmp_path):
    _upload_example(page, server, tmp_path)
    page.fill("#twin-draws", "30")
    page.click("#twin-run")
    page.wait_for_selector("#twin-death-treated-probability")
    untreated = value(page, "twin-death-untreated-probability")
    treated = value(page, "twin-death-treated-probability")
    assert 0 <= treated <= 1 and 0 <= untreated <= 1
    assert "Patient 308" in page.text_content("#twin-summary")
    assert page.locator("#twin-figure svg").count() == 1
    assert page.locator("#twin-parameters tbody tr").count() == 7
    assert page.is_disabled("#twin-cancel") and page.is_enabled("#twin-run")


def test_twin_error_is_shown_and_cancel_stops_a_fit(page, server, tmp_path):
    _upload_example(page, server, tmp_path)
    page.fill("#twin-patient", "5")
    page.click("#twin-run")
    page.wait_for_selector("#twin-error:not([hidden])")
    assert "field 'Patient ID': 5 is not in patient308.csv" in page.text_content("#twin-error")
    assert page.input_value("#twin-patient") == "5"

    page.fill("#twin-patient", "308")
    page.click("#twin-run")
    page.wait_for_function("document.getElementById('twin-progress').value > 0")
    job = server[1].state.il6sim.jobs.get(page.get_attribute("#twin-form", "data-job"))
    assert job.process.is_alive()
    page.click("#twin-cancel")
    page.wait_for_function(
        "document.getElementById('twin-status').textContent.startsWith('cancelled')")
    assert job.status == "cancelled" and not job.process.is_alive()
    assert page.is_enabled("#twin-run")


def test_trial_tab_runs_a_small_trial(page):
    page.click("#tab-trial")
    if page.is_visible("#trial-unavailable"):
        assert "not available" in page.text_content("#trial-unavailable")
        assert page.is_disabled("#trial-run")
        return
    page.fill("#trial-n", "3")
    page.click("#trial-run")
    page.wait_for_selector("#trial-error:not([hidden])")
    assert "field 'Patients': 3 patients; fix:" in page.text_content("#trial-error")
    page.fill("#trial-n", "20")
    page.click("#trial-run")
    page.wait_for_selector("#trial-arms td, #trial-error:not([hidden])")
    assert page.is_hidden("#trial-error"), page.text_content("#trial-error")
    assert page.locator("#trial-arms tbody tr").count() >= 2
    assert page.locator("#trial-comparisons tbody tr").count() >= 1
    assert "20 patients randomised" in page.text_content("#trial-summary")
