"""The delivery ledger: recorded once whoever asks, claimed by one sender at a
time, a crash repeats a message at most once and never loses it, retries back
off with jitter, dead letters can be queued again, and logs name no one."""

from __future__ import annotations

import random
import re
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from models.clock import FrozenClock
from models.db import make_engine, session_scope
from models.tables import PERSON, PLAN_ROLE
from notifications.channels.base import Channel
from notifications.config import NotificationConfig
from notifications.context import dump_context, dump_context_with, load_context
from notifications.errors import DeliveryError, NotificationNotFound, NotRetryable
from notifications.kinds import dedup_key
from notifications.ledger.delivery import DeliveryPolicy, claim_due, deliver_due, send_claimed
from notifications.ledger.history import retry
from notifications.ledger.recording import Request, enqueue, enqueue_many
from notifications.message import OutgoingMessage, Recipient
from notifications.rendering import Renderer
from notifications.samples import sample_context
from states.plans.document import PlanDocument
from states.plans.opening import create_plan
from tests.notifications.support import (
    BASE_URL,
    SmtpServer,
    attempt_rows,
    enqueue_sample,
    ledger_rows,
    make_config,
    smtp_routing,
)

POLICY = DeliveryPolicy(max_attempts=4, lease_seconds=300, batch_size=5)
# As make_config's: messages are rendered when they are sent.
RENDERER = Renderer.build(base_url=BASE_URL)


def _deliver(
    engine: Engine,
    channels: dict[str, Channel],
    clock: FrozenClock,
    policy: DeliveryPolicy = POLICY,
) -> object:
    return deliver_due(
        engine,
        channels=channels,
        renderer=RENDERER,
        now=clock(),
        policy=policy,
        rng=random.Random(1),
    )


def test_the_same_reminder_is_recorded_once_whoever_asks(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    tmp_path: Path,
    frozen: FrozenClock,
) -> None:
    config = make_config(tmp_path)

    def ask(level: int) -> list[object]:
        return list(
            enqueue_sample(
                engine,
                config,
                kind="milestone_overdue",
                recipient=people["zhang"],
                plan_id=zhang_plan,
                now=frozen(),
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
    frozen: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
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
    queued = enqueue_sample(
        engine,
        config,
        kind="milestone_overdue",
        recipient=wang,
        plan_id=zhang_plan,
        now=frozen(),
        level=3,
    )
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


def test_backoff_is_exponential_capped_and_jittered() -> None:
    policy = DeliveryPolicy(backoff_base=60, backoff_cap=3600)
    rng = random.Random(42)
    for attempt, ceiling in ((1, 60), (2, 120), (3, 240), (6, 1920), (7, 3600), (12, 3600)):
        delays = [policy.backoff(attempt, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), attempt
        assert len({round(d, 6) for d in delays}) > 150  # spread out, not in lockstep
    assert policy.backoff(1, rng, retry_after=900) == 900
    assert policy.backoff(1, rng, retry_after=10**6) == 3600


# Several senders, one ledger -----------------------------------------------------


@dataclass
class Shared:
    url: str
    plan_id: int
    people: dict[str, Recipient]


@pytest.fixture(params=["sqlite", "postgresql"])
def shared(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    zhang_doc: PlanDocument,
    clock: FrozenClock,
) -> Iterator[Shared]:
    """One database that several workers open on their own, SQLite file or PostgreSQL."""
    if request.param == "sqlite":
        from models.db import create_schema

        url = f"sqlite:///{tmp_path / 'shared.db'}"
        setup = make_engine(url)
        create_schema(setup)
    else:
        url = request.getfixturevalue("postgres").fresh()
        setup = make_engine(url)
    with session_scope(setup) as session:
        plan_id = create_plan(session=session, document=zhang_doc, actor="wang", now=clock())
        rows = session.execute(
            select(
                PERSON.c.id,
                PERSON.c.key,
                PERSON.c.name,
                PERSON.c.email,
                PERSON.c.locale,
                PLAN_ROLE.c.role,
            )
            .join(PLAN_ROLE, PLAN_ROLE.c.person_id == PERSON.c.id)
            .where(PLAN_ROLE.c.plan_id == plan_id)
        ).all()
    setup.dispose()
    people = {
        r.key: Recipient(
            person_id=r.id, role=r.role, name=r.name, email=r.email, locale=r.locale, key=r.key
        )
        for r in rows
    }
    yield Shared(url, plan_id, people)


def _together(workers: Sequence[threading.Thread]) -> None:
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert not worker.is_alive()


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

    _together([threading.Thread(target=sweep) for _ in range(2)])
    assert errors == []
    assert len(created) == 30 and len(set(created)) == 30
    check = make_engine(shared.url)
    try:
        assert len(ledger_rows(check)) == 30
    finally:
        check.dispose()


def test_two_senders_at_once_send_each_message_once(
    shared: Shared, smtp_server: SmtpServer, tmp_path: Path, frozen: FrozenClock
) -> None:
    config = make_config(tmp_path, smtp_routing(smtp_server))
    setup = make_engine(shared.url)
    for week in range(20):
        for key in ("zhang", "li"):
            enqueue_sample(
                setup,
                config,
                kind="progress_report_due",
                recipient=shared.people[key],
                plan_id=shared.plan_id,
                now=frozen(),
                due=f"2026-09-{1 + week:02d}",
            )
    start = threading.Barrier(2)
    reports: list[object] = []

    def sender() -> None:
        engine = make_engine(shared.url)
        try:
            start.wait()
            reports.append(_deliver(engine, config.channels(frozen), frozen))
        finally:
            engine.dispose()

    _together([threading.Thread(target=sender) for _ in range(2)])
    received = Counter(m.email["Message-ID"] for m in smtp_server.inbox.messages)
    rows = ledger_rows(setup)
    assert len(received) == 40 and set(received.values()) == {1}
    assert received.keys() == {row["message_id"] for row in rows}
    assert {row["status"] for row in rows} == {"sent"}
    assert sum(r.sent for r in reports) == 40  # type: ignore[attr-defined]
    assert all(len(attempt_rows(setup, row["id"])) == 1 for row in rows)
    setup.dispose()


# Crashes ----------------------------------------------------------------------


class Crash(BaseException):
    """The process dying: not an error any code path may catch and record."""


class CrashAfterSending(Channel):
    """Delivers through a real channel, then the sender dies before recording."""

    kind = "crash"

    def __init__(self, real: Channel) -> None:
        super().__init__(real.name)
        self.real = real

    def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[DeliveryError | None]:
        self.real.send_batch(messages)
        raise Crash


def test_a_crash_between_sending_and_recording_repeats_the_message_once(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    smtp_server: SmtpServer,
    tmp_path: Path,
    frozen: FrozenClock,
) -> None:
    config = make_config(tmp_path, smtp_routing(smtp_server))
    enqueue_sample(
        engine,
        config,
        kind="milestone_overdue",
        recipient=people["zhang"],
        plan_id=zhang_plan,
        now=frozen(),
        level=1,
    )
    channels = config.channels(frozen)
    with pytest.raises(Crash):
        _deliver(engine, {"email": CrashAfterSending(channels["email"])}, frozen)
    assert len(smtp_server.inbox.messages) == 1  # it went out; the ledger does not know
    (row,) = ledger_rows(engine)
    assert row["status"] == "queued" and row["claimed_until"] == frozen() + timedelta(minutes=5)

    frozen.advance(minutes=4)  # the dead sender's lease still holds: nobody sends it
    assert _deliver(engine, channels, frozen).claimed == 0  # type: ignore[attr-defined]
    assert len(smtp_server.inbox.messages) == 1

    frozen.advance(minutes=2)  # the lease has expired: the next sender takes it over
    report = _deliver(engine, channels, frozen)
    assert (report.sent, report.interrupted) == (1, 1)  # type: ignore[attr-defined]
    first, second = smtp_server.inbox.messages
    assert first.email["Message-ID"] == second.email["Message-ID"] == row["message_id"]
    assert first.body("plain") == second.body("plain")
    attempts = attempt_rows(engine, row["id"])
    assert [a["status"] for a in attempts] == ["interrupted", "sent"]
    assert "may have been delivered" in attempts[0]["error"]

    frozen.advance(days=7)
    assert _deliver(engine, channels, frozen).claimed == 0  # type: ignore[attr-defined]
    assert len(smtp_server.inbox.messages) == 2  # exactly one repeat, never more
    assert ledger_rows(engine)[0]["status"] == "sent"


def test_a_crash_before_sending_loses_nothing(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    smtp_server: SmtpServer,
    tmp_path: Path,
    frozen: FrozenClock,
) -> None:
    config = make_config(tmp_path, smtp_routing(smtp_server))
    enqueue_sample(
        engine,
        config,
        kind="plan_started",
        recipient=people["li"],
        plan_id=zhang_plan,
        now=frozen(),
    )
    claim = claim_due(
        engine, now=frozen(), policy=POLICY, renderer=RENDERER
    )  # claimed, then the process died
    assert len(claim.messages) == 1 and smtp_server.inbox.messages == []
    frozen.advance(seconds=POLICY.lease_seconds + 1)
    assert _deliver(engine, config.channels(frozen), frozen).sent == 1  # type: ignore[attr-defined]
    assert len(smtp_server.inbox.messages) == 1


def test_a_message_that_kills_every_sender_ends_as_a_dead_letter(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    smtp_server: SmtpServer,
    tmp_path: Path,
    frozen: FrozenClock,
) -> None:
    policy = DeliveryPolicy(max_attempts=2, lease_seconds=60)
    config = make_config(tmp_path, smtp_routing(smtp_server))
    enqueue_sample(
        engine,
        config,
        kind="plan_started",
        recipient=people["li"],
        plan_id=zhang_plan,
        now=frozen(),
    )
    channels = config.channels(frozen)
    for _ in range(2):
        claim = claim_due(engine, now=frozen(), policy=policy, renderer=RENDERER)
        send_claimed(claim.messages, channels)  # ... and the sender dies every time
        frozen.advance(seconds=61)
    assert _deliver(engine, channels, frozen, policy).claimed == 0  # type: ignore[attr-defined]
    (row,) = ledger_rows(engine)
    assert row["status"] == "dead" and row["last_error"].startswith("gave up after 2 attempts")
    assert [a["status"] for a in attempt_rows(engine, row["id"])] == ["interrupted"] * 2


# Dead letters -------------------------------------------------------------------


def _dead_letter(
    engine: Engine,
    config: NotificationConfig,
    smtp_server: SmtpServer,
    recipient: Recipient,
    plan_id: int,
    frozen: FrozenClock,
) -> int:
    smtp_server.inbox.refuse[recipient.email] = "550 5.2.1 Mailbox disabled"
    (queued,) = enqueue_sample(
        engine, config, kind="plan_started", recipient=recipient, plan_id=plan_id, now=frozen()
    )
    _deliver(engine, config.channels(frozen), frozen)
    return queued.id


def test_retry_queues_a_dead_letter_again(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    smtp_server: SmtpServer,
    tmp_path: Path,
    frozen: FrozenClock,
) -> None:
    config = make_config(tmp_path, smtp_routing(smtp_server))
    dead = _dead_letter(engine, config, smtp_server, people["li"], zhang_plan, frozen)
    assert ledger_rows(engine)[0]["status"] == "dead"
    smtp_server.inbox.refuse.clear()  # the mailbox was fixed
    frozen.advance(hours=2)
    with session_scope(engine) as session:
        assert retry(session, notification_id=dead, now=frozen()) == 1
    (row,) = ledger_rows(engine)
    assert (row["status"], row["attempts"], row["dead_at"]) == ("queued", 0, None)
    assert _deliver(engine, config.channels(frozen), frozen).sent == 1  # type: ignore[attr-defined]
    assert [a["status"] for a in attempt_rows(engine, dead)] == ["permanent", "sent"]
    with pytest.raises(NotRetryable, match="is sent"), session_scope(engine) as session:
        retry(session, notification_id=dead, now=frozen())
    with pytest.raises(NotificationNotFound), session_scope(engine) as session:
        retry(session, notification_id=9999, now=frozen())


def test_retry_all_queues_every_dead_letter(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    smtp_server: SmtpServer,
    tmp_path: Path,
    frozen: FrozenClock,
) -> None:
    config = make_config(tmp_path, smtp_routing(smtp_server))
    for key in ("li", "wang"):
        _dead_letter(engine, config, smtp_server, people[key], zhang_plan, frozen)
    with session_scope(engine) as session:
        assert retry(session, notification_id=None, now=frozen()) == 2
        assert retry(session, notification_id=None, now=frozen()) == 0
    assert {row["status"] for row in ledger_rows(engine)} == {"queued"}


def test_a_channel_removed_from_the_configuration_is_a_dead_letter(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    tmp_path: Path,
    frozen: FrozenClock,
) -> None:
    config = make_config(tmp_path, "channels:\n  pager: {kind: console}\ndefault: [pager]\n")
    enqueue_sample(
        engine,
        config,
        kind="plan_started",
        recipient=people["li"],
        plan_id=zhang_plan,
        now=frozen(),
    )
    assert _deliver(engine, {}, frozen).dead == 1  # type: ignore[attr-defined]
    assert "channel 'pager' is not configured" in ledger_rows(engine)[0]["last_error"]


def test_logs_name_no_one(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    smtp_server: SmtpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG", logger="perfplan.notifications")
    config = make_config(tmp_path, smtp_routing(smtp_server))
    smtp_server.inbox.refuse["zhang.san@example.com"] = "550 5.1.1 <zhang.san@example.com> unknown"
    smtp_server.inbox.refuse["li.wei@example.com"] = "451 4.7.1 Li Wei's mailbox is busy"
    for key in ("zhang", "li", "wang"):
        enqueue_sample(
            engine,
            config,
            kind="milestone_overdue",
            recipient=people[key],
            plan_id=zhang_plan,
            now=frozen(),
            level=1,
        )
    _deliver(engine, config.channels(frozen), frozen)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "dead letter" in logged and "will retry" in logged and "sent via email" in logged
    assert not re.search(r"[\w.]+@[\w.]+", logged)
    for person in people.values():
        for part in person.name.split():
            assert part not in logged


def test_a_channel_whose_secret_is_missing_keeps_its_messages_waiting(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    tmp_path: Path,
    frozen: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PERFPLAN_CHAT_URL", raising=False)
    config = make_config(tmp_path, "channels:\n  chat: {kind: dingtalk}\ndefault: [chat]\n")
    enqueue_sample(
        engine,
        config,
        kind="plan_started",
        recipient=people["li"],
        plan_id=zhang_plan,
        now=frozen(),
    )
    channels, not_ready = config.available_channels(frozen)
    assert channels == {} and "PERFPLAN_CHAT_URL is not set" in not_ready["chat"]
    report = deliver_due(
        engine,
        channels=channels,
        unavailable=not_ready,
        renderer=RENDERER,
        now=frozen(),
        policy=POLICY,
    )
    assert (report.retried, report.dead) == (1, 0)
    (row,) = ledger_rows(engine)
    assert row["status"] == "queued" and "channel 'chat' is not ready" in row["last_error"]


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


# Rendering when sent ------------------------------------------------------------


def test_a_message_is_rendered_when_first_sent_and_the_ledger_keeps_what_went_out(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    smtp_server: SmtpServer,
    tmp_path: Path,
    frozen: FrozenClock,
) -> None:
    config = make_config(tmp_path, smtp_routing(smtp_server))
    enqueue_sample(
        engine,
        config,
        kind="milestone_overdue",
        recipient=people["zhang"],
        plan_id=zhang_plan,
        now=frozen(),
        level=1,
    )
    (recorded,) = ledger_rows(engine)
    assert (recorded["subject"], recorded["body_html"], recorded["rendered_at"]) == ("", "", None)

    assert _deliver(engine, config.channels(frozen), frozen).sent == 1  # type: ignore[attr-defined]
    (row,) = ledger_rows(engine)
    (received,) = smtp_server.inbox.messages
    assert row["rendered_at"] == frozen() and row["locale"] == "zh-CN"
    assert (
        row["subject"]
        == received.email["Subject"]
        == "里程碑已逾期：First analysis report approved（PIP-1）"
    )
    assert row["body_text"] == received.body("plain")
    assert row["body_html"] == received.body("html")


def test_a_repeat_after_a_crash_sends_the_stored_text_not_a_new_rendering(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    smtp_server: SmtpServer,
    tmp_path: Path,
    frozen: FrozenClock,
) -> None:
    config = make_config(tmp_path, smtp_routing(smtp_server))
    enqueue_sample(
        engine,
        config,
        kind="plan_started",
        recipient=people["li"],
        plan_id=zhang_plan,
        now=frozen(),
    )
    channels = config.channels(frozen)
    with pytest.raises(Crash):
        _deliver(engine, {"email": CrashAfterSending(channels["email"])}, frozen)
    overrides = tmp_path / "edited"
    (overrides / "plan_started").mkdir(parents=True)
    (overrides / "plan_started" / "subject.en.j2").write_text("Edited after the first copy")
    edited = Renderer.build(overrides=overrides, base_url=BASE_URL)
    frozen.advance(seconds=POLICY.lease_seconds + 1)
    report = deliver_due(engine, channels=channels, renderer=edited, now=frozen(), policy=POLICY)
    assert (report.sent, report.interrupted) == (1, 1)
    first, second = smtp_server.inbox.messages
    assert first.email["Subject"] == second.email["Subject"] == ledger_rows(engine)[0]["subject"]
    assert "Edited" not in second.email["Subject"]


def _broken_english_subject(tmp_path: Path) -> Renderer:
    folder = tmp_path / "broken" / "milestone_overdue" / "level1"
    folder.mkdir(parents=True)
    (folder / "subject.en.j2").write_text("{{ milestone.nope }}", encoding="utf-8")
    return Renderer.build(overrides=tmp_path / "broken", base_url=BASE_URL)


def test_a_template_that_fails_when_sent_is_a_dead_letter_naming_it_and_the_rest_go_out(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    smtp_server: SmtpServer,
    tmp_path: Path,
    frozen: FrozenClock,
) -> None:
    config = make_config(tmp_path, smtp_routing(smtp_server))
    for key in ("zhang", "li", "wang"):  # Chinese, English, Chinese
        enqueue_sample(
            engine,
            config,
            kind="milestone_overdue",
            recipient=people[key],
            plan_id=zhang_plan,
            now=frozen(),
            level=1,
        )
    channels = config.channels(frozen)
    broken = _broken_english_subject(tmp_path)
    report = deliver_due(engine, channels=channels, renderer=broken, now=frozen(), policy=POLICY)
    assert (report.claimed, report.sent, report.retried, report.dead) == (3, 2, 0, 1)
    assert {m.rcpt_tos[0] for m in smtp_server.inbox.messages} == {
        "zhang.san@example.com",
        "wang.fang@example.com",
    }
    dead = next(r for r in ledger_rows(engine) if r["status"] == "dead")
    assert dead["person_id"] == people["li"].person_id and dead["rendered_at"] is None
    assert "milestone_overdue/level1/subject.en.j2" in dead["last_error"]
    assert [a["status"] for a in attempt_rows(engine, dead["id"])] == ["permanent"]
    frozen.advance(days=1)  # a dead letter stays put: no sender tries it again
    assert deliver_due(engine, channels=channels, renderer=broken, now=frozen()).claimed == 0

    assert _retry_all(engine, frozen) == 1  # the template fixed, it is queued again
    assert _deliver(engine, channels, frozen).sent == 1  # type: ignore[attr-defined]
    assert len(smtp_server.inbox.messages) == 3


def _retry_all(engine: Engine, frozen: FrozenClock) -> int:
    with session_scope(engine) as session:
        return retry(session, notification_id=None, now=frozen())


def test_a_message_is_checked_when_recorded_and_its_dates_come_back_as_dates(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    tmp_path: Path,
    frozen: FrozenClock,
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
    enqueue_sample(
        engine,
        config,
        kind="milestone_due_soon",
        recipient=people["zhang"],
        plan_id=zhang_plan,
        now=frozen(),
    )
    stored = load_context(ledger_rows(engine)[0]["context"])
    assert stored["milestone"]["due"] == context["milestone"]["due"]
    assert type(stored["milestone"]["due"]) is type(context["milestone"]["due"])
    assert stored["recipient"] == {"name": "张三 Zhang San", "role": "employee", "locale": "zh-CN"}
