"""Who may record what while a plan runs is the definition's to say (`activities:`): on
the mentored definition the mentor holds the talks and may report for the employee, and
the manager alone measures; where a definition says nothing, as the standard one, the
roles are those perfplan always had."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from models.clock import FrozenClock
from models.db import session_scope
from people.access import load_viewer
from states.definitions import catalog
from states.definitions.compiled import compile_definition
from states.definitions.loader import parse_definition
from states.engine import firing, signing
from states.errors import Forbidden
from states.plans import activities
from states.plans.document import PlanDocument
from states.plans.opening import create_plan
from views.permitted import permitted

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples" / "definitions"
START = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
LATER = datetime(2026, 9, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def definitions(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PERFPLAN_DEFINITIONS_DIR", str(EXAMPLES))
    yield


def _running(engine: Engine, document: PlanDocument, clock: FrozenClock, signers: list[str]) -> int:
    with session_scope(engine) as session:
        plan_id = create_plan(session=session, document=document, actor="wang", now=clock())
    for who in signers:
        with session_scope(engine) as session:
            signing.sign(session=session, plan_id=plan_id, actor=who, now=clock())
    with session_scope(engine) as session:
        firing.fire(session=session, plan_id=plan_id, event="start", actor="li", now=START)
    return plan_id


def _coach(engine: Engine, plan_id: int, who: str) -> None:
    with session_scope(engine) as session:
        activities.record_coaching(
            session=session, plan_id=plan_id, actor=who, notes="Talked", now=LATER
        )


def test_the_mentored_definition_gives_the_talks_to_the_mentor_alone(
    engine: Engine, zhang_doc: PlanDocument, clock: FrozenClock, definitions: None
) -> None:
    document = zhang_doc.model_copy(update={"definition": "mentored"})
    plan_id = _running(engine, document, clock, ["zhang", "chen", "li", "wang"])

    _coach(engine, plan_id, "chen")
    with pytest.raises(Forbidden, match="needs mentor"):
        _coach(engine, plan_id, "li")
    with session_scope(engine) as session:  # the mentor may report for the employee
        activities.report_progress(
            session=session, plan_id=plan_id, actor="chen", summary="On track", now=LATER
        )
        li = load_viewer(session, key="li")
        plan, definition = firing.load_plan_and_definition(session, plan_id, None)
        allowed = permitted(
            session,
            viewer=li,
            plan=plan,
            definition=definition,
            relations={"participant"},
            now=LATER,
        ).activities
    assert set(allowed) == {"measure", "complete_milestone"}  # no talks, no reports


def test_the_standard_definition_keeps_the_roles_it_always_had(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    for who in ("zhang", "li", "wang"):
        with session_scope(engine) as session:
            signing.sign(session=session, plan_id=zhang_plan, actor=who, now=clock())
    with session_scope(engine) as session:
        firing.fire(session=session, plan_id=zhang_plan, event="start", actor="li", now=START)

    _coach(engine, zhang_plan, "li")
    _coach(engine, zhang_plan, "chen")
    with pytest.raises(Forbidden, match="needs manager or mentor"):
        _coach(engine, zhang_plan, "zhang")


def test_activity_roles_written_as_the_defaults_are_the_same_version() -> None:
    standard = catalog.find("standard")
    text = (
        standard.source + "activities:\n  report_progress: [employee]\n  measure: [manager, hr]\n"
    )
    spelled_out = compile_definition(parse_definition(text, source="t"), text)

    assert spelled_out.hash == standard.hash
    other = text.replace("measure: [manager, hr]", "measure: [hr]")
    assert compile_definition(parse_definition(other, source="t"), other).hash != standard.hash
