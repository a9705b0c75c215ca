"""The dashboard's JSON API on a real server (il6sim serve): model numbers, one-line errors
naming the field and the fix, background jobs that a cancel really stops, the serve command.

The browser tests are in tests/test_dashboard.py.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
import uuid

import pytest
from typer.testing import CliRunner

from il6sim.cli import app as cli_app
from il6sim.dashboard import background_server, create_app
from waiting import LONG_WAIT_S, wait_until


@pytest.fixture(scope="module")
def server():
    """The dashboard on a free loopback port: (url, application)."""
    application = create_app()
    with background_server(application) as url:
        yield url, application


def call(url: str, path: str, data=None, *, files=None) -> tuple[int, dict]:
    """``(status, JSON body)`` of a GET (no data), JSON POST (data) or multipart POST (files)."""
    headers, body = {}, None
    if files is not None:
        body, headers["Content-Type"] = _multipart(data or {}, files)
    elif data is not None:
        body, headers["Content-Type"] = json.dumps(data).encode(), "application/json"
    request = urllib.request.Request(url + path.lstrip("/"), data=body, headers=headers,
                                     method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=LONG_WAIT_S) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def _multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    for name, (filename, content) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
                     + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def example_csv(url: str) -> bytes:
    with urllib.request.urlopen(url + "api/twin/example.csv", timeout=LONG_WAIT_S) as response:
        return response.read()


def wait_for(url: str, job: str, condition, timeout: float = LONG_WAIT_S) -> dict:
    """The job's snapshot once ``condition`` holds (or after ``timeout``, a hang)."""
    deadline = time.monotonic() + timeout
    while True:
        status, snapshot = call(url, f"api/jobs/{job}")
        assert status == 200, snapshot
        if condition(snapshot) or time.monotonic() > deadline:
            return snapshot
        time.sleep(0.2)


# --------------------------------------------------------------------------- explore
def test_explore_numbers_follow_the_dose(server):
    """Peak drug level is proportional to an IV bolus; a larger tocilizumab dose raises total
    sIL-6R (drug-bound receptor is not cleared) and lowers peak CRP when given on day 5, while
    CRP is still rising in the severe preset; the untreated arm does not depend on the dose."""
    url, _ = server
    runs = {}
    for dose in (2, 8):
        status, body = call(url, "api/explore", {"preset": "covid19-severe", "drug":
                                                 "tocilizumab", "dose": str(dose),
                                                 "treatment_day": "5"})
        assert status == 200, body
        runs[dose] = body["numbers"]
        assert body["svg"].startswith("<svg")
    low, high = runs[2]["treated"], runs[8]["treated"]
    assert high["peak_drug"] / low["peak_drug"] == pytest.approx(4.0, rel=0.02)
    assert high["peak_sil6r"] > low["peak_sil6r"]
    # (1 mg/kg raises the CRP peak in this model: partial IL-6R blockade is offset by the IL-6
    # that accumulates when its receptor-mediated clearance is blocked)
    assert high["peak_crp"] < low["peak_crp"] < runs[2]["untreated"]["peak_crp"]
    assert runs[2]["untreated"] == runs[8]["untreated"]
    assert runs[8]["treated"]["death_probability"] < runs[8]["untreated"]["death_probability"]


def test_explore_without_drug_has_one_arm(server):
    url, _ = server
    status, body = call(url, "api/explore", {"preset": "influenza", "drug": "none",
                                             "dose": "-5", "duration_days": "10"})
    assert status == 200, body
    assert list(body["numbers"]) == ["untreated"]
    assert body["numbers"]["untreated"]["peak_drug"] == 0
    assert len(body["days"]) == len(body["curves"]["untreated"]["il6"])


@pytest.mark.parametrize(("data", "field", "words"), [
    ({"dose": "-2"}, "dose", ["'Dose'", "negative dose -2 mg/kg", "fix:"]),
    ({"treatment_day": "40"}, "treatment_day", ["'Day of first dose'", "28-day", "fix:"]),
    ({"treatment_day": "10", "duration_days": "9"}, "treatment_day", ["9-day", "fix:"]),
    ({"age": "old"}, "age", ["'Age'", "'old' is not a number", "fix:"]),
    ({"preset": "covid-19-severe"}, "preset", ["unknown infection", "did you mean"]),
    ({"drug": "siltuximab", "route": "sc"}, "route", ["no 'sc' route", "fix: choose iv"]),
    ({"n_doses": "0"}, "n_doses", ["'Number of doses'", "fix:"]),
    ({"volume": "3"}, "volume", ["not a field", "fix:"]),
])
def test_explore_errors_name_the_field_and_fix(server, data, field, words):
    url, _ = server
    status, body = call(url, "api/explore", data)
    assert status == 422
    assert body["field"] == field
    assert "\n" not in body["error"] and "Traceback" not in body["error"]
    for word in words:
        assert word in body["error"]


def test_options_list_presets_drugs_and_regimens(server):
    url, _ = server
    status, options = call(url, "api/options")
    assert status == 200
    severe = next(p for p in options["presets"] if p["name"] == "covid19-severe")
    assert (severe["age"], severe["ifn_capacity"], severe["duration_days"]) == (75, 0.2, 28)
    assert options["drugs"]["tocilizumab"]["dose"] == 8
    assert options["drugs"]["siltuximab"]["routes"] == ["iv"]
    assert "tocilizumab-covid-8mgkg" in options["regimens"]


# --------------------------------------------------------------------------- twin
def test_twin_example_file_is_one_patient(server):
    url, _ = server
    lines = example_csv(url).decode().splitlines()
    assert lines[0].startswith("PATIENT_ID,")
    assert len(lines) > 10 and all(line.startswith("308,") for line in lines[1:])


@pytest.mark.parametrize(("fields", "file", "field", "words"), [
    ({}, None, "file", ["no file chosen", "fix:"]),
    ({}, b"", "file", ["is empty", "fix:"]),
    ({}, b"a,b\n1,2\n", "file", ["PATIENT_ID", "labs.csv"]),
    ({"patient": "5"}, "example", "patient", ["5 is not in labs.csv", "308"]),
    ({"fit_days": "-1"}, "example", "fit_days", ["-1 days", "fix:"]),
    ({"regimen": "tocilizumab-9mgkg"}, "example", "regimen", ["unknown regimen", "fix:"]),
])
def test_twin_errors_name_the_field_and_fix(server, fields, file, field, words):
    url, _ = server
    content = example_csv(url) if file == "example" else file
    files = {} if content is None else {"file": ("labs.csv", content)}
    status, body = call(url, "api/twin", fields, files=files)
    assert status == 422, body
    assert body["field"] == field
    for word in words:
        assert word in body["error"]


def test_cancel_stops_the_twin_process(server):
    url, application = server
    status, body = call(url, "api/twin", {"fit_days": "3"},
                        files={"file": ("p308.csv", example_csv(url))})
    assert status == 200, body
    job = body["job"]
    running = wait_for(url, job, lambda s: s["progress"] > 0
                       or s["status"] not in ("starting", "running"))
    assert running["status"] == "running", running
    process = application.state.il6sim.jobs.get(job).process
    assert process.is_alive()
    status, cancelled = call(url, f"api/jobs/{job}/cancel", {})
    assert status == 200 and cancelled["status"] == "cancelled"
    assert not process.is_alive()
    time.sleep(0.5)
    assert call(url, f"api/jobs/{job}")[1]["status"] == "cancelled"


# --------------------------------------------------------------------------- trial
def test_trial_errors_and_cancel(server):
    url, application = server
    _, options = call(url, "api/options")
    if not options["trial_engine"]:
        status, body = call(url, "api/trial", {"n_patients": "20"})
        assert status == 503 and "not available" in body["error"]
        return
    status, body = call(url, "api/trial", {"n_patients": "5"})
    assert status == 422 and body["field"] == "n_patients" and "fix:" in body["error"]
    status, body = call(url, "api/trial", {"trial": "recovery", "n_patients": "20"})
    assert status == 422 and body["field"] == "trial"
    status, body = call(url, "api/trial", {"n_patients": "2000"})
    assert status == 200, body
    job = application.state.il6sim.jobs.get(body["job"])
    snapshot = wait_for(url, job.id, lambda s: s["status"] != "starting")
    assert snapshot["status"] == "running", snapshot.get("error")
    assert job.folder.is_dir()  # the trial's chunks
    call(url, f"api/jobs/{job.id}/cancel", {})
    assert job.status == "cancelled" and not job.process.is_alive()
    wait_until(lambda: not job.folder.exists(), "the cancelled trial's folder removed",
               interval=0.2)


def test_unknown_job_is_one_line(server):
    url, _ = server
    status, body = call(url, "api/jobs/nosuchjob")
    assert status == 400 and body["error"].startswith("no job 'nosuchjob'")


# --------------------------------------------------------------------------- il6sim serve
def test_serve_rejects_a_bad_port_and_a_busy_one():
    runner = CliRunner()
    result = runner.invoke(cli_app, ["serve", "--port", "70000", "--no-browser"])
    assert result.exit_code == 2
    assert "error: --port 70000 is not a port number; fix:" in result.output
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(cli_app, ["serve", "--port", str(port), "--no-browser"])
    assert result.exit_code == 2
    assert f"error: cannot listen on 127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output
