"""Delivery: claimed by one sender at a time, a crash repeats a message at most
once and never loses it, retries back off with jitter, a message is rendered
when first sent and a template that fails is a dead letter, channels missing or
not ready, and logs name no one."""

from __future__ import annotations

import random
import re
import threading
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from models.clock import FrozenClock
from models.db import make_engine, session_scope
from notifications.channels.base import Channel, Held, always_held
from notifications.errors import DeliveryError
from notifications.ledger.delivery import DeliveryPolicy, claim_due, deliver_due, send_claimed
from notifications.ledger.history import retry
from notifications.message import OutgoingMessage, Recipient
from notifications.rendering import Renderer
from tests.notifications.support import (
    BASE_URL,
    POLICY,
    RENDERER,
    Record,
    Shared,
    SmtpServer,
    attempt_rows,
    deliver,
    enqueue_sample,
    ledger_rows,
    make_config,
    smtp_routing,
    together,
)


def test_backoff_is_exponential_capped_and_jittered() -> None:
    policy = DeliveryPolicy(backoff_base=60, backoff_cap=3600)
    rng = random.Random(42)
    for attempt, ceiling in ((1, 60), (2, 120), (3, 240), (6, 1920), (7, 3600), (12, 3600)):
        delays = [policy.backoff(attempt, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), attempt
        assert len({round(d, 6) for d in delays}) > 150  # spread out, not in lockstep
    assert policy.backoff(1, rng, retry_after=900) == 900
    assert policy.backoff(1, rng, retry_after=10**6) == 3600


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
            reports.append(deliver(engine, config.channels(frozen), frozen))
        finally:
            engine.dispose()

    together([threading.Thread(target=sender) for _ in range(2)])
    received = Counter(m.email["Message-ID"] for m in smtp_server.inbox.messages)
    rows = ledger_rows(setup)
    assert len(received) == 40 and set(received.values()) == {1}
    assert received.keys() == {row["message_id"] for row in rows}
    assert {row["status"] for row in rows} == {"sent"}
    assert sum(r.sent for r in reports) == 40  # type: ignore[attr-defined]
    assert all(len(attempt_rows(setup, row["id"])) == 1 for row in rows)
    setup.dispose()


# Crashes --------------------------------------------------------------------------


class Crash(BaseException):
    """The process dying: not an error any code path may catch and record."""


class CrashAfterSending(Channel):
    """Delivers through a real channel, then the sender dies before recording."""

    kind = "crash"

    def __init__(self, real: Channel) -> None:
        super().__init__(real.name)
        self.real = real

    def send_batch(
        self, messages: Sequence[OutgoingMessage], held: Held = always_held
    ) -> list[DeliveryError | None]:
        self.real.send_batch(messages, held)
        raise Crash


def test_a_crash_between_sending_and_recording_repeats_the_message_once(
    engine: Engine,
    people: dict[str, Recipient],
    smtp_server: SmtpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = make_config(tmp_path, smtp_routing(smtp_server))
    record(config, kind="milestone_overdue", recipient=people["zhang"], level=1)
    channels = config.channels(frozen)
    with pytest.raises(Crash):
        deliver(engine, {"email": CrashAfterSending(channels["email"])}, frozen)
    assert len(smtp_server.inbox.messages) == 1  # it went out; the ledger does not know
    (row,) = ledger_rows(engine)
    assert row["status"] == "queued" and row["claimed_until"] == frozen() + timedelta(minutes=5)

    frozen.advance(minutes=4)  # the dead sender's lease still holds: nobody sends it
    assert deliver(engine, channels, frozen).claimed == 0  # type: ignore[attr-defined]
    assert len(smtp_server.inbox.messages) == 1

    frozen.advance(minutes=2)  # the lease has expired: the next sender takes it over
    report = deliver(engine, channels, frozen)
    assert (report.sent, report.interrupted) == (1, 1)  # type: ignore[attr-defined]
    first, second = smtp_server.inbox.messages
    assert first.email["Message-ID"] == second.email["Message-ID"] == row["message_id"]
    assert first.body("plain") == second.body("plain")
    attempts = attempt_rows(engine, row["id"])
    assert [a["status"] for a in attempts] == ["interrupted", "sent"]
    assert "may have been delivered" in attempts[0]["error"]

    frozen.advance(days=7)
    assert deliver(engine, channels, frozen).claimed == 0  # type: ignore[attr-defined]
    assert len(smtp_server.inbox.messages) == 2  # exactly one repeat, never more
    assert ledger_rows(engine)[0]["status"] == "sent"


def test_a_crash_before_sending_loses_nothing(
    engine: Engine,
    people: dict[str, Recipient],
    smtp_server: SmtpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = make_config(tmp_path, smtp_routing(smtp_server))
    record(config, kind="plan_started", recipient=people["li"])
    claim = claim_due(
        engine, now=frozen(), policy=POLICY, renderer=RENDERER
    )  # claimed, then the process died
    assert len(claim.messages) == 1 and smtp_server.inbox.messages == []
    frozen.advance(seconds=POLICY.lease_seconds + 1)
    assert deliver(engine, config.channels(frozen), frozen).sent == 1  # type: ignore[attr-defined]
    assert len(smtp_server.inbox.messages) == 1


def test_a_message_that_kills_every_sender_ends_as_a_dead_letter(
    engine: Engine,
    people: dict[str, Recipient],
    smtp_server: SmtpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    policy = DeliveryPolicy(max_attempts=2, lease_seconds=60)
    config = make_config(tmp_path, smtp_routing(smtp_server))
    record(config, kind="plan_started", recipient=people["li"])
    channels = config.channels(frozen)
    for _ in range(2):
        claim = claim_due(engine, now=frozen(), policy=policy, renderer=RENDERER)
        send_claimed(claim.messages, channels)  # ... and the sender dies every time
        frozen.advance(seconds=61)
    assert deliver(engine, channels, frozen, policy).claimed == 0  # type: ignore[attr-defined]
    (row,) = ledger_rows(engine)
    assert row["status"] == "dead" and row["last_error"].startswith("gave up after 2 attempts")
    assert [a["status"] for a in attempt_rows(engine, row["id"])] == ["interrupted"] * 2


# Channels -------------------------------------------------------------------------


def test_a_channel_removed_from_the_configuration_is_a_dead_letter(
    engine: Engine,
    people: dict[str, Recipient],
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = make_config(tmp_path, "channels:\n  pager: {kind: console}\ndefault: [pager]\n")
    record(config, kind="plan_started", recipient=people["li"])
    assert deliver(engine, {}, frozen).dead == 1  # type: ignore[attr-defined]
    assert "channel 'pager' is not configured" in ledger_rows(engine)[0]["last_error"]


def test_logs_name_no_one(
    engine: Engine,
    people: dict[str, Recipient],
    smtp_server: SmtpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    caplog: pytest.LogCaptureFixture,
    record: Record,
) -> None:
    caplog.set_level("DEBUG", logger="perfplan.notifications")
    config = make_config(tmp_path, smtp_routing(smtp_server))
    smtp_server.inbox.refuse["zhang.san@example.com"] = "550 5.1.1 <zhang.san@example.com> unknown"
    smtp_server.inbox.refuse["li.wei@example.com"] = "451 4.7.1 Li Wei's mailbox is busy"
    for key in ("zhang", "li", "wang"):
        record(config, kind="milestone_overdue", recipient=people[key], level=1)
    deliver(engine, config.channels(frozen), frozen)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "dead letter" in logged and "will retry" in logged and "sent via email" in logged
    assert not re.search(r"[\w.]+@[\w.]+", logged)
    for person in people.values():
        for part in person.name.split():
            assert part not in logged


def test_a_channel_whose_secret_is_missing_keeps_its_messages_waiting(
    engine: Engine,
    people: dict[str, Recipient],
    tmp_path: Path,
    frozen: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
    record: Record,
) -> None:
    monkeypatch.delenv("PERFPLAN_CHAT_URL", raising=False)
    config = make_config(tmp_path, "channels:\n  chat: {kind: dingtalk}\ndefault: [chat]\n")
    record(config, kind="plan_started", recipient=people["li"])
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


# Rendering when sent --------------------------------------------------------------


def test_a_message_is_rendered_when_first_sent_and_the_ledger_keeps_what_went_out(
    engine: Engine,
    people: dict[str, Recipient],
    smtp_server: SmtpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = make_config(tmp_path, smtp_routing(smtp_server))
    record(config, kind="milestone_overdue", recipient=people["zhang"], level=1)
    (recorded,) = ledger_rows(engine)
    assert (recorded["subject"], recorded["body_html"], recorded["rendered_at"]) == ("", "", None)

    assert deliver(engine, config.channels(frozen), frozen).sent == 1  # type: ignore[attr-defined]
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
    people: dict[str, Recipient],
    smtp_server: SmtpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = make_config(tmp_path, smtp_routing(smtp_server))
    record(config, kind="plan_started", recipient=people["li"])
    channels = config.channels(frozen)
    with pytest.raises(Crash):
        deliver(engine, {"email": CrashAfterSending(channels["email"])}, frozen)
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
    people: dict[str, Recipient],
    smtp_server: SmtpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = make_config(tmp_path, smtp_routing(smtp_server))
    for key in ("zhang", "li", "wang"):  # Chinese, English, Chinese
        record(config, kind="milestone_overdue", recipient=people[key], level=1)
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
    assert deliver(engine, channels, frozen).sent == 1  # type: ignore[attr-defined]
    assert len(smtp_server.inbox.messages) == 3


def _retry_all(engine: Engine, frozen: FrozenClock) -> int:
    with session_scope(engine) as session:
        return retry(session, scope=None, notification_id=None, now=frozen())
