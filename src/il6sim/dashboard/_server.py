"""The dashboard served from a background thread (notebooks, tests): :func:`background_server`."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import Il6simError

__all__ = ["background_server"]


@contextmanager
def background_server(app=None, *, host: str = "127.0.0.1", port: int = 0,
                      ready_timeout: float = 180.0) -> Iterator[str]:
    """Serve the dashboard (``app``, default :func:`~il6sim.dashboard.create_app`) from a
    thread; yields its URL (``http://127.0.0.1:PORT/``) once the model is loaded, and stops the
    server (and any running job) on exit.

    ``port=0`` takes a free port. Raises :class:`~il6sim.errors.Il6simError` if the server
    does not start or the model does not load within ``ready_timeout`` seconds.

    Jobs run in processes that import the calling script's main module (as
    :mod:`multiprocessing` does), so a script must start the server under
    ``if __name__ == "__main__":``; notebooks need nothing.
    """
    import uvicorn

    from ._app import create_app

    server = uvicorn.Server(uvicorn.Config(app or create_app(), host=host, port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True, name="il6sim-dashboard")
    thread.start()
    try:
        deadline = time.monotonic() + ready_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise Il6simError(f"the dashboard did not start on {host}:{port}; fix: check "
                                  "that the address is free")
            time.sleep(0.05)
        bound = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://{host}:{bound}/"
        while not json.load(urllib.request.urlopen(url + "api/health", timeout=10))["ready"]:
            if time.monotonic() > deadline:
                raise Il6simError(f"the dashboard's model did not load in {ready_timeout:g} s")
            time.sleep(0.2)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
