"""What a plan's fields may hold, declared once for every door: the plan document (file,
API, YAML or JSON), the activities (`perfplan.activities`: the CLI, the API and the
pages' forms) and the API's queries all build on these types, so none of them can
accept what another refuses.

- Texts are bounded (a request cannot carry a novel into the audit trail) and hold no
  NUL, which PostgreSQL refuses in text.
- Numbers are finite and of a size a measure can have: NaN or infinity cannot be
  compared with a target, written as JSON, or sent in a message.
- Days are ISO dates (`2026-09-01`); a bare number is not a day (pydantic would read `0`
  as 1970-01-01).
- Ids fit the databases' integer columns.
- A plan document is bounded as a whole and in each of its lists, so that the largest
  plan accepted is still shown, checked and swept at once (docs/plan-format.md, Limits).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StringConstraints
from pydantic_core import ErrorDetails, PydanticCustomError

NO_NUL = r"^[^\x00]*$"
TEXT_LIMIT = 4000
NAME_LIMIT = 200
# Larger than any count, amount or percentage a goal measures, and exact as a double.
NUMBER_LIMIT = 10**15

Text = Annotated[str, StringConstraints(max_length=TEXT_LIMIT, pattern=NO_NUL)]
RequiredText = Annotated[
    str, StringConstraints(min_length=1, max_length=TEXT_LIMIT, pattern=NO_NUL)
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=NAME_LIMIT, pattern=NO_NUL)]
ShortText = Annotated[str, StringConstraints(max_length=NAME_LIMIT, pattern=NO_NUL)]


def _a_measure(value: Any) -> Any:
    """Neither true/false nor NaN or infinity (however written) is a measure."""
    if isinstance(value, bool):
        raise PydanticCustomError("number_not_flag", "'{input}' is not a number", {"input": value})
    if isinstance(value, float | str):
        try:
            finite = math.isfinite(float(value))
        except ValueError:
            return value  # not a number at all: pydantic says so
        if not finite:
            raise PydanticCustomError("finite_number", "Input should be a finite number")
    return value


Number = Annotated[
    float,
    BeforeValidator(_a_measure),
    Field(allow_inf_nan=False, ge=-NUMBER_LIMIT, le=NUMBER_LIMIT),
]


def _whole(value: Any) -> Any:
    """A whole number is an integer, or text of the digits 0-9: not 1e2, 15.0 or ٣٠."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        return int(value.strip())
    raise PydanticCustomError("whole_number", "'{input}' is not a whole number", {"input": value})


# A coaching talk, in minutes: a working day at most.
COACHING_MINUTES = 600
Minutes = Annotated[int, BeforeValidator(_whole), Field(ge=1, le=COACHING_MINUTES)]

_ISO_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _iso_day(value: Any) -> Any:
    """A day given as text must be written YYYY-MM-DD; a number is never a day."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DAY.match(value.strip()):
        return value.strip()
    raise PydanticCustomError("iso_day", "'{input}' is not a date (YYYY-MM-DD)", {"input": value})


Day = Annotated[date, BeforeValidator(_iso_day)]

# How large a plan document may be: its text, and each of its lists.
MAX_DOCUMENT_BYTES = 256 * 1024
MAX_GOALS = 20
MAX_MILESTONES = 20  # per goal
MAX_ACTIONS = 50
MAX_PEOPLE = 100
MAX_DEPARTMENTS = 20
MAX_ENTRIES = 50  # evidence, problems
MAX_MEMBERS = 20  # a role's holders, an action's collaborators or resources
MAX_PERIOD_DAYS = 731

# pydantic's error types, as a person reads them ({…} are the error's context and
# `length`, how long the text was).
_SENTENCES = {
    "missing": "is required",
    "string_too_short": "must not be empty",
    "too_short": "must not be empty",
    "string_too_long": "{length} characters, more than the {max_length} allowed",
    "too_long": "{actual_length} entries, more than the {max_length} allowed",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "finite_number": "must be a finite number",
    "literal_error": "must be {expected}",
    "int_parsing": "'{input}' is not a whole number",
    "float_parsing": "'{input}' is not a number",
    "date_from_datetime_parsing": "'{input}' is not a date (YYYY-MM-DD)",
}


def sentence(problem: ErrorDetails) -> str:
    """A problem pydantic found, as the sentence a person reads (without its place)."""
    context: dict[str, Any] = dict(problem.get("ctx") or {})
    given = problem.get("input")
    if problem["type"] == "string_pattern_mismatch" and context.get("pattern") == NO_NUL:
        return "a NUL character cannot be stored"
    if problem["type"] not in _SENTENCES:
        return problem["msg"]
    length = len(given) if isinstance(given, str) else 0
    return _SENTENCES[problem["type"]].format(**context, input=given, length=length)
