"""/api/docs: the JSON API's interactive documentation (Swagger UI), every file served by
this app — Swagger UI's from the fastapi-offline package, the page and its start-up
script from here — so it loads with no internet, under the pages' Content-Security-Policy
(nothing from elsewhere, no inline script)."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

HERE = Path(__file__).parent
SWAGGER_UI = Path(fastapi_offline.__file__).parent / "static"
DOCS_URL = "/api/docs"


def install(app: FastAPI) -> None:
    """The page at /api/docs, its script, and Swagger UI's files under /api/docs/assets."""

    @app.get(DOCS_URL, include_in_schema=False)
    def api_docs() -> FileResponse:
        return FileResponse(HERE / "docs.html", media_type="text/html")

    @app.get(f"{DOCS_URL}/start.js", include_in_schema=False)
    def api_docs_start() -> FileResponse:
        return FileResponse(HERE / "start.js", media_type="text/javascript")

    app.mount(f"{DOCS_URL}/assets", StaticFiles(directory=SWAGGER_UI), name="swagger-ui")
