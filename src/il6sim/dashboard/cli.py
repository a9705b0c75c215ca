"""Command line of the dashboard: ``il6sim serve``.

:func:`register` adds the command to a :class:`typer.Typer` app. A bad host or a port in use is
printed as ``error: <message>`` with exit code 2, never a traceback.
"""

from __future__ import annotations

import socket
import threading
import time
import webbrowser
from typing import Annotated

import typer

from .._cli_errors import reporting_errors
from ..errors import InputError
from ._guard import _is_loopback

__all__ = ["register"]


def _check_address(host: str, port: int) -> None:
    """Fail with one line when ``port`` is out of range or cannot be bound on ``host``."""
    if not 1 <= port <= 65535:
        raise InputError(f"--port {port} is not a port number; fix: give 1024 to 65535, "
                         "e.g. --port 8050")
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror:
        raise InputError(f"--host '{host}' is not an address of this computer; fix: use "
                         "127.0.0.1 (this computer only)") from None
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise InputError(f"cannot listen on {host}:{port} ({exc.strerror}); fix: choose "
                             f"another port, e.g. --port {port + 1}") from None


def serve(
    host: Annotated[str, typer.Option(
        "--host", help="Address to listen on. The default is reachable from this computer "
                       "only; the dashboard has no log-in, so keep it that way.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8050,
    no_browser: Annotated[bool, typer.Option(
        "--no-browser", help="Do not open the page in a web browser.")] = False,
    allow_host: Annotated[list[str] | None, typer.Option(
        "--allow-host", help="Another name the page may be opened under (e.g. this "
                             "computer's name with --host 0.0.0.0). Repeatable.",
        show_default=False)] = None,
) -> None:
    """Open the browser dashboard: explore an infection treated vs untreated, fit a patient's
    digital twin, run a virtual trial.

    Everything runs on this computer; stop the server with Ctrl+C.
    """
    import uvicorn

    from . import create_app

    _check_address(host, port)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{port}/"
    if not _is_loopback(host):
        typer.echo(f"warning: listening on {host}: anyone who can reach this computer can use "
                   "the dashboard (it has no log-in)", err=True)
    application = create_app(allowed_hosts=tuple(allow_host or ()))
    server = uvicorn.Server(uvicorn.Config(application, host=host, port=port,
                                           log_level="warning"))
    typer.echo(f"il6sim dashboard on {url}; loading the model, a line follows when it is ready "
               "(Ctrl+C to stop)")
    threading.Thread(target=_report_ready, args=(application, time.monotonic()),
                     daemon=True).start()
    if not no_browser:
        threading.Thread(target=_open_when_started, args=(server, url), daemon=True).start()
    server.run()


def _report_ready(application, started: float) -> None:
    """Print when the application's model has loaded (or failed to), with the time it took."""
    state = application.state.il6sim
    state.ready.wait()
    seconds = time.monotonic() - started
    if state.warm_error:
        typer.echo(f"warning: the model failed to load after {seconds:.0f} s "
                   f"({state.warm_error}); the page shows each request's error", err=True)
    else:
        typer.echo(f"model ready after {seconds:.0f} s")


def _open_when_started(server, url: str, timeout: float = 60.0) -> None:
    """Open ``url`` in the default browser once ``server`` accepts connections."""
    deadline = time.monotonic() + timeout
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.1)
    if server.started:
        webbrowser.open(url)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to ``app``."""
    app.command("serve", epilog="Example: il6sim serve --port 8050 --no-browser")(
        reporting_errors(serve))
