"""`perfplan web`: the HTTP front door, the JSON API and the pages (`perfplan.web`)."""

from __future__ import annotations

from typing import Annotated

import typer

from perfplan.cli.common import console, existing_database_url


# The defaults are WebSettings' (a test holds them equal); reading the settings here
# would load pydantic-settings for every `perfplan --help`.
def web(
    host: Annotated[
        str | None,
        typer.Option(
            "--host", help="Address to listen on.", show_default="PERFPLAN_WEB_HOST, or 127.0.0.1"
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            min=1,
            max=65535,
            help="Port to listen on.",
            show_default="PERFPLAN_WEB_PORT, or 8000",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Server processes (uvicorn workers); one per core.",
            show_default="PERFPLAN_WEB_WORKERS, or 1",
        ),
    ] = None,
) -> None:
    """Serve the JSON API (/api, OpenAPI at /openapi.json) and the pages."""
    import uvicorn

    from perfplan.web.settings import WebSettings

    existing_database_url()  # a URL that opens nothing, a file that is not there: say so first
    settings = WebSettings()
    chosen_host, chosen_port = host or settings.host, port or settings.port
    processes = workers or settings.workers
    console.print(
        f"perfplan web on http://{chosen_host}:{chosen_port}/ (API docs: /api/docs), "
        f"{processes} worker{'s' if processes > 1 else ''}"
    )
    uvicorn.run(
        "perfplan.web.app:create_app",
        factory=True,
        host=chosen_host,
        port=chosen_port,
        workers=processes,
        log_level="warning",
    )
