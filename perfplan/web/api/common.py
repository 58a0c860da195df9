"""What the API's routers share: bounded parameter types and reading uploads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request

from models.limits import MAX_ID
from states.errors import InvalidInput
from states.plans.bounds import MAX_DOCUMENT_BYTES, NAME_LIMIT, NO_NUL

# The `responses=` of a route, for the OpenAPI document.
Responses = dict[int | str, dict[str, Any]]

# Ids fit the databases' integer columns: a larger one is bad input, not a crash.
PlanId = Annotated[int, Path(ge=1, le=MAX_ID, description="The plan's id.")]
# Names and filters are bounded as the activities' names are (`states.plans.bounds.Name`).
Key = Annotated[
    str,
    Path(min_length=1, max_length=NAME_LIMIT, pattern=NO_NUL, description="A key or name."),
]
Limit = Annotated[int, Query(ge=1, le=500, description="At most this many (≤ 500).")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="Skip this many first.")]
# An uploaded definition or plan document larger than this is refused unread (the limit
# of a plan document's file, and of a definition uploaded on the admin page).
MAX_UPLOAD = MAX_DOCUMENT_BYTES


def name_query(description: str) -> object:
    return Query(min_length=1, max_length=NAME_LIMIT, pattern=NO_NUL, description=description)


async def _body_within_limit(request: Request) -> bytes:
    """The body, read no further than MAX_UPLOAD: a huge upload is refused, not buffered."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD:
        raise InvalidInput(f"the upload is larger than {MAX_UPLOAD} bytes", field="body")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_UPLOAD:
            raise InvalidInput(f"the upload is larger than {MAX_UPLOAD} bytes", field="body")
        chunks.append(chunk)
    return b"".join(chunks)


async def uploaded_text(request: Request) -> str:
    """The request body as UTF-8 text (an uploaded YAML definition or plan document)."""
    body = await _body_within_limit(request)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the upload is not UTF-8 text ({exc.reason})", field="body") from exc
    if "\x00" in text:
        raise InvalidInput("the upload contains a NUL character", field="body")
    if not text.strip():
        raise InvalidInput("the upload is empty", field="body")
    return text


DefinitionName = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="A definition's name.",
    ),
]


YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain")


def yaml_body(description: str) -> dict[str, object]:
    """The OpenAPI description of a raw YAML request body."""
    schema = {"type": "string", "maxLength": MAX_UPLOAD}
    content = {YAML_TYPES[0]: {"schema": schema}}
    return {"requestBody": {"required": True, "description": description, "content": content}}
