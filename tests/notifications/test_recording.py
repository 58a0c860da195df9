"""Recording: the same reminder is recorded once whoever asks (two sweeps at once
included), in the caller's transaction, one row per channel, a batch as one by
one, and each reader's context checked and kept as the templates will see it."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from models.clock import FrozenClock
from models.db import make_engine, session_scope
from notifications.context import dump_context, dump_context_with, load_context
from notifications.kinds import dedup_key
from notifications.ledger.recording import Request, enqueue, enqueue_many
from notifications.message import Recipient
from notifications.samples import sample_context
from tests.notifications.support import (
    Record,
    Shared,
    enqueue_sample,
    ledger_rows,
    make_config,
    together,
)


def test_the_same_reminder_is_recorded_once_whoever_asks(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = make_config(tmp_path)

    def ask(level: int) -> list[object]:
        return list(
            record(
                config,
                kind="milestone_overdue",
                recipient=people["zhang"],
                subject="milestone:report_1",
                level=level,
                due="2026-10-09",
            )
        )

    assert len(ask(1)) == 1
    frozen.advance(hours=3)
    assert ask(1) == []  # the next sweep, or another worker: nothing new
    assert len(ask(2)) == 1  # the next rung of the ladder is a new message
    keys = [row["dedup_key"] for row in ledger_rows(engine)]
    prefix = f"plan:{zhang_plan}|milestone_overdue|milestone:report_1"
    person = people["zhang"].person_id
    assert keys == [
        f"{prefix}|level:1|due:2026-10-09|to:{person}|via:outbox",
        f"{prefix}|level:2|due:2026-10-09|to:{person}|via:outbox",
    ]


def test_enqueue_belongs_to_the_callers_transaction(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    tmp_path: Path,
    frozen: FrozenClock,
) -> None:
    from notifications.kinds import dedup_key
    from notifications.ledger.recording import enqueue
    from notifications.samples import sample_context

    config = make_config(tmp_path)
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        enqueue(
            session,
            config=config,
            kind="plan_agreed",
            plan_id=zhang_plan,
            recipient=people["li"],
            context=sample_context("plan_agreed", role="manager"),
            dedup_key=dedup_key(plan_id=zhang_plan, kind="plan_agreed"),
            now=frozen(),
        )
        raise RuntimeError("the transition failed after recording its message")
    assert ledger_rows(engine) == []


def test_one_row_per_channel_each_with_its_own_address(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    record: Record,
) -> None:
    routing = """
channels:
  email: {kind: smtp}
  hr-chat: {kind: dingtalk}
  outbox: {kind: file}
routes:
  - {kinds: [milestone_overdue], roles: [hr], channels: [email], also: [hr-chat, outbox]}
people:
  wang: {locale: en}
"""
    config = make_config(tmp_path, routing)
    wang = Recipient(**{**people["wang"].__dict__, "handles": {"dingtalk": "13900000000"}})
    queued = record(config, kind="milestone_overdue", recipient=wang, level=3)
    assert [q.channel for q in queued] == ["email", "hr-chat", "outbox"]
    rows = ledger_rows(engine)
    assert [r["address"] for r in rows] == [
        "wang.fang@example.com",
        "13900000000",
        "wang.fang@example.com",
    ]
    assert {r["locale"] for r in rows} == {"en"}  # Wang's preference in the routing file
    assert {r["subject"] for r in rows} == {""}  # rendered when sent, not when recorded
    assert all(load_context(r["context"])["level"] == 3 for r in rows)
    assert len({r["message_id"] for r in rows}) == 3
    assert {r["link"] for r in rows} == {f"https://perfplan.example.com/plans/{zhang_plan}"}


def test_two_sweeps_at_once_record_each_reminder_once(
    shared: Shared, tmp_path: Path, frozen: FrozenClock
) -> None:
    config = make_config(tmp_path)
    start = threading.Barrier(2)
    created: list[int] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        engine = make_engine(shared.url)
        try:
            start.wait()
            for week in range(15):
                for key in ("zhang", "li"):
                    created.extend(
                        q.id
                        for q in enqueue_sample(
                            engine,
                            config,
                            kind="progress_report_due",
                            recipient=shared.people[key],
                            plan_id=shared.plan_id,
                            now=frozen(),
                            due=f"2026-09-{1 + week:02d}",
                        )
                    )
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            engine.dispose()

    together([threading.Thread(target=sweep) for _ in range(2)])
    assert errors == []
    assert len(created) == 30 and len(set(created)) == 30
    check = make_engine(shared.url)
    try:
        assert len(ledger_rows(check)) == 30
    finally:
        check.dispose()


def test_a_batch_is_recorded_once_and_agrees_with_one_by_one(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    tmp_path: Path,
    frozen: FrozenClock,
) -> None:
    """`enqueue_many` (the sweep's path) keeps `enqueue`'s promise, batch against single."""
    config = make_config(tmp_path)
    requests = []
    for level in (1, 2):
        context = sample_context("milestone_overdue", role="employee", level=level)
        context["plan"] = {**context["plan"], "id": zhang_plan}
        key = dedup_key(
            plan_id=zhang_plan,
            kind="milestone_overdue",
            subject="milestone:report_1",
            level=level,
            due="2026-10-09",
        )
        requests += [
            Request("milestone_overdue", zhang_plan, people[who], context, key)
            for who in ("zhang", "li")
        ]
    # Level 1 for Zhang was recorded one by one before the batch comes.
    assert (
        len(
            enqueue_sample(
                engine,
                config,
                kind="milestone_overdue",
                recipient=people["zhang"],
                plan_id=zhang_plan,
                now=frozen(),
                subject="milestone:report_1",
                level=1,
                due="2026-10-09",
            )
        )
        == 1
    )
    with session_scope(engine) as session:
        assert enqueue_many(session, config=config, requests=requests, now=frozen()) == 3
    with session_scope(engine) as session:
        assert enqueue_many(session, config=config, requests=requests, now=frozen()) == 0
    rows = ledger_rows(engine)
    assert len(rows) == 4
    assert len({row["dedup_key"] for row in rows}) == 4
    assert {(row["recipient_name"], row["locale"]) for row in rows} == {
        (people["zhang"].name, "zh-CN"),
        (people["li"].name, "en"),
    }


@pytest.mark.parametrize("placeholder", [False, True], ids=["no recipient", "recipient given"])
def test_readers_of_one_context_each_get_it_with_their_own_name_role_and_language(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    tmp_path: Path,
    frozen: FrozenClock,
    placeholder: bool,
) -> None:
    """A reminder's context, given once for all its readers (the sweep's path), is kept
    for each reader exactly as `enqueue` keeps it for that reader alone."""
    routing = "channels: {outbox: {kind: file}, email: {kind: smtp}}\ndefault: [outbox, email]\n"
    config = make_config(tmp_path, routing + "people:\n  li: {locale: zh-CN}\n")
    context = sample_context("milestone_overdue", role="employee", level=2)
    context["plan"] = {**context["plan"], "id": zhang_plan}
    if not placeholder:
        del context["recipient"]  # as the sweep gives it: `enqueue` adds the reader
    readers = [people[who] for who in ("zhang", "li", "sun")]
    with session_scope(engine) as session:
        requests = [Request("milestone_overdue", zhang_plan, r, context, "batch") for r in readers]
        assert enqueue_many(session, config=config, requests=requests, now=frozen()) == 6
        for reader in readers:
            enqueue(
                session,
                config=config,
                kind="milestone_overdue",
                plan_id=zhang_plan,
                recipient=reader,
                context=context,
                dedup_key="alone",
                now=frozen(),
            )
    rows = ledger_rows(engine)
    stored = {(r["dedup_key"].split("|")[0], r["person_id"], r["channel"]): r for r in rows}
    for reader in readers:
        for channel in ("outbox", "email"):
            batch = stored[("batch", reader.person_id, channel)]
            alone = stored[("alone", reader.person_id, channel)]
            assert batch["context"] == alone["context"]
            assert batch["locale"] == alone["locale"]
    recipients = {r["person_id"]: load_context(r["context"])["recipient"] for r in rows}
    assert recipients == {
        people["zhang"].person_id: {
            "name": people["zhang"].name,
            "role": "employee",
            "locale": "zh-CN",
        },
        people["li"].person_id: {"name": people["li"].name, "role": "manager", "locale": "zh-CN"},
        people["sun"].person_id: {
            "name": people["sun"].name,
            "role": "department_head",
            "locale": "zh-CN",
        },
    }
    assert people["li"].locale == "en"  # the routing file's preference won
    loaded = load_context(rows[0]["context"])
    assert {k: v for k, v in loaded.items() if k != "recipient"} == {
        k: v for k, v in context.items() if k != "recipient"
    }
    assert list(loaded) == list({**context, "recipient": None})  # where a merge puts it


@pytest.mark.parametrize(
    "context",
    [{}, {"plan": {"id": 1, "period_end": date(2026, 11, 30)}, "names": ["张三", "Li"], "n": 2}],
)
def test_a_context_dumped_once_for_many_readers_is_the_same_text(context: dict[str, Any]) -> None:
    who = {"name": "王芳 Wang Fang", "role": "hr", "locale": "zh-CN"}
    assert dump_context_with(dump_context(context), "recipient", who) == dump_context(
        {**context, "recipient": who}
    )


def test_a_message_is_checked_when_recorded_and_its_dates_come_back_as_dates(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    from notifications.errors import TemplateProblem
    from notifications.ledger.recording import enqueue

    config = make_config(tmp_path)
    context = sample_context("milestone_due_soon", role="employee")
    incomplete = {k: v for k, v in context.items() if k != "days_left"}
    with pytest.raises(TemplateProblem, match="lacks days_left"), session_scope(engine) as session:
        enqueue(
            session,
            config=config,
            kind="milestone_due_soon",
            plan_id=zhang_plan,
            recipient=people["zhang"],
            context=incomplete,
            dedup_key="x",
            now=frozen(),
        )
    record(config, kind="milestone_due_soon", recipient=people["zhang"])
    stored = load_context(ledger_rows(engine)[0]["context"])
    assert stored["milestone"]["due"] == context["milestone"]["due"]
    assert type(stored["milestone"]["due"]) is type(context["milestone"]["due"])
    assert stored["recipient"] == {"name": "张三 Zhang San", "role": "employee", "locale": "zh-CN"}
