"""Seeing that it runs: `/metrics` and `/api/status` for admins, whose figures move when
the clockwork works, and one log line per request with ids only."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from models.db import session_scope
from states.engine import firing, signing
from tests.perfplan.web.conftest import World
from workflows import dispatch
from workflows.sweep import sweep


def _metric(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus' text format, or None."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        sample, _, value = line.rpartition(" ")
        if sample == (f"{name}{{{wanted}}}" if wanted else name):
            return float(value)
    return None


def _start(world: World) -> None:
    for who in ("zhang", "li", "wang"):
        with session_scope(world.engine) as session:
            signing.sign(session=session, plan_id=world.zhang_plan, actor=who, now=world.clock())
    started = datetime(2026, 9, 1, 9, tzinfo=UTC)
    with session_scope(world.engine) as session:
        firing.fire(
            session=session, plan_id=world.zhang_plan, event="start", actor="li", now=started
        )
    dispatch.dispatch_pending(world.engine, now=started)


def test_the_metrics_move_when_a_sweep_runs(client: TestClient, world: World) -> None:
    before = client.get("/metrics", headers=world.headers("adam"))
    assert before.status_code == 200
    assert before.headers["content-type"].startswith("text/plain")
    assert _metric(before.text, "perfplan_last_run_timestamp_seconds", kind="sweep") is None
    assert _metric(before.text, "perfplan_followups_due") == 0

    _start(world)
    world.clock.set(datetime(2026, 10, 13, 2, tzinfo=UTC))  # milestones are late by now
    waiting = client.get("/metrics", headers=world.headers("adam")).text
    assert (_metric(waiting, "perfplan_followups_due") or 0) > 0

    queued = _metric(waiting, "perfplan_messages_queued") or 0
    report = sweep(world.engine, as_of=world.clock())
    after = client.get("/metrics", headers=world.headers("adam")).text
    assert report.recorded > 0
    assert _metric(after, "perfplan_followups_due") == 0
    assert _metric(after, "perfplan_last_run_ok", kind="sweep") == 1.0
    assert _metric(after, "perfplan_messages_queued") == queued + report.recorded
    status = client.get("/api/status", headers=world.headers("adam")).json()
    assert status["last"]["sweep"]["figures"]["recorded"] == report.recorded
    assert status["messages"]["queued"] == queued + report.recorded
    counted = _metric(
        after, "perfplan_http_requests_total", method="GET", route="/metrics", status="200"
    )
    assert counted == 2  # the two scrapes before this one (a request is counted once answered)


@pytest.mark.parametrize(("who", "status"), [(None, 401), ("wang", 403), ("audrey", 403)])
def test_only_admins_see_the_clockwork(
    client: TestClient, world: World, who: str | None, status: int
) -> None:
    headers = world.headers(who) if who else {}
    assert client.get("/metrics", headers=headers).status_code == status
    assert client.get("/api/status", headers=headers).status_code == status


def test_each_request_is_one_log_line_with_ids_only(
    client: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="perfplan.web")
    path = f"/api/plans/{world.zhang_plan}?secret=zhang.san@example.com"
    answer = client.get(path, headers={**world.headers("wang"), "X-Request-ID": "abc-123"})
    assert answer.status_code == 200
    assert answer.headers["x-request-id"] == "abc-123"
    (record,) = [r for r in caplog.records if r.name == "perfplan.web"]
    assert record.getMessage().startswith("GET /api/plans/{plan_id} 200 ")
    assert (
        vars(record)["request_id"] == "abc-123" and vars(record)["route"] == "/api/plans/{plan_id}"
    )
    assert "zhang" not in record.getMessage() and "secret" not in record.getMessage()
