"""Email through a real SMTP server on loopback: what arrives, in which
language, with which headers; 4xx retried later, 5xx a dead letter; STARTTLS
and login; one connection per batch."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path

from sqlalchemy import Engine

from models.clock import FrozenClock
from notifications.config import NotificationConfig
from notifications.ledger.delivery import DeliveryPolicy
from notifications.message import Recipient
from tests.notifications.support import (
    BASE_URL,
    Record,
    SmtpServer,
    TlsSmtpServer,
    attempt_rows,
    deliver_configured,
    free_port,
    ledger_rows,
    make_config,
    smtp_routing,
)

POLICY = DeliveryPolicy(max_attempts=4, backoff_base=60, backoff_cap=3600)


def _deliver(engine: Engine, config: object, clock: FrozenClock) -> object:
    assert isinstance(config, NotificationConfig)
    return deliver_configured(engine, config, clock, policy=POLICY, seed=7)


def test_zhang_gets_chinese_and_li_english_with_the_plan_link(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    smtp_server: SmtpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = make_config(tmp_path, smtp_routing(smtp_server))
    for key in ("zhang", "li"):
        record(
            config,
            kind="milestone_overdue",
            recipient=people[key],
            subject="milestone:report_1",
            level=1,
            due="2026-10-09",
        )
    report = _deliver(engine, config, frozen)
    assert report.sent == 2  # type: ignore[attr-defined]

    rows = {row["person_id"]: row for row in ledger_rows(engine)}
    zhang = smtp_server.inbox.to("zhang.san@example.com")
    assert len(zhang) == 1 and zhang[0].mail_from == "hr@example.com"
    email = zhang[0].email
    assert email["Subject"] == "里程碑已逾期：First analysis report approved（PIP-1）"
    assert email["To"].addresses[0].display_name == "张三 Zhang San"
    assert email["From"].addresses[0].display_name == "人力资源部"
    assert email["Message-ID"] == rows[people["zhang"].person_id]["message_id"]
    assert email["Date"] == format_datetime(frozen())
    assert email["Content-Language"] == "zh-CN"
    assert email["Auto-Submitted"] == "auto-generated"
    text, html = zhang[0].body("plain"), zhang[0].body("html")
    assert "张三 Zhang San，您好" in text
    assert "已于 2026 年 10 月 9 日（星期五）到期" in text
    assert f"{BASE_URL}/plans/{zhang_plan}" in text
    assert f'href="{BASE_URL}/plans/{zhang_plan}"' in html
    assert "Li Wei 也收到了这份通知" in text

    li = smtp_server.inbox.to("li.wei@example.com")[0].email
    assert (
        li["Subject"]
        == "Overdue milestone in 张三 Zhang San's plan: First analysis report approved (PIP-1)"
    )
    assert li["Content-Language"] == "en"
    body = li.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert body.startswith("Dear Li Wei,")
    assert "Please check in with 张三 Zhang San in the next few days" in body
    assert all(row["status"] == "sent" and row["sent_at"] == frozen() for row in rows.values())


def test_a_batch_goes_over_one_connection(
    engine: Engine,
    people: dict[str, Recipient],
    smtp_server: SmtpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = make_config(tmp_path, smtp_routing(smtp_server))
    for week in range(8):
        record(
            config,
            kind="progress_report_due",
            recipient=people["zhang"],
            due=f"2026-09-{4 + week:02d}",
        )
    _deliver(engine, config, frozen)
    assert len(smtp_server.inbox.messages) == 8
    assert len(smtp_server.inbox.connections) == 1


def test_smtp_4xx_is_retried_later_and_the_rest_of_the_batch_still_goes(
    engine: Engine,
    people: dict[str, Recipient],
    smtp_server: SmtpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = make_config(tmp_path, smtp_routing(smtp_server))
    smtp_server.inbox.refuse["zhang.san@example.com"] = "451 4.3.0 Mailbox busy, try later"
    for key in ("zhang", "li"):
        record(config, kind="plan_started", recipient=people[key])
    report = _deliver(engine, config, frozen)
    assert (report.sent, report.retried, report.dead) == (1, 1, 0)  # type: ignore[attr-defined]
    zhang = next(r for r in ledger_rows(engine) if r["person_id"] == people["zhang"].person_id)
    assert zhang["status"] == "queued" and zhang["attempts"] == 1
    wait = zhang["next_attempt_at"] - frozen()
    assert timedelta(seconds=30) <= wait <= timedelta(seconds=60)  # base 60 s, equal jitter
    assert "SMTP 451" in zhang["last_error"]
    (attempt,) = attempt_rows(engine, zhang["id"])
    assert attempt["status"] == "temporary" and "451" in attempt["error"]

    assert _deliver(engine, config, frozen).claimed == 0  # type: ignore[attr-defined]
    del smtp_server.inbox.refuse["zhang.san@example.com"]
    frozen.advance(seconds=61)
    assert _deliver(engine, config, frozen).sent == 1  # type: ignore[attr-defined]
    assert len(smtp_server.inbox.to("zhang.san@example.com")) == 1
    statuses = [a["status"] for a in attempt_rows(engine, zhang["id"])]
    assert statuses == ["temporary", "sent"]


def test_smtp_5xx_is_a_dead_letter_at_once(
    engine: Engine,
    people: dict[str, Recipient],
    smtp_server: SmtpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = make_config(tmp_path, smtp_routing(smtp_server))
    smtp_server.inbox.refuse["zhang.san@example.com"] = "550 5.1.1 No such user here"
    record(config, kind="plan_started", recipient=people["zhang"])
    report = _deliver(engine, config, frozen)
    assert (report.sent, report.dead) == (0, 1)  # type: ignore[attr-defined]
    (row,) = ledger_rows(engine)
    assert row["status"] == "dead" and row["dead_at"] == frozen()
    assert "SMTP 550" in row["last_error"]
    frozen.advance(days=1)
    assert _deliver(engine, config, frozen).claimed == 0  # type: ignore[attr-defined]
    assert smtp_server.inbox.messages == []


def test_a_person_without_an_address_is_a_dead_letter(
    engine: Engine,
    people: dict[str, Recipient],
    smtp_server: SmtpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = make_config(tmp_path, smtp_routing(smtp_server))
    nobody = Recipient(**{**people["zhang"].__dict__, "email": ""})
    record(config, kind="plan_started", recipient=nobody)
    assert _deliver(engine, config, frozen).dead == 1  # type: ignore[attr-defined]
    assert "no valid email address" in ledger_rows(engine)[0]["last_error"]
    assert smtp_server.inbox.messages == []


def _starttls_config(tmp_path: Path, server: TlsSmtpServer, *, password: str) -> NotificationConfig:
    """SMTP with STARTTLS, logging in as perfplan with `password`."""
    routing = smtp_routing(server).replace("security: none", "security: starttls")
    return make_config(
        tmp_path,
        routing,
        smtp_username="perfplan",
        smtp_password=password,
        smtp_ca_file=server.ca_file,
    )


def test_starttls_and_login(
    engine: Engine,
    people: dict[str, Recipient],
    tls_smtp_server: TlsSmtpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = _starttls_config(tmp_path, tls_smtp_server, password="s3cret")
    record(config, kind="plan_agreed", recipient=people["li"])
    assert _deliver(engine, config, frozen).sent == 1  # type: ignore[attr-defined]
    assert tls_smtp_server.logins == ["perfplan"]
    (received,) = tls_smtp_server.inbox.messages
    assert (
        received.email["Subject"]
        == "Performance improvement plan for 张三 Zhang San agreed (PIP-1)"
    )


def test_a_refused_login_waits_and_sends_nothing(
    engine: Engine,
    people: dict[str, Recipient],
    tls_smtp_server: TlsSmtpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = _starttls_config(tmp_path, tls_smtp_server, password="wrong")
    for key in ("zhang", "li"):
        record(config, kind="plan_agreed", recipient=people[key])
    report = _deliver(engine, config, frozen)
    # The first message's attempt found the login refused; the second was not tried,
    # and waits for a later try without using up an attempt.
    assert (report.sent, report.retried, report.dead) == (0, 1, 0)  # type: ignore[attr-defined]
    assert report.deferred == 1  # type: ignore[attr-defined]
    rows = ledger_rows(engine)
    assert "SMTP 535 at login" in rows[0]["last_error"]
    assert [row["attempts"] for row in rows] == [1, 0]
    assert rows[1]["last_error"] == "" and rows[1]["next_attempt_at"] <= frozen()


def test_an_unreachable_server_defers_the_whole_batch(
    engine: Engine,
    people: dict[str, Recipient],
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    down = SmtpServer("127.0.0.1", free_port(), inbox=None)  # type: ignore[arg-type]
    config = make_config(tmp_path, smtp_routing(down))
    for key in ("zhang", "li", "wang"):
        record(config, kind="plan_agreed", recipient=people[key])
    report = _deliver(engine, config, frozen)
    assert (report.sent, report.retried, report.deferred) == (0, 1, 2)  # type: ignore[attr-defined]
    assert all(row["status"] == "queued" for row in ledger_rows(engine))
