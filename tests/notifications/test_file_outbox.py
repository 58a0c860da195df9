"""The file outbox (the embedded default) and the console: one readable file
per message, written whole, the same file again if a message is repeated."""

from __future__ import annotations

import io
import json
from email import message_from_bytes, policy
from pathlib import Path

from sqlalchemy import Engine

from models.clock import FrozenClock
from notifications.channels.console import ConsoleChannel
from notifications.channels.outbox import FileOutboxChannel
from notifications.config import NotificationConfig
from notifications.ledger.delivery import DeliveryPolicy, claim_due, send_claimed
from notifications.message import OutgoingMessage, Recipient
from tests.notifications.support import (
    BASE_URL,
    Record,
    deliver_configured,
    ledger_rows,
    make_config,
)

POLICY = DeliveryPolicy(lease_seconds=60)


def _deliver(engine: Engine, config: object, clock: FrozenClock) -> object:
    assert isinstance(config, NotificationConfig)
    return deliver_configured(engine, config, clock, policy=POLICY, seed=1)


def test_each_message_is_one_readable_eml_file(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = make_config(tmp_path)
    for key in ("zhang", "li"):
        record(config, kind="milestone_overdue", recipient=people[key], level=1)
    assert _deliver(engine, config, frozen).sent == 2  # type: ignore[attr-defined]
    files = sorted((tmp_path / "outbox").iterdir())
    assert [f.name for f in files] == [
        "00000001-milestone_overdue-employee-zh-CN.eml",
        "00000002-milestone_overdue-manager-en.eml",
    ]
    raw = files[0].read_bytes()
    text = raw.decode("utf-8")  # readable in any editor, headers included (RFC 6532)
    assert "Subject: 里程碑已逾期：First analysis report approved（PIP-1）" in text
    assert "To: 张三 Zhang San <zhang.san@example.com>" in text
    assert "张三 Zhang San，您好：" in text
    email = message_from_bytes(raw, policy=policy.default)
    assert email["Subject"] == "里程碑已逾期：First analysis report approved（PIP-1）"
    assert email["To"].addresses[0].addr_spec == "zhang.san@example.com"
    assert email["Message-ID"] == ledger_rows(engine)[0]["message_id"]
    html = email.get_body(preferencelist=("html",))
    assert html is not None
    assert f'href="{BASE_URL}/plans/{zhang_plan}"' in html.get_content()
    english = message_from_bytes(files[1].read_bytes(), policy=policy.default)
    assert english["Subject"].startswith("Overdue milestone in 张三 Zhang San's plan")


def test_json_format(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = make_config(tmp_path, "channels:\n  outbox: {kind: file, format: json}\n")
    record(config, kind="evaluation_ready", recipient=people["wang"])
    _deliver(engine, config, frozen)
    (written,) = (tmp_path / "outbox").iterdir()
    document = json.loads(written.read_text(encoding="utf-8"))
    assert written.suffix == ".json"
    assert document["to"] == {
        "name": "王芳 Wang Fang",
        "address": "wang.fang@example.com",
        "role": "hr",
        "locale": "zh-CN",
    }
    assert document["subject"] == "张三 Zhang San 的绩效改进计划评估结果：顺利完成（PIP-1）"
    assert document["plan"] == f"PIP-{zhang_plan}"
    assert document["written_at"] == frozen().isoformat()


def test_a_repeated_message_is_the_same_file_written_again(
    engine: Engine,
    people: dict[str, Recipient],
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = make_config(tmp_path)
    record(config, kind="plan_agreed", recipient=people["li"])
    claim = claim_due(engine, now=frozen(), policy=POLICY, renderer=config.renderer)
    send_claimed(claim.messages, config.channels(frozen))  # written; then the sender died
    frozen.advance(seconds=61)
    assert _deliver(engine, config, frozen).sent == 1  # type: ignore[attr-defined]
    assert [f.name for f in (tmp_path / "outbox").iterdir()] == [
        "00000001-plan_agreed-manager-en.eml"
    ]  # no duplicate, and no half-written leftover


def test_an_unwritable_outbox_is_a_temporary_failure(
    engine: Engine,
    people: dict[str, Recipient],
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    (tmp_path / "blocked").write_text("a file where the folder should be")
    config = make_config(tmp_path, outbox_dir=tmp_path / "blocked" / "outbox")
    for key in ("zhang", "li"):
        record(config, kind="plan_agreed", recipient=people[key])
    report = _deliver(engine, config, frozen)
    assert (report.sent, report.retried) == (0, 2)  # type: ignore[attr-defined]
    assert ledger_rows(engine)[0]["last_error"].startswith("file outbox: cannot write")


def _message(**changes: object) -> OutgoingMessage:
    from datetime import UTC, datetime

    base = dict(
        id=12,
        kind="coaching_session_due",
        channel="console",
        plan_id=1,
        person_id=2,
        role="manager",
        locale="en",
        address="li.wei@example.com",
        recipient_name="Li Wei",
        subject="Coaching talk with 张三 Zhang San due by 7 Sep 2026 (PIP-1)",
        text="Dear Li Wei,\n\nPlease hold your coaching talk.\n",
        html="<p>x</p>",
        link=f"{BASE_URL}/plans/1",
        message_id="<perfplan.x@example.com>",
        dedup_key="k",
        created_at=datetime(2026, 9, 1, tzinfo=UTC),
    )
    return OutgoingMessage(**{**base, **changes})  # type: ignore[arg-type]


def test_console_prints_a_readable_block(frozen: FrozenClock) -> None:
    stream = io.StringIO()
    ConsoleChannel("console", stream=stream, clock=frozen).send(_message())
    printed = stream.getvalue()
    assert printed.startswith("── notification 12 · coaching_session_due · PIP-1 ──")
    assert "To:      Li Wei <li.wei@example.com> (manager, en)" in printed
    assert "Subject: Coaching talk with 张三 Zhang San due by 7 Sep 2026 (PIP-1)" in printed
    assert "Please hold your coaching talk." in printed


def test_outbox_file_names_carry_no_personal_data(tmp_path: Path, frozen: FrozenClock) -> None:
    channel = FileOutboxChannel("outbox", directory=tmp_path, clock=frozen)
    name = channel.path_for(_message()).name
    assert name == "00000012-coaching_session_due-manager-en.eml"


def test_a_name_cannot_inject_headers(tmp_path: Path, frozen: FrozenClock) -> None:
    from notifications.channels.email import build_email

    for readable in (True, False):
        raw = build_email(
            _message(recipient_name="Li Wei\r\nBcc: all@example.com"),
            sender="hr@example.com",
            sender_name="",
            sent_at=frozen(),
            readable=readable,
        )
        email = message_from_bytes(raw, policy=policy.default)
        assert email["Bcc"] is None
        assert email["To"].addresses[0].addr_spec == "li.wei@example.com"
