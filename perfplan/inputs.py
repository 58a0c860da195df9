"""What people type, refused alike at every door: the fields the activities' models
share (`perfplan.activities`, on the bounds of `states.plans.bounds`), and a refusal as
the sentence a person reads, naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, ValidationError

from models.limits import MAX_ID
from states.errors import InvalidDocument, InvalidInput
from states.plans.bounds import sentence
from states.plans.document import PlanDocument

Comment = Field(default=None, description="Why; kept in the audit trail.")
ExpectedVersion = Field(
    default=None,
    ge=1,
    le=MAX_ID,
    description="The plan version you saw; a different current version answers 409.",
)


def _field(place: tuple[int | str, ...], called: Mapping[str, str]) -> str:
    """The field as the door calls it; a dictionary's entry as `inputs.outcome`."""
    named = [called.get(str(place[0]), str(place[0])), *map(str, place[1:])] if place else []
    if named and named[-1] == "[key]":
        return f"{named[0]} (a key)"  # the key itself may be what is wrong: not repeated
    return ".".join(named)


def refusal(
    error: ValidationError,
    called: Mapping[str, str] | None = None,
    *,
    at: tuple[str, ...] = (),
) -> InvalidInput:
    """The first problem pydantic found, as an InvalidInput naming its field: `called`
    renames fields to what a door shows (the page's `version`), `at` names the field
    of a value checked on its own."""
    problem = error.errors()[0]
    place = (*at, *problem["loc"])
    return InvalidInput(sentence(problem), field=_field(place, called or {}))


def nul_paths(value: Any, path: str = "") -> list[str]:
    """Where parsed data holds a NUL character (JSON `\\u0000`, YAML `"\\0"`), which
    PostgreSQL cannot store in text."""
    if isinstance(value, str):
        return [path or "$"] if "\x00" in value else []
    if isinstance(value, dict):
        found = [p for k, v in value.items() for p in nul_paths(v, f"{path}.{k}".lstrip("."))]
        return found + [f"{path or '$'} (a key)" for k in value if "\x00" in str(k)]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in nul_paths(item, f"{path}.{i}")]
    return []


def without_nul(document: PlanDocument, source: str) -> PlanDocument:
    """The plan document, or InvalidDocument naming every place that holds a NUL."""
    nul = nul_paths(document.model_dump(mode="json"))
    if nul:
        raise InvalidDocument(
            source, [f"{where}: a NUL character cannot be stored" for where in nul]
        )
    return document
