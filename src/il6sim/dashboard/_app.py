"""The dashboard's web application (FastAPI): one static page and a small JSON API.

Routes
------
``GET /``                       the page (``static/index.html``; scripts and styles beside it)
``GET /api/health``             ``{"ready": ...}``: the model is built and jobs can start fast
``GET /api/options``            presets with their host, drugs with routes and default dose,
                                label regimens, trials (or why there are none)
``POST /api/explore``           one infection untreated vs treated (JSON form → numbers, SVG)
``POST /api/twin``              start a digital-twin fit (multipart: ``file`` + form fields)
``GET /api/twin/example.csv``   one shipped patient's labs, a file to try the twin with
``POST /api/trial``             start a virtual trial (JSON form)
``GET /api/jobs/{id}``          a job's status, progress, message and result or error
``POST /api/jobs/{id}/cancel``  stop a job now

Every invalid input is answered with status 422 and ``{"error": <one line naming the field and
the fix>, "field": <input name or null>}`` (NaN and infinity included); a body that is not a
flat JSON object and other il6sim errors with 400; a crash with 500 and a one-line message (the
traceback goes to the server's log). Before any of this, :mod:`._guard` refuses a foreign
``Host`` or ``Origin`` (403), a POST that is not JSON (or multipart for the upload, 415) and a
body over its cap (413); more than :data:`MAX_CONCURRENT_EXPLORES` explores at once get 429.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import shutil
import tempfile
import threading
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from ..errors import Il6simError, InputError
from ._forms import ExploreForm, FormError, TrialForm, TwinForm, validate_form
from ._guard import RequestGuard
from ._jobs import JobManager, start_forkserver

__all__ = ["create_app"]

STATIC = Path(__file__).parent / "static"

#: Largest lab file accepted by the twin tab.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024

#: Explore simulations run at once; more are refused (429) rather than queued.
MAX_CONCURRENT_EXPLORES = 2

#: Patient of the shipped cohort offered as the twin's example file.
EXAMPLE_PATIENT = "308"

_log = logging.getLogger(__name__)


class _State:
    """What the application keeps between requests."""

    def __init__(self) -> None:
        self.jobs = JobManager()
        self.ready = threading.Event()
        self.explore_slots = threading.BoundedSemaphore(MAX_CONCURRENT_EXPLORES)
        self.warm_error: str | None = None

    def warm_up(self) -> None:
        """Build the model, the presets' defaults and the fast engine, start the forkserver."""
        try:
            from ._explore import run_explore

            _options()
            run_explore(ExploreForm(duration_days=2, drug="none"))
            start_forkserver()
        except Exception as exc:  # the page says so; requests still report their own errors
            _log.exception("warm-up failed")
            self.warm_error = f"{type(exc).__name__}: {exc}"
        finally:
            self.ready.set()


@lru_cache(maxsize=1)
def _options() -> dict[str, Any]:
    """Choices the page offers (presets, drugs, regimens, trials); static for a server's life."""
    from ..pharmacology import label_regimens, list_drugs, load_drug
    from ._explore import preset_defaults
    from ._work import trial_engine

    drugs = {}
    for name, description in list_drugs().items():
        drug = load_drug(name)
        regimens = label_regimens()
        default = regimens.get(drug.default_regimen or "")
        amount, unit = (default.amount.split() if default is not None else ("8", "mg/kg"))
        drugs[name] = {"description": description, "routes": list(drug.routes),
                       "dose": float(amount), "dose_unit": unit,
                       "route": default.route if default is not None else "iv"}
    trial = trial_engine()
    trials: list[dict[str, str]] = []
    if trial is not None:
        listed = trial.list_trials()
        items = listed.items() if isinstance(listed, dict) else ((str(t), "") for t in listed)
        trials = [{"name": str(k), "description": str(v)} for k, v in items]
    return {"presets": preset_defaults(), "drugs": drugs,
            "regimens": ["none", *label_regimens()],
            "trial_engine": trial is not None, "trials": trials}


def _error(status: int, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "field": field}, status_code=status)


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise InputError("the request body is not JSON; fix: send the form as a JSON object") \
            from None
    except RecursionError:
        raise InputError("the request body is nested too deeply; fix: send the form as a flat "
                         "JSON object of field: value") from None


def create_app(*, warm_up: bool = True, allowed_hosts: tuple[str, ...] = ()) -> FastAPI:
    """The dashboard application; ``warm_up`` builds the model in the background at start-up
    (``GET /api/health`` says when it is ready).

    Requests pass :class:`~il6sim.dashboard._guard.RequestGuard` first: the ``Host`` must be the
    address the server answers on (or one of ``allowed_hosts``, e.g. a reverse proxy's name),
    a POST must come from the page itself with a JSON (or, for the upload, multipart) body
    under its size cap.
    """
    state = _State()

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if warm_up:
            threading.Thread(target=state.warm_up, daemon=True, name="il6sim-warm-up").start()
        else:
            state.ready.set()
        yield
        state.jobs.shutdown()

    app = FastAPI(title="il6sim dashboard", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.il6sim = state
    app.add_middleware(RequestGuard, allowed_hosts=allowed_hosts)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(FormError)
    async def _form_error(_request: Request, exc: FormError) -> JSONResponse:
        return _error(422, str(exc), exc.field)

    @app.exception_handler(Il6simError)
    async def _il6sim_error(_request: Request, exc: Il6simError) -> JSONResponse:
        return _error(400, str(exc))

    @app.exception_handler(Exception)
    async def _crash(_request: Request, exc: Exception) -> JSONResponse:
        _log.exception("dashboard request failed")
        return _error(500, f"unexpected {type(exc).__name__}: {exc} (a bug; please report it "
                           "with what you entered)")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/api/health")
    def health() -> dict[str, Any]:
        return {"ready": state.ready.is_set(), "warm_up_error": state.warm_error}

    @app.get("/api/options")
    def options() -> dict[str, Any]:
        return _options()

    @app.post("/api/explore")
    async def explore(request: Request) -> dict[str, Any]:
        from ._explore import run_explore

        form = validate_form(ExploreForm, await _json(request))
        if not state.explore_slots.acquire(blocking=False):
            return _error(429, f"{MAX_CONCURRENT_EXPLORES} simulations are already running; "
                               "fix: wait for one to finish and try again")
        try:
            return await run_in_threadpool(run_explore, form)
        finally:
            state.explore_slots.release()

    @app.post("/api/twin")
    async def twin(request: Request) -> dict[str, Any]:
        from ._work import run_twin_job

        form = await request.form()
        upload = form.get("file")
        fields = {k: v for k, v in form.items() if k != "file"}
        settings = validate_form(TwinForm, fields)
        if upload is None or isinstance(upload, str) or not upload.filename:
            raise FormError("field 'Lab file (CSV)': no file chosen; fix: choose a CSV file "
                            "(or download the example and use it)", "file")
        content = await upload.read(MAX_UPLOAD_BYTES + 1)
        series = await run_in_threadpool(_patient, content, upload.filename, settings)
        payload = {"series": series, "fit_days": settings.fit_days,
                   "horizon_days": settings.horizon_days, "draws": settings.draws,
                   "regimen": None if settings.regimen == "none" else settings.regimen,
                   "body_weight": settings.body_weight}
        return {"job": state.jobs.start("twin", run_twin_job, payload).id}

    @app.get("/api/twin/example.csv")
    def twin_example() -> Response:
        return Response(_example_csv(), media_type="text/csv", headers={
            "Content-Disposition": f'attachment; filename="patient{EXAMPLE_PATIENT}.csv"'})

    @app.post("/api/trial")
    async def trial(request: Request) -> dict[str, Any]:
        from ._work import run_trial_job, trial_engine

        settings = validate_form(TrialForm, await _json(request))
        engine = trial_engine()
        if engine is None:
            return _error(503, "the trial engine (il6sim.trial) is not available in this "
                               "installation; fix: update il6sim to a version with trials")
        names = [t["name"] for t in _options()["trials"]]
        if names and settings.trial not in names:
            raise FormError(f"field 'Trial': unknown trial '{settings.trial}'; fix: choose one "
                            f"of {', '.join(names)}", "trial")
        folder = Path(tempfile.mkdtemp(prefix="il6sim-trial-"))
        payload = {**settings.model_dump(), "out_dir": str(folder)}
        try:
            return {"job": state.jobs.start("trial", run_trial_job, payload,
                                            cleanup=folder).id}
        except BaseException:  # refused (a trial already running): leave no folder behind
            shutil.rmtree(folder, ignore_errors=True)
            raise

    @app.get("/api/jobs/{job_id}")
    def job(job_id: str) -> dict[str, Any]:
        return state.jobs.get(job_id).snapshot()

    @app.post("/api/jobs/{job_id}/cancel")
    def cancel(job_id: str) -> dict[str, Any]:
        return state.jobs.cancel(job_id).snapshot()

    return app


def _patient(content: bytes, filename: str, settings: TwinForm):
    """The uploaded file's patient chosen in ``settings`` as a
    :class:`~il6sim.twin.PatientSeries`; every problem names the file and the fix."""
    from ..cohort import load_cohort
    from ..twin import patient_series

    name = Path(filename).name
    if len(content) > MAX_UPLOAD_BYTES:
        raise FormError(f"field 'Lab file (CSV)': {name} is larger than "
                        f"{MAX_UPLOAD_BYTES // 2**20} MB; fix: upload only the patient's rows",
                        "file")
    if not content.strip():
        raise FormError(f"field 'Lab file (CSV)': {name} is empty; fix: choose a CSV file "
                        "with one row per blood sample", "file")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / (re.sub(r"[^A-Za-z0-9._-]+", "_", name) or "labs.csv")
        path.write_bytes(content)
        try:
            cohort = load_cohort(path, require_outcome=False)
        except Il6simError as exc:
            raise FormError("field 'Lab file (CSV)': "
                            + str(exc).replace(str(path), name), "file") from None
    ids = [str(i) for i in cohort.patient_info.index]
    chosen = settings.patient or (ids[0] if len(ids) == 1 else "")
    if not chosen:
        raise FormError(f"field 'Patient ID': {name} has {len(ids)} patients; fix: give one "
                        f"PATIENT_ID (e.g. {', '.join(ids[:5])})", "patient")
    if chosen not in ids:
        raise FormError(f"field 'Patient ID': {chosen} is not in {name}; fix: give one of its "
                        f"{len(ids)} PATIENT_ID values (e.g. {', '.join(ids[:5])})", "patient")
    try:
        return patient_series(cohort, chosen)
    except Il6simError as exc:
        raise FormError(f"field 'Patient ID': {exc}", "patient") from None


@lru_cache(maxsize=1)
def _example_csv() -> str:
    """The rows of :data:`EXAMPLE_PATIENT` in the shipped cohort, with the header."""
    from importlib.resources import files

    text = (files("il6sim") / "data" / "cohorts" / "covid19_wuhan_2020_dev.csv").read_text(
        encoding="utf-8-sig")
    rows = csv.reader(io.StringIO(text))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(next(rows))
    writer.writerows(row for row in rows if row and row[0].strip() == EXAMPLE_PATIENT)
    return out.getvalue()
