"""Who may see and do what: relations to a plan, standing roles, the policy table."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from models.clock import FrozenClock
from models.db import session_scope
from people import access
from people.orgaudit import Acting
from states.errors import Forbidden, InvalidInput, PlanNotFound
from states.plans.document import PlanDocument
from states.plans.opening import create_plan
from tests.perfplan.web.conftest import liu_document

TESTER = Acting("tester", "cli")


@pytest.fixture
def plans(engine: Engine, zhang_doc: PlanDocument, clock: FrozenClock) -> tuple[int, int]:
    with session_scope(engine) as session:
        zhang = create_plan(session=session, document=zhang_doc, actor="wang", now=clock())
        liu = create_plan(
            session=session, document=liu_document(zhang_doc), actor="qian", now=clock()
        )
    return zhang, liu


def _relations(engine: Engine, person: str, plan_id: int) -> set[str]:
    with session_scope(engine) as session:
        return access.relations(session, access.load_viewer(session, key=person), plan_id)


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        ("zhang", {"participant"}),
        ("li", {"participant", "line_manager"}),
        ("sun", {"department_head"}),  # heads Sales East, holds no role on the plan
        ("wang", {"participant"}),
        ("liu", set()),
        ("qian", set()),
    ],
)
def test_relations_to_zhangs_plan(
    engine: Engine, plans: tuple[int, int], person: str, expected: set[str]
) -> None:
    assert _relations(engine, person, plans[0]) == expected


def test_standing_hr_covers_only_its_departments(
    engine: Engine, plans: tuple[int, int], clock: FrozenClock
) -> None:
    zhang, liu = plans
    with session_scope(engine) as session:
        access.grant(
            session,
            person="qian",
            role="hr",
            department="Technical Support",
            now=clock(),
            by=TESTER,
        )
    assert _relations(engine, "qian", liu) == {"participant", "hr"}
    assert _relations(engine, "qian", zhang) == set()
    with session_scope(engine) as session:
        access.grant(session, person="qian", role="hr", department=None, now=clock(), by=TESTER)
        viewer = access.load_viewer(session, key="qian")
        assert viewer.sees_every_plan
        assert access.visible_plan_ids(session, viewer) == [zhang, liu]


def test_an_auditor_reads_every_plan_and_changes_none(
    engine: Engine, plans: tuple[int, int], clock: FrozenClock
) -> None:
    with session_scope(engine) as session:
        access.grant(session, person="liu", role="auditor", department=None, now=clock(), by=TESTER)
    zhang, liu = plans
    with session_scope(engine) as session:
        viewer = access.load_viewer(session, key="liu")
        assert access.visible_plan_ids(session, viewer) == [zhang, liu]
        # Liu is the employee of her own plan, and only an auditor of Zhang's.
        assert "participant" in access.check_plan(session, viewer, liu, "act")
        access.check_plan(session, viewer, zhang, "read")
        with pytest.raises(Forbidden, match="may read plan"):
            access.check_plan(session, viewer, zhang, "act")


def test_a_plan_that_is_not_theirs_is_not_found(engine: Engine, plans: tuple[int, int]) -> None:
    liu = plans[1]
    with session_scope(engine) as session:
        viewer = access.load_viewer(session, key="zhang")
        with pytest.raises(PlanNotFound) as other:
            access.check_plan(session, viewer, liu)
        with pytest.raises(PlanNotFound) as missing:
            access.check_plan(session, viewer, 9999)
    # The same sentence shape: nothing tells an existing id from a missing one.
    assert str(other.value) == f"no plan with id {liu}"
    assert str(missing.value) == "no plan with id 9999"


def test_the_list_clause_and_the_single_check_agree(engine: Engine, plans: tuple[int, int]) -> None:
    for person in ("zhang", "li", "sun", "wang", "chen", "zhao", "liu", "qian"):
        with session_scope(engine) as session:
            viewer = access.load_viewer(session, key=person)
            listed = set(access.visible_plan_ids(session, viewer))
            one_by_one = {p for p in plans if access.relations(session, viewer, p)}
        assert listed == one_by_one, person


def test_standing_rights_follow_the_policy_table(
    engine: Engine, plans: tuple[int, int], clock: FrozenClock
) -> None:
    with session_scope(engine) as session:
        access.grant(session, person="chen", role="admin", department=None, now=clock(), by=TESTER)
        admin = access.load_viewer(session, key="chen")
        employee = access.load_viewer(session, key="zhang")
    for right, roles in access.ORG_POLICY.items():
        assert access.may(admin, right) == bool({"admin", "anyone"} & roles), right
        assert access.may(employee, right) == ("anyone" in roles), right
    with pytest.raises(Forbidden, match="needs the standing role admin"):
        access.require(employee, "definitions.install")


def test_granting_twice_is_a_no_op_and_revoking_takes_it_away(
    engine: Engine, plans: tuple[int, int], clock: FrozenClock
) -> None:
    with session_scope(engine) as session:
        assert access.grant(
            session, person="wang", role="hr", department="Sales East", now=clock(), by=TESTER
        )
        assert not access.grant(
            session, person="wang", role="hr", department="Sales East", now=clock(), by=TESTER
        )
        assert len(access.standing_roles(session)) == 1
        assert access.revoke(
            session, person="wang", role="hr", department="Sales East", now=clock(), by=TESTER
        )
        assert not access.revoke(
            session, person="wang", role="hr", department="Sales East", now=clock(), by=TESTER
        )
        assert access.standing_roles(session) == []


@pytest.mark.parametrize(
    ("role", "department", "message"),
    [
        ("boss", None, "'boss' is not a standing role"),
        ("auditor", "Sales East", "only the hr role is given per department"),
        ("hr", "Marketing", "no department named 'Marketing'"),
    ],
)
def test_bad_grants_say_what_is_wrong(
    engine: Engine,
    plans: tuple[int, int],
    clock: FrozenClock,
    role: str,
    department: str | None,
    message: str,
) -> None:
    with session_scope(engine) as session, pytest.raises(InvalidInput, match=message):
        access.grant(
            session, person="wang", role=role, department=department, now=clock(), by=TESTER
        )
