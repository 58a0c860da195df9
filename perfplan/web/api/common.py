"""What the API's routers share: bounded parameter types and the after-commit hook."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import BackgroundTasks, Path, Query, Request

from perfplan.web.runtime import Runtime
from states.errors import InvalidInput

# The `responses=` of a route, for the OpenAPI document.
Responses = dict[int | str, dict[str, Any]]

# Ids fit the databases' integer columns: a larger one is bad input, not a crash.
MAX_ID = 2**31 - 1
PlanId = Annotated[int, Path(ge=1, le=MAX_ID, description="The plan's id.")]
# Names and filters: no NUL (PostgreSQL refuses it in text), bounded.
NAME_PATTERN = r"^[^\x00]*$"
Key = Annotated[
    str, Path(min_length=1, max_length=200, pattern=NAME_PATTERN, description="A key or name.")
]
Limit = Annotated[int, Query(ge=1, le=500, description="At most this many (≤ 500).")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="Skip this many first.")]
# An uploaded definition or plan document larger than this is refused unread.
MAX_UPLOAD = 1_000_000


def name_query(description: str) -> object:
    return Query(min_length=1, max_length=200, pattern=NAME_PATTERN,
                 description=description)  # fmt: skip


def after_commit(background: BackgroundTasks, rt: Runtime, plan_id: int, now: datetime) -> None:
    """Carry out the change's effects (messages, reports) once the response is sent."""
    background.add_task(rt.changed, plan_id, now)


async def uploaded_text(request: Request) -> str:
    """The request body as UTF-8 text (an uploaded YAML definition or plan document)."""
    body = await request.body()
    if len(body) > MAX_UPLOAD:
        raise InvalidInput(f"the upload is larger than {MAX_UPLOAD} bytes", field="body")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the upload is not UTF-8 text ({exc.reason})", field="body") from exc
    if "\x00" in text:
        raise InvalidInput("the upload contains a NUL character", field="body")
    if not text.strip():
        raise InvalidInput("the upload is empty", field="body")
    return text


YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain")


def yaml_body(description: str) -> dict[str, object]:
    """The OpenAPI description of a raw YAML request body."""
    schema = {"type": "string", "maxLength": MAX_UPLOAD}
    content = {YAML_TYPES[0]: {"schema": schema}}
    return {"requestBody": {"required": True, "description": description, "content": content}}
