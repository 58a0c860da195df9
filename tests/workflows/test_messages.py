"""Each message fits its reader's part in the plan: whoever proposed an adjustment is
not told to talk with themselves, those who re-confirm it (the definition's approval
chain) are asked to, and whoever does not is told for information only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from models.clock import FrozenClock
from models.db import session_scope
from models.tables import NOTIFICATION
from notifications.context import load_context
from notifications.message import Rendered
from states.plans import activities
from states.plans.document import PlanDocument
from tests.workflows.test_reminders import _at
from tests.workflows.test_sweep import _started
from workflows import dispatch, messages


@pytest.fixture
def outbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("PERFPLAN_OUTBOX_DIR", str(tmp_path / "outbox"))
    messages.config.cache_clear()
    yield tmp_path / "outbox"
    messages.config.cache_clear()


def _proposed_by(engine: Engine, plan_id: int, who: str) -> dict[tuple[str, str], Rendered]:
    """`who` proposes to move report_1; what each reader of each message kind then reads,
    in English and in Chinese (kind and role -> the English; the Chinese under 'zh')."""
    with session_scope(engine) as session:
        activities.adjust(
            session=session,
            plan_id=plan_id,
            actor=who,
            now=_at("2026-10-12T10:00"),
            kind="milestone",
            key="report_1",
            changes={"due": "2026-10-16"},
            reason="the technical department's data came late",
        )
    assert dispatch.dispatch_pending(engine, now=_at("2026-10-12T10:00")).failed == []
    with session_scope(engine) as session:
        rows = session.execute(
            select(NOTIFICATION.c.kind, NOTIFICATION.c.role, NOTIFICATION.c.context).where(
                NOTIFICATION.c.plan_id == plan_id,
                NOTIFICATION.c.kind.in_(["adjustment_proposed", "signature_requested"]),
                NOTIFICATION.c.created_at >= _at("2026-10-12T10:00"),
            )
        ).all()
    renderer = messages.config().renderer
    read: dict[tuple[str, str], Rendered] = {}
    for row in rows:
        context = load_context(row.context)
        read[(row.kind, row.role)] = renderer.render(row.kind, "en", context)
        read[(row.kind, f"{row.role}:zh")] = renderer.render(row.kind, "zh-CN", context)
    return read


def test_li_proposes_and_is_asked_to_reconfirm_not_to_talk_with_himself(
    outbox: Path, engine: Engine, zhang_doc: PlanDocument, clock: FrozenClock
) -> None:
    plan_id = _started(engine, zhang_doc, clock)
    read = _proposed_by(engine, plan_id, "li")

    li = read[("adjustment_proposed", "manager")]
    assert "You proposed a change" in li.text and "talk with Li Wei" not in li.text
    assert "as its proposer, your re-confirmation is needed too" in li.text
    assert "与Li Wei沟通" not in read[("adjustment_proposed", "manager:zh")].text.replace(" ", "")
    zhang = read[("adjustment_proposed", "employee")]
    assert "Li Wei proposed a change" in zhang.text
    assert "please talk with Li Wei before you re-confirm" in zhang.text
    assert "张三 Zhang San and Li Wei have re-confirmed it" in zhang.text
    # Wang from HR signs no re-confirmation in the standard definition: told, not asked.
    wang = read[("adjustment_proposed", "hr")]
    assert not wang.subject.startswith("Please re-confirm")
    assert "your re-confirmation is not needed" in wang.text
    assert "Review and re-confirm" not in wang.html
    assert "无需您重新确认" in read[("adjustment_proposed", "hr:zh")].text
    assert ("signature_requested", "hr") not in read


def test_zhang_proposes_and_li_is_asked_to_talk_with_him(
    outbox: Path, engine: Engine, zhang_doc: PlanDocument, clock: FrozenClock
) -> None:
    plan_id = _started(engine, zhang_doc, clock)
    read = _proposed_by(engine, plan_id, "zhang")
    assert "You proposed a change" in read[("adjustment_proposed", "employee")].text
    li = read[("adjustment_proposed", "manager")].text
    assert "张三 Zhang San proposed" in li and "talk with 张三 Zhang San before" in li


def test_a_request_to_reconfirm_asks_for_a_reconfirmation_not_a_signature(
    outbox: Path, engine: Engine, zhang_doc: PlanDocument, clock: FrozenClock
) -> None:
    plan_id = _started(engine, zhang_doc, clock)
    read = _proposed_by(engine, plan_id, "li")
    for role in ("employee", "manager"):
        english = read[("signature_requested", role)]
        chinese = read[("signature_requested", f"{role}:zh")]
        assert "re-confirm" in english.subject.lower()
        assert "waits for your re-confirmation" in english.text
        assert "Before signing" not in english.text and "(Re-confirm)" not in english.text
        assert "重新确认" in chinese.subject and "签字前" not in chinese.text
        assert "（重新确认）" not in chinese.text
