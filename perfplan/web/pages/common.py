"""What several pages share: reading query parameters without a traceback, paging,
and the labels of a definition's states, events, roles and inputs in one locale."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlmodel import Session

from models.limits import MAX_ID
from states.definitions import catalog
from states.definitions.compiled import CompiledDefinition
from states.definitions.schema import TransitionSpec
from states.errors import InvalidInput, PlanNotFound
from states.plans.bounds import Day
from views.lists import PlanSummary

PAGE_SIZE = 50


def whole_number(
    text: str | None, *, field: str, default: int, least: int = 1, most: int = MAX_ID
) -> int:
    """A whole number (the digits 0-9) from a form or query, from `least` to `most` (the
    largest id the database holds); a clear InvalidInput otherwise."""
    if text is None or not text.strip():
        return default
    digits = text.strip()
    if not (digits.isascii() and digits.lstrip("-").isdigit()):
        raise InvalidInput(f"'{text}' is not a whole number", field=field)
    value = int(digits)
    if value < least:
        raise InvalidInput(f"must be at least {least}", field=field)
    if value > most:
        raise InvalidInput(f"must be at most {most}", field=field)
    return value


_DAY = TypeAdapter(Day)


def a_date(text: str | None, *, field: str) -> date | None:
    """A day from a form or query, read as the API reads one (`states.plans.bounds.Day`)."""
    if text is None or not text.strip():
        return None
    try:
        return _DAY.validate_python(text)
    except ValidationError:
        raise InvalidInput(f"'{text}' is not a date (YYYY-MM-DD)", field=field) from None


def plan_id_of(text: str) -> int:
    """A plan id from the path; anything else is no plan (the same 404 as a stranger's)."""
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_ID:
        raise PlanNotFound(0)
    return int(text)


@dataclass(frozen=True)
class Page:
    """One page of a list: fetch `size + 1` rows to know whether another page follows."""

    number: int
    size: int = PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def fetch(self) -> int:
        return self.size + 1


@dataclass(frozen=True)
class Labels:
    """A definition's words in one locale (the definition's own `label`s)."""

    definition: CompiledDefinition
    locale: str

    def _pick(self, labels: dict[str, str] | None, fallback: str) -> str:
        if not labels:
            return fallback
        return labels.get(self.locale) or labels.get("en") or fallback

    def state(self, name: str) -> str:
        return (
            self.definition.label(name, self.locale)
            if name in self.definition.spec.states
            else name
        )

    def event(self, spec: TransitionSpec) -> str:
        return self._pick(spec.label, spec.trigger)

    def trigger(self, trigger: str) -> str:
        for spec in self.definition.spec.transitions:
            if spec.trigger == trigger:
                return self.event(spec)
        return trigger

    def role(self, name: str) -> str:
        spec = self.definition.spec.roles.get(name)
        return self._pick(spec.label if spec else None, name)

    def input(self, spec: TransitionSpec, name: str) -> str:
        return self._pick(spec.inputs[name].label, name.replace("_", " "))

    @property
    def title(self) -> str:
        return self._pick(self.definition.spec.title, self.definition.name)


class StateWords:
    """State labels for list rows of many definitions: the exact version each plan is
    bound to (by its hash, compiled once per process by the catalog), not once per row."""

    def __init__(self, session: Session, locale: str) -> None:
        self._session = session
        self._locale = locale
        self._found: dict[str, Labels] = {}

    def labels(self, definition_hash: str) -> Labels:
        if definition_hash not in self._found:
            found = catalog.by_hash(self._session, definition_hash)
            self._found[definition_hash] = Labels(found, self._locale)
        return self._found[definition_hash]

    def labelled(self, row: PlanSummary) -> dict[str, Any]:
        """The row for a template, with its state and the viewer's roles in words."""
        labels = self.labels(row.definition_hash)
        return {
            **row._asdict(),
            "state_label": labels.state(row.state),
            "role_labels": [labels.role(r) for r in row.roles],
        }
