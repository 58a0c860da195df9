"""The ASGI application: `create_app()` (a factory, for `uvicorn --factory`)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from perfplan.web import api, apidocs, calendar, pages, status
from perfplan.web.deps import CsrfRejected, NotSignedIn
from perfplan.web.errors import install_handlers
from perfplan.web.observe import Instruments, RequestLog, configure_logging, with_clockwork
from perfplan.web.pages.rendering import HERE as PAGES_DIR
from perfplan.web.pages.rendering import locale_of, render, words
from perfplan.web.runtime import Runtime
from views.status import ClockworkStatus, clockwork_status

# The pages load nothing from elsewhere and run no inline script.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every HTTP response that does not set them itself
    (pages, the API, static files, refusals). A plain ASGI middleware: Starlette's
    `@app.middleware("http")` runs each request through an extra task and a streamed
    copy of the response, which cost ~10 % of a small request's CPU."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                missing = [h for h in self.headers if h[0] not in present]
                message["headers"] = [*message.get("headers", []), *missing]
            await send(message)

        await self.app(scope, receive, with_headers)


@asynccontextmanager
async def _frozen_heap(app: FastAPI) -> AsyncIterator[None]:
    """Moves what start-up built (modules, tables, the app) out of the collector's
    sight: each full collection scanned it all again, ~110 ms of CPU in which every
    request in flight waited; ~40 ms after (`perfplan web`, 10,000 plans, 8 clients).
    Only for a process the app owns: frozen objects caught in cycles are never freed."""
    gc.collect()
    gc.freeze()
    yield


def create_app(runtime: Runtime | None = None) -> FastAPI:
    """The API under /api (OpenAPI at /openapi.json) and the pages, on one runtime."""
    serving = runtime is None  # `perfplan web`, `uvicorn --factory`: the process is ours
    if runtime is None:
        from models.db import make_engine

        runtime = Runtime(engine=make_engine())
        configure_logging(runtime.settings.log_format, runtime.settings.log_level)
    app = FastAPI(
        title="perfplan",
        summary="Performance improvement plans (绩效改进计划) as declarative state machines",
        version="0.1.0",
        docs_url=None,  # apidocs serves /api/docs, with no CDN
        redoc_url=None,
        lifespan=_frozen_heap if serving else None,
    )
    app.state.runtime = runtime
    app.state.instruments = _instruments(runtime)
    app.include_router(api.router)
    app.include_router(status.router)
    app.include_router(calendar.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=PAGES_DIR / "static"), name="static")
    apidocs.install(app)
    install_handlers(app, pages.page_error)
    _page_handlers(app)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestLog, instruments=app.state.instruments)
    return app


def _instruments(runtime: Runtime) -> Instruments:
    """The app's metrics, with the clockwork's figures read from its database."""

    def read() -> tuple[ClockworkStatus, datetime]:
        now = runtime.now()
        with runtime.transaction() as session:
            return clockwork_status(session, now=now), now

    return with_clockwork(Instruments(), read)


def _page_handlers(app: FastAPI) -> None:
    async def sign_in_first(request: Request, error: Exception) -> Response:
        assert isinstance(error, NotSignedIn)
        return RedirectResponse(f"/login?next={quote(error.next_url)}", status_code=303)

    async def csrf_rejected(request: Request, _error: Exception) -> Response:
        message = words(locale_of(request))["error.csrf"]
        return render(request, "error.html.j2", {"message": message, "status": 403}, status=403)

    app.add_exception_handler(NotSignedIn, sign_in_first)
    app.add_exception_handler(CsrfRejected, csrf_rejected)
