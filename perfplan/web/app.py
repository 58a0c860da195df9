"""The ASGI application: `create_app()` (a factory, for `uvicorn --factory`)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from perfplan.web import api, pages
from perfplan.web.deps import CsrfRejected, NotSignedIn
from perfplan.web.errors import install_handlers
from perfplan.web.pages.rendering import HERE as PAGES_DIR
from perfplan.web.pages.rendering import locale_of, render, words
from perfplan.web.runtime import Runtime

# The pages load nothing from elsewhere and run no inline script.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def create_app(runtime: Runtime | None = None) -> FastAPI:
    """The API under /api (OpenAPI at /openapi.json) and the pages, on one runtime."""
    if runtime is None:
        from models.db import make_engine

        runtime = Runtime(engine=make_engine())
    app = FastAPI(
        title="perfplan",
        summary="Performance improvement plans (绩效改进计划) as declarative state machines",
        version="0.1.0",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=PAGES_DIR / "static"), name="static")
    install_handlers(app, pages.page_error)
    _page_handlers(app)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app


def _page_handlers(app: FastAPI) -> None:
    async def sign_in_first(request: Request, error: Exception) -> Response:
        assert isinstance(error, NotSignedIn)
        return RedirectResponse(f"/login?next={quote(error.next_url)}", status_code=303)

    async def csrf_rejected(request: Request, _error: Exception) -> Response:
        message = words(locale_of(request))["error.csrf"]
        return render(request, "error.html.j2", {"message": message, "status": 403}, status=403)

    app.add_exception_handler(NotSignedIn, sign_in_first)
    app.add_exception_handler(CsrfRejected, csrf_rejected)
