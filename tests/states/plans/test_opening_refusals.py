"""What opening a plan refuses (issue 13, holes found): a plan document never changes the
people and departments that exist, HR opens plans only for the employees of the
departments they cover, the definition is only ever an installed one named by name, no
one is created under a key the automation uses, and no signer is asked to sign twice."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from models.clock import FrozenClock
from models.db import session_scope
from models.tables import DEPARTMENT, PERSON, PLAN
from people import access
from people.directory import add_person
from people.orgaudit import Acting
from states.errors import Forbidden, InvalidDocument
from states.plans.document import PlanDocument
from states.plans.opening import create_plan, read_document
from tests.conftest import ZHANG_FILE

# --- helpers ---------------------------------------------------------------------------

TESTER = Acting("tester", "cli")
DAY = datetime(2026, 8, 25, 9, 0, tzinfo=UTC)


def edited(doc: PlanDocument, **changes: Any) -> PlanDocument:
    """Zhang's document with some top-level fields replaced (validated again, as read)."""
    return PlanDocument.model_validate(doc.model_dump() | changes)


def person(doc: PlanDocument, key: str, **changes: Any) -> PlanDocument:
    """The document with one listed person's fields changed."""
    people = [p.model_dump() | (changes if p.key == key else {}) for p in doc.people]
    return edited(doc, people=people)


def open_plan(engine: Engine, doc: PlanDocument, now: Any, **kw: Any) -> int:
    with session_scope(engine) as session:
        return create_plan(
            session=session, document=doc, actor=kw.pop("actor", "wang"), now=now, **kw
        )


def plans(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(PLAN)).scalar_one())


def people_rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(PERSON).order_by(PERSON.c.id))]


def department_rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(DEPARTMENT).order_by(DEPARTMENT.c.id))]


def refused(engine: Engine, doc: PlanDocument, now: Any, kind: type[Exception], **kw: Any) -> str:
    """The refusal's text; nothing was stored (no plan, no person, no department changed)."""
    before = plans(engine), people_rows(engine), department_rows(engine)
    with pytest.raises(kind) as refusal:
        open_plan(engine, doc, now, **kw)
    assert (plans(engine), people_rows(engine), department_rows(engine)) == before
    return str(refusal.value)


# --- 1. a plan document refers to people and departments, or creates them -------------


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("manager", "wang", "people.li.manager: Li Wei already exists with manager sun"),
        ("manager", None, "people.li.manager: Li Wei already exists with manager sun"),
        ("name", "Li Wei (new)", "people.li.name: Li Wei already exists with name Li Wei"),
        ("email", "li@evil.example", "people.li.email: Li Wei already exists with email"),
        ("locale", "zh-CN", "people.li.locale: Li Wei already exists with locale en"),
        ("department", "HR", "people.li.department: Li Wei already exists in Sales East"),
    ],
)
def test_a_plan_document_does_not_change_an_existing_person(
    engine: Engine,
    zhang_plan: int,
    zhang_doc: PlanDocument,
    clock: FrozenClock,
    field: str,
    value: Any,
    says: str,
) -> None:
    said = refused(engine, person(zhang_doc, "li", **{field: value}), clock(), Forbidden)

    assert says in said
    assert "a plan document does not change existing people" in said


def test_a_plan_document_does_not_make_anyone_head_of_an_existing_department(
    engine: Engine, zhang_plan: int, zhang_doc: PlanDocument, clock: FrozenClock
) -> None:
    departments = [
        {"name": "Sales East", "head": "wang"},
        {"name": "Technical Support", "head": "li"},
        {"name": "HR", "head": None},
    ]

    said = refused(engine, edited(zhang_doc, departments=departments), clock(), Forbidden)

    assert "departments.Sales East.head: Sales East already exists with head sun" in said
    assert (
        "departments.Technical Support.head: Technical Support already exists with no head" in said
    )
    assert "a plan document does not change existing departments" in said
    assert "departments.HR" not in said  # no head, as it was: unchanged


def test_every_change_is_named_at_once(
    engine: Engine, zhang_plan: int, zhang_doc: PlanDocument, clock: FrozenClock
) -> None:
    doc = person(person(zhang_doc, "li", manager="wang"), "zhang", email="z@evil.example")

    said = refused(engine, doc, clock(), Forbidden)

    assert "people.li.manager" in said and "people.zhang.email" in said


def test_the_same_people_and_departments_repeated_unchanged_are_accepted(
    engine: Engine, zhang_plan: int, zhang_doc: PlanDocument, clock: FrozenClock
) -> None:
    before = people_rows(engine), department_rows(engine)

    second = open_plan(engine, zhang_doc, clock())

    assert second != zhang_plan
    assert (people_rows(engine), department_rows(engine)) == before


def test_fields_a_document_leaves_out_are_not_compared(
    engine: Engine, zhang_plan: int, zhang_doc: PlanDocument, clock: FrozenClock
) -> None:
    """`locale` has a default: a listing that does not say it says nothing about it."""
    data = zhang_doc.model_dump()
    data["people"] = [
        {k: v for k, v in p.items() if k not in ("locale", "department", "manager")}
        for p in data["people"]
    ]
    data["departments"] = [{"name": d["name"]} for d in data["departments"]]

    assert open_plan(engine, PlanDocument.model_validate(data), clock()) != zhang_plan


def test_a_document_may_create_new_people_and_departments(
    engine: Engine, zhang_plan: int, zhang_doc: PlanDocument, clock: FrozenClock
) -> None:
    data = zhang_doc.model_dump()
    data["departments"] = [{"name": "Sales West", "head": "he"}]
    data["people"] = [
        {"key": "he", "name": "He Jun", "email": "he@example.com", "department": "Sales West"},
        {
            "key": "ma",
            "name": "Ma Lin",
            "email": "ma@example.com",
            "department": "Sales West",
            "manager": "he",
        },
    ]
    data["roles"] = {"employee": "ma", "manager": "he", "hr": "wang"}
    data["actions"] = [
        a | {"executor": "ma", "supporter": None, "collaborators": []} for a in data["actions"]
    ]

    open_plan(engine, PlanDocument.model_validate(data), clock())

    with engine.connect() as conn:
        head = conn.execute(
            select(PERSON.c.key)
            .join(DEPARTMENT, DEPARTMENT.c.head_id == PERSON.c.id)
            .where(DEPARTMENT.c.name == "Sales West")
        ).scalar_one()
    assert head == "he"


def test_a_new_persons_manager_and_a_new_departments_head_must_be_known(
    engine: Engine, zhang_doc: PlanDocument, clock: FrozenClock
) -> None:
    doc = person(zhang_doc, "li", manager="nobody")
    departments = [*doc.model_dump()["departments"], {"name": "Sales West", "head": "ghost"}]

    said = refused(engine, edited(doc, departments=departments), clock(), InvalidDocument)

    assert "people.li.manager: unknown person 'nobody'" in said
    assert "departments.Sales West.head: unknown person 'ghost'" in said


# --- 2. HR opens plans for the employees of the departments they cover ----------------


def hr_of(engine: Engine, key: str, department: str | None, now: Any) -> access.Viewer:
    with session_scope(engine) as session:
        access.grant(
            session, person=key, role="hr", department=department, now=now, by=Acting("test", "cli")
        )
        return access.load_viewer(session, key=key)


def test_hr_of_another_department_cannot_open_a_plan_by_naming_themselves(
    engine: Engine, zhang_plan: int, zhang_doc: PlanDocument, clock: FrozenClock
) -> None:
    """Wang covers HR only, not Sales East: naming herself the HR partner opens nothing."""
    wang = hr_of(engine, "wang", "HR", clock())

    said = refused(engine, zhang_doc, clock(), Forbidden, opener=wang)

    assert "roles.employee: zhang is in Sales East" in said
    assert "wang is HR for HR only" in said


def test_hr_of_the_employees_department_or_of_every_department_opens_the_plan(
    engine: Engine, zhang_plan: int, zhang_doc: PlanDocument, clock: FrozenClock
) -> None:
    wang = hr_of(engine, "wang", "Sales East", clock())
    assert open_plan(engine, zhang_doc, clock(), opener=wang)
    everyone = hr_of(engine, "chen", None, clock())
    assert open_plan(engine, zhang_doc, clock(), opener=everyone, actor="chen")


def test_an_employee_the_document_creates_outside_hrs_departments_is_refused(
    engine: Engine, zhang_plan: int, zhang_doc: PlanDocument, clock: FrozenClock
) -> None:
    wang = hr_of(engine, "wang", "Sales East", clock())
    data = zhang_doc.model_dump()
    data["people"] = [
        {"key": "ma", "name": "Ma Lin", "email": "ma@example.com", "department": "Sales West"}
    ]
    data["departments"] = []
    data["roles"] = {"employee": "ma", "manager": "li", "hr": "wang"}
    data["actions"] = []

    said = refused(engine, PlanDocument.model_validate(data), clock(), Forbidden, opener=wang)

    assert "roles.employee: ma is in Sales West" in said


# --- 3. the definition is an installed one, named by name ------------------------------

EVIL = "version: 1\nname: evil\nsecret: TOP-SECRET-CONTENT\n"


@pytest.mark.parametrize(
    "named",
    ["/tmp/evil", "../../evil", "evil.yaml", "..\\evil", "standard/../standard", "Standard", ""],
)
def test_a_definition_is_named_never_given_as_a_path(named: str) -> None:
    text = ZHANG_FILE.read_text(encoding="utf-8")
    assert "definition: standard\n" in text
    with pytest.raises(InvalidDocument) as refusal:
        read_document(
            text.replace("definition: standard\n", f"definition: '{named}'\n"), source="p.yaml"
        )

    assert "definition: " in str(refusal.value)
    assert "is not the name of a definition" in str(refusal.value)


def test_a_file_next_to_the_definitions_never_runs_a_plan(
    engine: Engine, zhang_doc: PlanDocument, clock: FrozenClock, tmp_path: Path
) -> None:
    """The path a document could name before: the file is neither read nor quoted."""
    evil = tmp_path / "evil.yaml"
    evil.write_text(EVIL, encoding="utf-8")
    doc = zhang_doc.model_copy(update={"definition": str(tmp_path / "evil")})

    said = refused(engine, doc, clock(), InvalidDocument)

    assert "TOP-SECRET" not in said and "no workflow definition named" in said


def test_an_installed_definition_that_cannot_be_read_is_not_quoted(
    engine: Engine,
    zhang_doc: PlanDocument,
    clock: FrozenClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "broken.yaml").write_text(EVIL.replace("evil", "broken"), encoding="utf-8")
    monkeypatch.setenv("PERFPLAN_DEFINITIONS_DIR", str(tmp_path))

    said = refused(engine, edited(zhang_doc, definition="broken"), clock(), InvalidDocument)

    assert "TOP-SECRET" not in said and "secret" not in said
    assert "definition: 'broken' cannot be used" in said


def test_a_version_named_is_the_one_new_plans_get(
    engine: Engine, zhang_doc: PlanDocument, clock: FrozenClock
) -> None:
    assert open_plan(engine, edited(zhang_doc, definition_version=1), clock())

    said = refused(engine, edited(zhang_doc, definition_version=2), clock(), InvalidDocument)

    assert "definition_version: new plans get 'standard' version 1, not 2" in said


# --- 4. the automation's keys are nobody's -------------------------------------------


@pytest.mark.parametrize("key", ["system", "operator", "perfplan"])
def test_no_one_is_created_under_a_key_the_automation_uses(
    zhang_doc: PlanDocument, key: str
) -> None:
    data = zhang_doc.model_dump(mode="json")
    data["people"].append({"key": key, "name": "Mallory", "email": "m@example.com"})
    data["roles"]["mentor"] = key

    with pytest.raises(InvalidDocument) as refusal:
        read_document(json.dumps(data), source="p.json")

    assert f"'{key}' is reserved for perfplan's own automation" in str(refusal.value)


def test_add_person_refuses_reserved_keys(engine: Engine) -> None:
    from people.errors import InvalidInput

    with session_scope(engine) as session:
        for key in ("system", "System", "OPERATOR"):
            with pytest.raises(InvalidInput, match="key"):
                add_person(
                    session,
                    key=key,
                    name="M",
                    email="m@example.com",
                    now=DAY,
                    by=TESTER,
                )


# --- 6. every signature of a chain is a different person's -----------------------------


def test_one_person_cannot_be_both_manager_and_hr(
    engine: Engine, zhang_doc: PlanDocument, clock: FrozenClock
) -> None:
    roles = zhang_doc.model_dump()["roles"] | {"manager": "wang", "hr": "wang"}

    said = refused(engine, edited(zhang_doc, roles=roles), clock(), InvalidDocument)

    assert "roles: wang is both manager and hr; 'agree' needs two different signers" in said


def test_alternatives_of_a_quorum_step_let_one_person_hold_two_roles(
    engine: Engine, zhang_doc: PlanDocument, clock: FrozenClock
) -> None:
    """Probation: the manager signs, then HR *or* the mentor: with Chen as mentor, Li may
    also be the HR partner and the plan can still be agreed."""
    roles = {"employee": "zhang", "manager": "li", "hr": "li", "mentor": "chen"}
    doc = edited(zhang_doc, definition="probation", roles=roles)
    assert open_plan(engine, doc, clock())

    alone = edited(doc, roles=roles | {"mentor": "li"})
    said = refused(engine, alone, clock(), InvalidDocument)
    assert "roles: li is manager, hr and mentor; 'agree' needs" in said


def test_a_file_that_names_itself_otherwise_is_not_that_definition(
    engine: Engine,
    zhang_doc: PlanDocument,
    clock: FrozenClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`lenient.yaml` holding `name: standard` would open a plan recorded as `standard`
    under rules nobody installed as such."""
    from states.definitions import library
    from states.definitions.catalog import BUILTIN_DIR

    standard = (BUILTIN_DIR / "standard.yaml").read_text(encoding="utf-8")
    (tmp_path / "lenient.yaml").write_text(standard, encoding="utf-8")
    monkeypatch.setenv("PERFPLAN_DEFINITIONS_DIR", str(tmp_path))

    said = refused(engine, edited(zhang_doc, definition="lenient"), clock(), InvalidDocument)

    assert "definition: 'lenient' cannot be used" in said
    with session_scope(engine) as session:
        listed = {d.name: d for d in library.list_definitions(session)}
    assert [p.code for p in listed["lenient"].problems] == ["NAME_MISMATCH"]
