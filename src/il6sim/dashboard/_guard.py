"""What keeps the dashboard driven by its user only: a guard in front of every request.

The dashboard has no log-in; it listens on this computer's loopback address. A web page the
user happens to visit can still send requests there (a cross-origin "simple" ``text/plain``
POST needs no permission), and a page on a domain that re-resolves to 127.0.0.1 (DNS
rebinding) even reads the answers. So, before the application sees a request:

- the ``Host`` header must name the address the request arrived at (the IP literal, or
  ``localhost`` on a loopback address) with its port, or a host given in ``allowed_hosts``:
  a foreign name is refused (403), which defeats DNS rebinding;
- a state-changing request (POST, PUT, PATCH, DELETE) carrying an ``Origin`` must come from the
  same origin, and one marked ``Sec-Fetch-Site: cross-site`` is refused (403);
- the JSON endpoints take only ``Content-Type: application/json`` and the upload only
  ``multipart/form-data`` (415): neither can be sent cross-origin without a CORS pre-flight,
  which this server never grants;
- a body larger than its endpoint's cap is refused (413) from its ``Content-Length`` before it
  is read, or, without one, as soon as the bytes received pass the cap.

Every refusal is JSON ``{"error": "<one line>; fix: ...", "field": null}``.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

__all__ = ["MAX_JSON_BYTES", "MAX_UPLOAD_BODY_BYTES", "RequestGuard"]

#: Largest JSON request body (the forms are a few hundred bytes).
MAX_JSON_BYTES = 64 * 1024

#: Largest multipart body of the twin's upload: the file cap plus room for the form fields.
MAX_UPLOAD_BODY_BYTES = 20 * 1024 * 1024 + 64 * 1024

#: Path of the multipart upload; every other POST is JSON.
UPLOAD_PATH = "/api/twin"

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def _split_host(value: str) -> tuple[str, int | None] | None:
    """``(host, port)`` of a ``Host`` header value (``[::1]:8050``, ``localhost``), or None."""
    value = value.strip().lower()
    if not value:
        return None
    try:
        parts = urlsplit("//" + value)
        port = parts.port
    except ValueError:
        return None
    if parts.hostname is None or parts.path or parts.query or parts.username is not None:
        return None
    return parts.hostname, port


def _is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or address) is this computer only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RequestGuard:
    """ASGI middleware applying the checks of the module docstring to ``app``."""

    def __init__(self, app: Callable[..., Awaitable[None]], *,
                 allowed_hosts: Iterable[str] = (), max_json_bytes: int = MAX_JSON_BYTES,
                 max_upload_bytes: int = MAX_UPLOAD_BODY_BYTES):
        self.app = app
        self.allowed_hosts = {h.lower() for h in allowed_hosts}
        self.max_json_bytes, self.max_upload_bytes = max_json_bytes, max_upload_bytes

    # ----------------------------------------------------------------- checks
    def _host_allowed(self, host: str, port: int | None, server: Any) -> bool:
        if host in self.allowed_hosts or f"{host}:{port}" in self.allowed_hosts:
            return True
        if server is None:
            return False
        server_host, server_port = str(server[0]).lower(), server[1]
        if (80 if port is None else port) != server_port:
            return False
        return host == server_host or (_is_loopback(server_host) and host in _LOOPBACK_NAMES)

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        """``(status, message)`` if the request must not reach the application."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        raw_host = headers.get("host", "")
        parsed = _split_host(raw_host)
        server = scope.get("server")
        if parsed is None or not self._host_allowed(*parsed, server):
            where = f"{server[0]}:{server[1]}" if server else "127.0.0.1"
            return 403, (f"Host '{raw_host}' is not this dashboard's address; fix: open the "
                         f"page at http://{where}/ (il6sim serve prints it)")
        method = scope.get("method", "GET").upper()
        if method in _SAFE_METHODS:
            return None
        origin = headers.get("origin")
        if origin is not None:
            source = urlsplit(origin.strip().lower())
            try:
                same = (source.scheme in ("http", "https")
                        and _split_host(source.netloc) == parsed)
            except ValueError:
                same = False
            if not same:
                return 403, (f"a request from another site ({origin}) may not drive this "
                             "dashboard; fix: use the dashboard's own page")
        if headers.get("sec-fetch-site", "").lower() == "cross-site":
            return 403, ("a request from another site may not drive this dashboard; fix: use "
                         "the dashboard's own page")
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        upload = scope.get("path") == UPLOAD_PATH
        wanted = "multipart/form-data" if upload else "application/json"
        if kind != wanted:
            return 415, (f"Content-Type '{kind or 'none'}' is not accepted here; fix: send "
                         f"{wanted}")
        length = headers.get("content-length")
        cap = self.max_upload_bytes if upload else self.max_json_bytes
        if length is not None:
            try:
                size = int(length)
            except ValueError:
                return 400, "Content-Length is not a number; fix: send a valid request"
            if size > cap:
                return 413, _too_large(cap)
        return None

    # ----------------------------------------------------------------- ASGI
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = self.refusal(scope)
        if refused is not None:
            await _answer(send, *refused)
            return
        if scope.get("method", "GET").upper() in _SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        cap = self.max_upload_bytes if scope.get("path") == UPLOAD_PATH else self.max_json_bytes
        chunks, size, more = [], 0, True
        while more:  # read the body here, up to the cap, so nothing larger reaches the app
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > cap:
                await _answer(send, 413, _too_large(cap))
                return
            chunks.append(body)
            more = message.get("more_body", False)
        replay = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replayed() -> dict[str, Any]:
            if replay:
                return replay.pop()
            return await receive()

        await self.app(scope, replayed, send)


def _too_large(cap: int) -> str:
    size = f"{cap / 2**20:.0f} MB" if cap >= 2**20 else f"{cap // 1024} kB"
    return f"the request is larger than {size}; fix: send less (one patient's rows, one form)"


async def _answer(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message, "field": None}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
