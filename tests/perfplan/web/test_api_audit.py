"""The audit routes: a plan's history, the auditors' search, verification, exports."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from sqlalchemy import text

from models.db import session_scope
from tests.conftest import unprotect_audit
from tests.perfplan.web.api_support import call, ok, output_in_tmp, sign_off
from tests.perfplan.web.conftest import World

__all__ = ["output_in_tmp"]


def test_a_plans_history_says_who_did_what(client: TestClient, world: World) -> None:
    sign_off(client, world)
    records = ok(client, world, "zhang", "GET", f"/api/plans/{world.zhang_plan}/audit")
    assert [(r["seq"], r["event"], r["actor"]) for r in records] == [
        (1, "create", "wang"),
        (2, "sign:agree", "zhang"),
        (3, "sign:agree", "li"),
        (4, "sign:agree", "wang"),
        (5, "agree", "wang"),
    ]
    assert records[1]["prev_hash"] == records[0]["hash"]


def test_the_history_exports_as_csv_with_a_header(client: TestClient, world: World) -> None:
    sign_off(client, world)
    answer = call(client, world, "li", "GET", f"/api/plans/{world.zhang_plan}/audit?format=csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="plan-{world.zhang_plan}-audit.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == 5
    assert rows[0]["event"] == "create" and rows[0]["at"] == "2026-08-25T09:00:00Z"
    assert list(rows[0])[:3] == ["plan_id", "seq", "kind"]


def test_the_global_search_is_for_auditors_and_filters(client: TestClient, world: World) -> None:
    sign_off(client, world)

    def search(query: str) -> list[tuple[int, str, str]]:
        found = ok(client, world, "audrey", "GET", f"/api/audit{query}")
        return [(r["plan_id"], r["event"], r["actor"]) for r in found]

    assert search("?actor=qian") == [(world.liu_plan, "create", "qian")]
    assert search("?event=agree") == [(world.zhang_plan, "agree", "wang")]
    assert len(search("")) == 6
    assert search("?since=2026-08-26") == []
    assert len(search("?until=2026-08-25")) == 6
    assert len(search(f"?plan={world.liu_plan}")) == 1
    assert len(search("?since=0001-01-01&until=9999-12-31")) == 6  # no day after the last
    assert len(search("?limit=2&offset=1")) == 2
    exported = call(client, world, "audrey", "GET", "/api/audit?format=csv&actor=wang")
    assert exported.text.splitlines()[0].startswith("plan_id,seq,kind,event")
    assert len(exported.text.splitlines()) == 1 + 3
    for person in ("wang", "li", "adam"):
        assert call(client, world, person, "GET", "/api/audit").status_code == 403
    backwards = call(client, world, "audrey", "GET", "/api/audit?since=2026-09-02&until=2026-09-01")
    assert backwards.status_code == 422


def test_verify_names_the_altered_record(client: TestClient, world: World) -> None:
    sign_off(client, world)
    url = f"/api/plans/{world.zhang_plan}/audit/verify"
    assert ok(client, world, "zhang", "GET", url) == {
        "ok": True,
        "plans": 1,
        "records": 5,
        "breaks": [],
        "organisation": None,  # one plan's chain: the organisation's is verified with all
    }
    unprotect_audit(world.engine)
    with session_scope(world.engine) as session:
        session.execute(text("UPDATE audit_record SET comment = 'edited' WHERE seq = 3"))
    broken = ok(client, world, "zhang", "GET", url)
    assert broken["ok"] is False
    assert broken["breaks"][0]["seq"] == 3
    assert "altered" in broken["breaks"][0]["problem"]
    everything = ok(client, world, "audrey", "GET", "/api/audit/verify")
    assert (everything["ok"], everything["plans"], len(everything["breaks"])) == (False, 2, 1)
    assert call(client, world, "wang", "GET", "/api/audit/verify").status_code == 403
