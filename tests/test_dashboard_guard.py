"""The dashboard answers its own page only: foreign Host and Origin refused, JSON required,
bodies capped before they are read, odd JSON and NaN answered with a 4xx naming the field, and a
refused trial start leaves no folder behind. A real server on a loopback port; no browser.
"""

from __future__ import annotations

import http.client
import json
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from il6sim.dashboard import background_server, create_app
from il6sim.dashboard._guard import MAX_JSON_BYTES, MAX_UPLOAD_BODY_BYTES
from waiting import LONG_WAIT_S


@pytest.fixture(scope="module")
def address():
    """``(host, port)`` of a dashboard served without the warm-up (nothing here needs it)."""
    with background_server(create_app(warm_up=False)) as url:
        parts = urlsplit(url)
        yield parts.hostname, parts.port


def send(address, method: str, path: str, body: bytes | None = None, *,
         headers: dict[str, str] | None = None) -> tuple[int, dict]:
    """``(status, JSON body)`` of one request with exactly ``headers`` (Host included)."""
    host, port = address
    connection = http.client.HTTPConnection(host, port, timeout=LONG_WAIT_S)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        sent = {"Host": f"{host}:{port}", **(headers or {})}
        if body is not None and "Content-Length" not in sent:
            sent["Content-Length"] = str(len(body))
        for name, value in sent.items():
            if value is not None:
                connection.putheader(name, value)
        connection.endheaders()
        if body is not None:
            connection.send(body)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def post_json(address, path: str, data, **headers) -> tuple[int, dict]:
    return send(address, "POST", path, json.dumps(data).encode(),
                headers={"Content-Type": "application/json", **headers})


# --------------------------------------------------------------------------- who may ask
def test_a_cross_origin_text_plain_post_is_refused(address):
    status, body = send(address, "POST", "/api/explore", b'{"drug": "none"}',
                        headers={"Content-Type": "text/plain",
                                 "Origin": "http://evil.example"})
    assert status == 403 and "another site" in body["error"] and "fix:" in body["error"]


def test_a_cross_origin_json_post_and_cancel_are_refused(address):
    status, body = post_json(address, "/api/trial", {"n_patients": "20"},
                             Origin="http://evil.example")
    assert status == 403, body
    status, body = post_json(address, "/api/jobs/abc/cancel", {},
                             Origin="http://127.0.0.1.evil.example")
    assert status == 403, body
    status, body = post_json(address, "/api/jobs/abc/cancel", {}, **{"Sec-Fetch-Site":
                                                                     "cross-site"})
    assert status == 403, body


def test_a_post_from_the_page_itself_passes_the_guard(address):
    host, port = address
    status, body = post_json(address, "/api/jobs/nosuchjob/cancel", {},
                             Origin=f"http://{host}:{port}")
    assert status == 400 and body["error"].startswith("no job 'nosuchjob'")


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1:1",
                                  "localhost.evil.example:{port}", ""])
def test_a_foreign_host_header_is_refused(address, host):
    """DNS rebinding: a page on evil.example re-resolved to 127.0.0.1 sends Host evil.example."""
    status, body = send(address, "GET", "/api/options",
                        headers={"Host": host.format(port=address[1])})
    assert status == 403 and "not this dashboard's address" in body["error"], body


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}"])
def test_the_served_address_is_accepted(address, host):
    status, _ = send(address, "GET", "/api/health", headers={"Host": host.format(port=address[1])})
    assert status == 200


@pytest.mark.parametrize(("path", "kind"), [("/api/explore", "text/plain"),
                                            ("/api/trial", "application/x-www-form-urlencoded"),
                                            ("/api/jobs/abc/cancel", None),
                                            ("/api/twin", "application/json")])
def test_endpoints_take_only_their_content_type(address, path, kind):
    status, body = send(address, "POST", path, b"{}", headers={"Content-Type": kind})
    assert status == 415 and "fix: send" in body["error"], body


# --------------------------------------------------------------------------- how much
def test_a_large_json_body_is_refused_before_it_is_read(address):
    """The Content-Length alone decides: the server answers without waiting for the body."""
    status, body = send(address, "POST", "/api/explore", b"",
                        headers={"Content-Type": "application/json",
                                 "Content-Length": str(50 * 2**20)})
    assert status == 413 and "larger than" in body["error"]


def test_a_large_chunked_body_is_refused_at_the_cap(address):
    host, port = address
    connection = http.client.HTTPConnection(host, port, timeout=LONG_WAIT_S)
    try:
        payload = b'{"x": "' + b"a" * (MAX_JSON_BYTES + 10) + b'"}'
        connection.request("POST", "/api/explore", body=iter([payload]),
                           headers={"Content-Type": "application/json"},
                           encode_chunked=True)
        response = connection.getresponse()
        assert response.status == 413, response.read()
    finally:
        connection.close()


def test_an_upload_over_the_cap_is_refused_before_it_is_read(address):
    status, body = send(address, "POST", "/api/twin", b"",
                        headers={"Content-Type": "multipart/form-data; boundary=x",
                                 "Content-Length": str(MAX_UPLOAD_BODY_BYTES + 1)})
    assert status == 413, body


# --------------------------------------------------------------------------- what
@pytest.mark.parametrize("raw", [b"[" * 30_000 + b"]" * 30_000, b"[1, 2]", b'"text"',
                                 b"{not json", b"null"])
def test_odd_json_bodies_are_a_400(address, raw):
    status, body = send(address, "POST", "/api/explore", raw,
                        headers={"Content-Type": "application/json"})
    assert status == 400, body
    assert "fix:" in body["error"] and "\n" not in body["error"]


@pytest.mark.parametrize("value", [{"a": [1, {"b": 2}]}, [[[1]]], True])
def test_a_nested_value_in_a_field_names_the_field(address, value):
    status, body = post_json(address, "/api/explore", {"age": value})
    assert status == 422 and body["field"] == "age", body


@pytest.mark.parametrize("field", ["age", "ifn_capacity", "body_weight", "duration_days",
                                   "dose", "treatment_day", "interval_days", "n_doses"])
@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_nan_in_any_numeric_field_is_refused_naming_it(address, field, number):
    raw = f'{{"drug": "tocilizumab", "n_doses": 2, "{field}": {number}}}'.encode()
    status, body = send(address, "POST", "/api/explore", raw,
                        headers={"Content-Type": "application/json"})
    assert status == 422, body
    assert body["field"] == field and "fix:" in body["error"], body


# --------------------------------------------------------------------------- no litter
def test_a_refused_trial_start_leaves_no_folder(tmp_path, monkeypatch):
    """A second trial while one runs is refused; its temporary folder is removed at once."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    application = create_app(warm_up=False)
    with background_server(application) as url:
        parts = urlsplit(url)
        address = (parts.hostname, parts.port)
        status, options = send(address, "GET", "/api/options")
        assert status == 200, options
        if not options["trial_engine"]:
            pytest.skip("no trial engine in this installation")
        status, body = post_json(address, "/api/trial", {"n_patients": "2000"})
        assert status == 200, body
        job = application.state.il6sim.jobs.get(body["job"])
        folders = set(Path(tmp_path).glob("il6sim-trial-*"))
        assert folders == {job.folder}
        status, refused = post_json(address, "/api/trial", {"n_patients": "20"})
        assert status == 400 and "already running" in refused["error"], refused
        assert set(Path(tmp_path).glob("il6sim-trial-*")) == folders
        post_json(address, f"/api/jobs/{job.id}/cancel", {})
        deadline = time.monotonic() + LONG_WAIT_S  # only a folder never removed fails
        while job.folder.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not job.folder.exists()


# --------------------------------------------------------------------------- readiness
def test_serve_prints_when_the_model_is_ready():
    """`il6sim serve` says when the model has loaded (or failed to), not "a few seconds": the
    line comes once /api/health reports ready. Waits on the line itself (generous bound)."""
    import queue
    import socket
    import subprocess
    import sys
    import threading

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = str(Path(sys.executable).with_name("il6sim"))
    process = subprocess.Popen([script, "serve", "--port", str(port), "--no-browser"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout],
                     daemon=True).start()
    try:
        seen = []
        while not any("model ready after" in s or "failed to load" in s for s in seen):
            seen.append(lines.get(timeout=LONG_WAIT_S))  # a hang fails here
        assert "loading the model" in seen[0] and "few seconds" not in seen[0], seen
        status, health = send(("127.0.0.1", port), "GET", "/api/health")
        assert status == 200 and health["ready"] is True
        assert ("failed to load" in seen[-1]) == bool(health["warm_up_error"]), (seen, health)
    finally:
        process.terminate()
        process.wait(timeout=LONG_WAIT_S)
