"""The browser dashboard: ``il6sim serve``.

One static page (``static/``) and a small JSON API (:mod:`._app`, FastAPI on uvicorn) with
three tabs: **Explore** (an infection untreated vs treated with tocilizumab, sarilumab or
siltuximab, fast engine), **Digital twin** (a patient's lab file fitted and forecast, a
background job) and **Trial** (a virtual trial with :mod:`il6sim.trial`, a background job).
Figures are SVG drawn by matplotlib on the server; the page loads nothing from the internet.

>>> from il6sim.dashboard import background_server, create_app
>>> app = create_app()          # an ASGI app: uvicorn.run(app, host="127.0.0.1", port=8050)
>>> with background_server() as url:    # served from a thread on a free port
...     print(url)               # http://127.0.0.1:PORT/

Details, and why FastAPI: ``docs/dashboard.md``.
"""

from ._app import create_app
from ._server import background_server

__all__ = ["background_server", "create_app"]
