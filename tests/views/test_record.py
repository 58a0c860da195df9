"""The plan's record: its rows are the tables' columns, it is read in a fixed number of
statements whatever the plan's size, and every reader sees the same plan."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import timedelta

import pytest
from sqlalchemy import Engine, Table, event

from models.clock import FrozenClock
from models.db import session_scope
from models.tables import (
    ACTION,
    ACTION_RESOURCE,
    ADJUSTMENT,
    AUDIT,
    EVALUATION,
    EVIDENCE,
    GOAL,
    GOAL_RESULT,
    PLAN,
    PROBLEM,
)
from states.plans.document import PlanDocument
from states.plans.opening import create_plan
from views.detail import plan_detail
from views.record import (
    Action,
    AdjustmentRow,
    AuditLine,
    EvaluationRow,
    EvidenceRow,
    Goal,
    GoalResultRow,
    PlanRow,
    ProblemRow,
    Resource,
    plan_history,
    plan_record,
)


@pytest.mark.parametrize(
    ("names", "table"),
    [
        (PlanRow._fields, PLAN),
        (EvidenceRow._fields, EVIDENCE),
        (ProblemRow._fields, PROBLEM),
        (GoalResultRow._fields, GOAL_RESULT),
        (AuditLine._fields, AUDIT),
        (Resource._fields, ACTION_RESOURCE),
        (tuple(f.name for f in fields(Goal)), GOAL),
        (tuple(f.name for f in fields(Action)), ACTION),
        (AdjustmentRow._fields, ADJUSTMENT),
        (EvaluationRow._fields, EVALUATION),
    ],
)
def test_rows_begin_with_their_tables_columns_in_order(
    names: tuple[str, ...], table: Table
) -> None:
    # The rows are built positionally from `SELECT table.*, ...`: a column added to a table
    # must be added to its row too.
    columns = tuple(table.c.keys())
    assert names[: len(columns)] == columns


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _bigger(doc: PlanDocument, goals: int) -> PlanDocument:
    """Zhang's plan with `goals` more goals, each with three milestones."""
    grown = doc.model_copy(deep=True)
    template = grown.goals[0]
    for n in range(goals):
        extra = template.model_copy(deep=True, update={"key": f"extra_{n}", "problem": None})
        extra.milestones = [
            m.model_copy(update={"key": f"extra_{n}_{i}", "due": m.due - timedelta(days=i)})
            for i, m in enumerate(template.milestones * 3)
        ]
        grown.goals.append(extra)
    return grown


def test_a_plan_is_read_in_the_same_number_of_statements_whatever_its_size(
    engine: Engine, zhang_doc: PlanDocument, clock: FrozenClock
) -> None:
    with session_scope(engine) as session:
        small = create_plan(session=session, document=zhang_doc, actor="wang", now=clock())
        large = create_plan(
            session=session, document=_bigger(zhang_doc, 20), actor="wang", now=clock()
        )
    sizes = {}
    for plan_id in (small, large):
        with session_scope(engine) as session, counted(engine) as statements:
            record = plan_record(session, plan_id, today=clock().date())
        sizes[plan_id] = (len(statements), len(record.goals), len(record.milestones))
    # 15 for a plan not yet evaluated; its goal results are read once it is.
    assert sizes[small][0] == sizes[large][0] == 15
    assert sizes[large][1] == sizes[small][1] + 20
    assert sizes[large][2] > sizes[small][2] + 40


def test_the_record_names_the_plans_people_and_its_department_head(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    with session_scope(engine) as session:
        record = plan_record(session, zhang_plan, today=clock().date())
        history = plan_history(session, zhang_plan)
    people = record.people
    assert [(h.role, h.key) for h in people.named][:3] == [
        ("employee", "zhang"),
        ("manager", "li"),
        ("hr", "wang"),
    ]
    head = people.department_head
    assert head is not None and (head.key, head.department, head.derived) == (
        "sun",
        "Sales East",
        True,
    )
    assert people.holders("department_head") == (head,)
    assert people.name("mentor") == "陈静 Chen Jing"
    assert [line.event for line in history] == ["create"]
    assert record.snapshot.state == "drafted"


def test_the_api_and_plan_show_read_the_same_record(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    with session_scope(engine) as session:
        detail = plan_detail(session, zhang_plan, today=clock().date())
    shown = detail.as_json()
    assert shown["plan"]["id"] == zhang_plan
    assert [g["key"] for g in shown["goals"]] == [g.key for g in detail.record.goals]
    assert shown["next_events"] == [
        {
            "event": "agree",
            "to": "agreed",
            "roles": [],
            "approval": "sign_off",
            "waiting_for": ["employee"],
        }
    ]
    assert shown["progress_reports"] == 0
