"""The notification routes: a plan's ledger, dead letters, and retrying them."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from models.db import session_scope
from models.tables import NOTIFICATION
from tests.perfplan.web.api_support import call, ok, output_in_tmp, sign_off
from tests.perfplan.web.conftest import World

__all__ = ["output_in_tmp"]


def _bury(world: World, subject_part: str) -> int:
    """What the dispatcher does after the last failed attempt: a dead letter."""
    with session_scope(world.engine) as session:
        row = session.execute(
            select(NOTIFICATION.c.id).where(NOTIFICATION.c.subject.contains(subject_part))
        ).first()
        assert row is not None
        buried = {
            "status": "dead",
            "dead_at": world.clock(),
            "last_error": "550 mailbox unavailable",
        }
        session.execute(update(NOTIFICATION).where(NOTIFICATION.c.id == row.id).values(**buried))
        return int(row.id)


def test_a_plans_ledger_shows_each_message_and_its_attempts(
    client: TestClient, world: World
) -> None:
    sign_off(client, world)
    messages = ok(client, world, "li", "GET", f"/api/plans/{world.zhang_plan}/notifications")
    assert messages, "signing produces messages"
    first = messages[0]
    assert (first["kind"], first["person"], first["status"]) == (
        "signature_requested",
        "li",
        "sent",
    )
    assert [t["status"] for t in first["tries"]] == ["sent"]
    assert {m["person"] for m in messages} >= {"li", "wang", "zhang"}
    none_for_liu = ok(client, world, "qian", "GET", f"/api/plans/{world.liu_plan}/notifications")
    assert none_for_liu == []
    assert (
        call(client, world, "li", "GET", f"/api/plans/{world.liu_plan}/notifications").status_code
        == 404
    )


def test_dead_letters_are_listed_and_retried(client: TestClient, world: World) -> None:
    sign_off(client, world)
    dead = _bury(world, "PIP-1")
    letters = ok(client, world, "wang", "GET", "/api/notifications/dead-letters")
    assert [(d["id"], d["last_error"]) for d in letters] == [(dead, "550 mailbox unavailable")]
    assert call(client, world, "li", "GET", "/api/notifications/dead-letters").status_code == 403
    assert call(client, world, "li", "POST", f"/api/notifications/{dead}/retry").status_code == 403
    assert ok(client, world, "adam", "POST", f"/api/notifications/{dead}/retry") == {"requeued": 1}
    ledger = ok(client, world, "wang", "GET", f"/api/plans/{world.zhang_plan}/notifications")
    retried = next(m for m in ledger if m["id"] == dead)
    assert (retried["status"], retried["attempts"], len(retried["tries"])) == ("queued", 0, 1)
    again = call(client, world, "adam", "POST", f"/api/notifications/{dead}/retry")
    assert (again.status_code, again.json()["error"]) == (409, "NotRetryable")
    missing = call(client, world, "adam", "POST", "/api/notifications/99999/retry")
    assert missing.status_code == 404


def test_retry_all_queues_every_dead_letter(client: TestClient, world: World) -> None:
    sign_off(client, world)
    _bury(world, "PIP-1")
    assert ok(client, world, "wang", "POST", "/api/notifications/dead-letters/retry") == {
        "requeued": 1
    }
    assert ok(client, world, "wang", "GET", "/api/notifications/dead-letters") == []


def test_hr_handle_only_their_departments_dead_letters(client: TestClient, world: World) -> None:
    """A message's subject names the employee: HR for Sales East never see Liu's."""
    sign_off(client, world)
    ok(client, world, "liu", "POST", f"/api/plans/{world.liu_plan}/signatures", json={})
    zhangs, lius = _bury(world, "PIP-1"), _bury(world, "PIP-2")

    def dead(who: str) -> list[int]:
        return [d["id"] for d in ok(client, world, who, "GET", "/api/notifications/dead-letters")]

    assert dead("wang") == [zhangs]
    assert dead("qian") == [lius]
    assert sorted(dead("adam")) == sorted([zhangs, lius])
    assert (
        call(client, world, "wang", "POST", f"/api/notifications/{lius}/retry").status_code == 404
    )
    assert ok(client, world, "wang", "POST", "/api/notifications/dead-letters/retry") == {
        "requeued": 1
    }
    assert dead("adam") == [lius]
