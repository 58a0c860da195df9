"""The schema's problems as sentences a person can act on: pydantic's errors on a
definition file turned into a code, the path, the line and the fix."""

from __future__ import annotations

import difflib
from datetime import date
from types import NoneType, UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from states.definitions.schema import (
    Announcement,
    ApprovalChain,
    Cadence,
    ChainStep,
    DefinitionSpec,
    InputSpec,
    RoleSpec,
    Rung,
    StateSpec,
    Timers,
    TransitionSpec,
)
from states.definitions.yamlsource import Path, YamlDocument, in_file_order
from states.errors import Problem

_NOUNS: dict[type[BaseModel], str] = {
    DefinitionSpec: "the definition",
    RoleSpec: "a role",
    StateSpec: "a state",
    TransitionSpec: "a transition",
    InputSpec: "an input",
    Announcement: "an announcement",
    ApprovalChain: "an approval chain",
    ChainStep: "an approval step",
    Rung: "an escalation rung",
    Cadence: "a cadence",
    Timers: "timers",
}
_MAPPING = "a mapping of `key: value` lines"
_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "dict_type": _MAPPING,
    "model_type": _MAPPING,
    "list_type": "a list, such as [a, b]",
}
_EXAMPLES = {
    "label": "{en: ..., zh-CN: ...}",
    "title": "{en: ..., zh-CN: ...}",
    "roles": "[employee, manager]",
    "steps": "[{roles: [employee]}]",
    "notify": "[manager]",
    "message": "plan_agreed",
    "to": "[employee, manager]",
    "after": "3 business days",
    "every": "P1W",
    "version": "1",
}


def _unwrap(annotation: Any) -> Any:
    """`X | None` as X."""
    if get_origin(annotation) in (Union, UnionType):
        others = [arg for arg in get_args(annotation) if arg is not NoneType]
        return others[0] if len(others) == 1 else None
    return annotation


def _step_into(annotation: Any, part: str | int) -> Any:
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(part))
        return field.annotation if field else None
    if get_origin(annotation) in (list, dict):
        return get_args(annotation)[-1]
    return None


def _model_at(loc: Path) -> type[BaseModel] | None:
    """The schema's model for the mapping at `loc`, if there is one."""
    annotation: Any = DefinitionSpec
    for part in loc:
        annotation = _step_into(annotation, part)
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _described(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text '{value}'"
    if isinstance(value, date):
        return f"the date {value}"
    if isinstance(value, dict | list):
        return "a mapping" if isinstance(value, dict) else "a list"
    return repr(value)


def _type_hint(expected: str, value: Any) -> str:
    if expected == "true or false" and isinstance(value, str):
        return "; write true or false (yes, no, on and off are text in these files)"
    if expected == "text" and value is not None and not isinstance(value, dict | list):
        return f"; put it in quotes: '{value}'"
    if expected == "a whole number" and isinstance(value, str):
        return "; remove the quotes"
    return "; fill in a value" if value is None else ""


def _noun(model: type[BaseModel] | None) -> str:
    return _NOUNS.get(model, "this mapping") if model else "this mapping"


def _missing(loc: Path) -> tuple[str, str]:
    noun = _noun(_model_at(loc[:-1]))
    name = str(loc[-1])
    return "MISSING_FIELD", f"{noun} needs '{name}'; add `{name}: {_EXAMPLES.get(name, '...')}`"


def _extra(loc: Path) -> tuple[str, str]:
    model = _model_at(loc[:-1])
    fields = list(model.model_fields) if model else []
    noun = _noun(model)
    name = str(loc[-1])
    close = difflib.get_close_matches(name, fields, n=1)
    listed = f"fields are: {', '.join(fields)}"
    fix = f"did you mean '{close[0]}'? Its {listed}" if close else f"remove it; its {listed}"
    return "UNKNOWN_FIELD", f"{noun} has no field '{name}'; {fix}"


def _bad_type(error: ErrorDetails) -> tuple[str, str]:
    expected = _EXPECTED[error["type"]]
    value = error.get("input")
    class_name = (error.get("ctx") or {}).get("class_name")
    model = next((m for m in _NOUNS if m.__name__ == class_name), None)
    what = f" ({_NOUNS[model]})" if model else ""
    return (
        "BAD_TYPE",
        f"expected {expected}{what}, got {_described(value)}{_type_hint(expected, value)}",
    )


def _bad_key(error: ErrorDetails) -> tuple[str, str]:
    value = error.get("input")
    return "BAD_TYPE", f"the key {value} must be a name; put it in quotes: '{value}'"


# Why a number has the bound it has (`le` in the schema), by its field.
_WHY_BOUNDED = {
    "version": "a version counts a definition's edits one at a time, and must fit every "
    "database's integer column",
    "quorum": "a plan names at most 20 holders of a role, so no step can gather more signatures",
    "minutes": "a coaching talk is a conversation, not a working day (at most 10 hours)",
}


def _too_large(error: ErrorDetails) -> tuple[str, str]:
    bound = (error.get("ctx") or {}).get("le")
    value = error.get("input")
    shown = (
        f"the number {value}" if len(str(value)) <= 20 else f"a number of {len(str(value))} digits"
    )
    why = _WHY_BOUNDED.get(str(error["loc"][-1]), "it has a bound")
    return "TOO_LARGE", f"must be at most {bound}, got {shown}: {why}"


def _bad_value(error: ErrorDetails) -> tuple[str, str]:
    ctx = error.get("ctx") or {}
    if error["type"] == "less_than_equal":
        return _too_large(error)
    if error["type"] == "too_short":
        return "BAD_VALUE", f"needs at least {ctx.get('min_length', 1)} item; this list is empty"
    if error["type"] == "greater_than_equal":
        return (
            "BAD_VALUE",
            f"must be at least {ctx.get('ge')}, got {_described(error.get('input'))}",
        )
    return "BAD_VALUE", f"{error['msg']}; got {_described(error.get('input'))}"


def _schema_problem(document: YamlDocument, error: ErrorDetails) -> Problem:
    loc: Path = tuple(error["loc"])
    if error["type"] == "invalid_key" or loc[-1:] == ("[key]",):
        # The key is in the message; the path is the mapping that holds it.
        loc = tuple(part for part in loc if part != "[key]")[:-1]
        code, message = _bad_key(error)
    elif error["type"] == "missing":
        code, message = _missing(loc)
    elif error["type"] == "extra_forbidden":
        code, message = _extra(loc)
    elif error["type"] in _EXPECTED:
        code, message = _bad_type(error)
    else:
        code, message = _bad_value(error)
    return document.problem(code, loc, message)


def schema_problems(document: YamlDocument) -> tuple[DefinitionSpec | None, list[Problem]]:
    """The definition if the document has its shape, else a problem for every mismatch."""
    try:
        # Strict: a quoted "2" is not a version, and "yes" is not true.
        return DefinitionSpec.model_validate(document.data, strict=True), []
    except ValidationError as exc:
        return None, in_file_order(_schema_problem(document, error) for error in exc.errors())
