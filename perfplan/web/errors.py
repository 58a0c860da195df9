"""Errors become HTTP answers here, with the statuses of `perfplan.errors` (the one
map of error → exit code → status): JSON under /api, a page elsewhere."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from notifications.errors import NotificationsError
from people.errors import PeopleError
from perfplan.errors import PerfplanError, http_status
from states.errors import (
    DefinitionInvalid,
    DocumentForbidden,
    InvalidDocument,
    InvalidInput,
    StatesError,
)


class ErrorBody(BaseModel):
    """What every refusal of the API answers: a sentence, the kind, and where."""

    detail: str
    error: str
    field: str | None = None
    problems: list[str] = []


# The statuses each kind of route may answer besides success, for the OpenAPI document.
def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    described = {
        401: "No valid API token",
        403: "The person's role may not do this",
        404: "No such thing, or not one this person may see",
        409: "Not allowed now (state or guard), or changed by someone else first",
        422: "The request is malformed; `field` or `problems` say where",
    }
    return {s: {"model": ErrorBody, "description": described[s]} for s in statuses}


def error_body(error: Exception) -> ErrorBody:
    problems: list[str] = []
    if isinstance(error, DefinitionInvalid):
        problems = [str(p) for p in error.problems]
    elif isinstance(error, InvalidDocument | DocumentForbidden):
        problems = list(error.problems)
    field = error.field or None if isinstance(error, InvalidInput) else None
    return ErrorBody(
        detail=str(error).split("\n", 1)[0] if problems else str(error),
        error=type(error).__name__,
        field=field,
        problems=problems,
    )


def _api_answer(error: Exception, status: int) -> Response:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(error_body(error).model_dump(), status_code=status, headers=headers)


def _malformed(error: RequestValidationError) -> ErrorBody:
    """FastAPI's own check of a request (types, bounds) in the API's error body."""
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "request"
        problems.append(f"{where}: {item['msg']}")
    first = error.errors()[0]["loc"] if error.errors() else ()
    field = str(first[-1]) if first else None
    return ErrorBody(
        detail=f"the request is malformed: {problems[0] if problems else ''}",
        error="InvalidInput",
        field=field,
        problems=problems,
    )


async def _malformed_request(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    if request.url.path.startswith("/api"):
        return JSONResponse(_malformed(error).model_dump(), status_code=422)
    return await request_validation_exception_handler(request, error)


async def _http_refusal(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if not request.url.path.startswith("/api"):
        return await http_exception_handler(request, error)
    if error.status_code == 400:
        # FastAPI could not even parse the body (e.g. bytes that are not UTF-8): that
        # is malformed input like any other, and answers 422 as documented.
        body = ErrorBody(
            detail=f"the request body cannot be read: {error.detail}",
            error="InvalidInput",
            field="body",
        )
        return JSONResponse(body.model_dump(), status_code=422)
    body = ErrorBody(detail=str(error.detail), error=type(error).__name__)
    return JSONResponse(body.model_dump(), status_code=error.status_code, headers=error.headers)


def install_handlers(app: FastAPI, page_error: Any) -> None:
    """`page_error(request, error, status)` renders the refusal for a browser."""

    async def domain_error(request: Request, error: Exception) -> Response:
        status = http_status(error)
        if request.url.path.startswith("/api"):
            return _api_answer(error, status)
        return page_error(request, error, status)  # type: ignore[no-any-return]

    async def database_down(request: Request, error: Exception) -> Response:
        unavailable = PerfplanError(f"the database is not available: {error.__class__.__name__}")
        if request.url.path.startswith("/api"):
            return _api_answer(unavailable, 503)
        return page_error(request, unavailable, 503)  # type: ignore[no-any-return]

    app.add_exception_handler(RequestValidationError, _malformed_request)
    app.add_exception_handler(HTTPException, _http_refusal)
    for kind in (StatesError, PeopleError, NotificationsError, PerfplanError):
        app.add_exception_handler(kind, domain_error)
    app.add_exception_handler(OperationalError, database_down)
