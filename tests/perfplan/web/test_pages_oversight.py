"""The oversight pages on both databases: HR's overdue dashboard, the auditor's search,
verify and export, the admin's definitions with check-before-install; and that the
plan page and the plan list cost a fixed number of queries."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select, update

from models.db import session_scope
from models.tables import AUDIT, DEFINITION_VERSION, PLAN
from states.definitions import catalog
from states.engine import firing, signing
from states.plans.document import PlanDocument
from states.plans.opening import create_plan
from tests.conftest import unprotect_audit
from tests.perfplan.web.conftest import World, liu_document
from tests.perfplan.web.pages_support import csrf_of, post, sign_in, sign_off, start

STANDARD = (Path(catalog.BUILTIN_DIR) / "standard.yaml").read_text(encoding="utf-8")


# HR's overdue dashboard ---------------------------------------------------------


def _run(world: World, plan_id: int, employee: str, manager: str, hr: str) -> None:
    """Signed off and started: a plan whose milestones run."""
    for who in (employee, manager, hr):
        with session_scope(world.engine) as session:
            signing.sign(session=session, plan_id=plan_id, actor=who, now=world.clock())
    with session_scope(world.engine) as session:
        start_on = world.clock().replace(month=9, day=1)
        firing.fire(session=session, plan_id=plan_id, event="start", actor=manager, now=start_on)


def test_hr_sees_the_overdue_milestones_of_their_departments(
    client: TestClient, world: World
) -> None:
    world.clock.advance(days=40)  # 2026-10-04: both training milestones are late
    sign_in(client, world, "wang")  # HR for Sales East
    assert "data-milestone=" not in client.get("/overdue").text  # drafted: nothing runs yet
    _run(world, world.zhang_plan, "zhang", "li", "wang")
    _run(world, world.liu_plan, "liu", "zhao", "qian")
    page = client.get("/overdue")
    assert page.status_code == 200
    assert page.text.count(f'data-plan="{world.zhang_plan}"') == 2
    assert f'data-plan="{world.liu_plan}"' not in page.text
    first = page.text.split('data-milestone="')[1].split('"')[0]
    assert first == "training_attended"  # most late first
    assert "逾期 19 天" in page.text  # Wang reads Chinese
    assert "1 个计划中有 2 个里程碑逾期" in page.text and "Sales East: 2" in page.text
    sign_in(client, world, "qian")  # HR for Technical Support
    page = client.get("/overdue").text
    assert f'data-plan="{world.liu_plan}"' in page and f'data-plan="{world.zhang_plan}"' not in page


def test_the_dashboard_is_hrs_and_auditors_only(client: TestClient, world: World) -> None:
    sign_in(client, world, "li")
    refused = client.get("/overdue")
    assert refused.status_code == 403
    assert "needs the standing role auditor or hr" in unescape(refused.text)
    assert 'href="/overdue"' not in client.get("/plans").text
    sign_in(client, world, "audrey")
    assert client.get("/overdue").status_code == 200


def test_nothing_is_overdue_before_the_first_due_date(client: TestClient, world: World) -> None:
    sign_in(client, world, "wang")
    page = client.get("/overdue").text
    assert "没有逾期事项。" in page and "data-milestone=" not in page


# The auditor's page ----------------------------------------------------------------


def test_audrey_searches_the_trail_by_plan_actor_and_period(
    client: TestClient, world: World
) -> None:
    csrf = sign_in(client, world, "zhang")
    post(client, world, world.zhang_plan, "sign", csrf, event="agree")
    sign_in(client, world, "audrey")
    everything = client.get("/audit").text
    assert everything.count("<tr class=") == 3  # two creations and Zhang's signature
    by_actor = client.get("/audit?actor=zhang").text
    assert by_actor.count("<tr class=") == 1 and "sign:agree" in by_actor
    by_plan = client.get(f"/audit?plan={world.liu_plan}").text
    assert by_plan.count("<tr class=") == 1 and f"#{world.liu_plan}</a>" in by_plan
    before = client.get("/audit?until=2026-08-24").text
    assert "No records match." in before
    bad = client.get("/audit?since=yesterday")
    assert bad.status_code == 422 and "since: 'yesterday' is not a date" in unescape(bad.text)
    backwards = client.get("/audit?since=2026-09-02&until=2026-09-01")
    assert backwards.status_code == 422


def test_audrey_verifies_a_chain_and_sees_where_it_is_broken(
    client: TestClient, world: World
) -> None:
    csrf = sign_in(client, world, "audrey")
    good = client.post("/audit/verify", data={"csrf_token": csrf, "plan": str(world.zhang_plan)})
    assert good.status_code == 200
    assert 'id="verify-status">chain verified (1 records)' in good.text
    with session_scope(world.engine) as session:  # the plan's tip no longer matches its chain
        session.execute(update(PLAN).where(PLAN.c.id == world.zhang_plan).values(audit_seq=2))
    broken = client.post("/audit/verify", data={"csrf_token": csrf})
    assert "1 broken chain(s)" in broken.text and "broken at record 2" in broken.text
    assert "records were deleted or the plan&#39;s tip was altered" in broken.text
    plan_page = client.get(f"/plans/{world.zhang_plan}").text
    assert 'class="badge broken" id="verify-status">broken at record 2' in plan_page


def test_a_record_altered_after_the_page_was_seen_shows_broken(
    client: TestClient, world: World
) -> None:
    """The history is verified on every view: the plan's tip (count and last hash) still
    matches, only a record's content changed, and the page that said "verified" a moment
    ago says where the chain is broken."""
    sign_off(client, world, world.zhang_plan)
    sign_in(client, world, "audrey")
    seen = client.get(f"/plans/{world.zhang_plan}").text
    assert 'id="verify-status">chain verified (5 records)' in seen
    unprotect_audit(world.engine)
    with session_scope(world.engine) as session:
        session.execute(
            update(AUDIT)
            .where(AUDIT.c.plan_id == world.zhang_plan, AUDIT.c.seq == 3)
            .values(comment="edited")
        )
    again = unescape(client.get(f"/plans/{world.zhang_plan}").text)
    assert 'class="badge broken" id="verify-status">broken at record 3' in again
    assert "the record was altered after it was written" in again
    assert "edited" in again  # the page shows the very record it found altered


def test_audit_is_auditors_only_and_verify_needs_csrf(client: TestClient, world: World) -> None:
    csrf = sign_in(client, world, "wang")
    assert client.get("/audit").status_code == 403
    assert client.post("/audit/verify", data={"csrf_token": csrf}).status_code == 403
    assert client.get("/audit/export?format=csv").status_code == 403
    sign_in(client, world, "audrey")
    assert client.post("/audit/verify", data={"plan": "1"}).status_code == 403  # no token


def test_the_export_is_the_whole_record_as_csv_or_json(client: TestClient, world: World) -> None:
    sign_in(client, world, "audrey")
    answer = client.get(f"/audit/export?format=csv&plan={world.zhang_plan}")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    disposition = answer.headers["content-disposition"]
    assert disposition == 'attachment; filename="perfplan-audit-20260825T090000Z.csv"'
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert [(r["plan_id"], r["seq"], r["event"]) for r in rows] == [
        (str(world.zhang_plan), "1", "create")
    ]
    assert len(rows[0]["hash"]) == 64
    records = json.loads(client.get("/audit/export?format=json").text)
    assert {r["plan_id"] for r in records} == {world.zhang_plan, world.liu_plan}
    assert client.get("/audit/export?format=xml").status_code == 422


# The admin's definitions -----------------------------------------------------------


def test_adam_sees_the_definitions_their_versions_and_diagrams(
    client: TestClient, world: World
) -> None:
    sign_in(client, world, "adam")
    page = client.get("/admin/definitions").text
    row = page.split('data-definition="standard:1"')[1].split("</tr>")[0]
    assert "<td>2</td>" in row  # both plans are bound to it
    assert "probation" in page  # a built-in file not installed yet
    version = client.get("/admin/definitions/standard/1")
    assert version.status_code == 200
    assert '<svg class="diagram"' in version.text and "stateDiagram-v2" in version.text
    assert client.get("/admin/definitions/probation/1").status_code == 200  # from its file
    assert client.get("/admin/definitions/standard/9").status_code == 404
    assert client.get("/admin/definitions/standard/nine").status_code == 422


def test_checking_a_broken_definition_lists_every_problem_and_installs_nothing(
    client: TestClient, world: World
) -> None:
    csrf = sign_in(client, world, "adam")
    broken = STANDARD.replace("dest: evaluated", "dest: nowhere").replace(
        "guards: [period_started]", "guards: [no_such_guard]"
    )
    answer = client.post("/admin/definitions/check", data={"csrf_token": csrf, "source": broken})
    assert answer.status_code == 422
    problems = answer.text.split('class="problems"')[1]
    assert problems.count("<tr><td><code>") >= 2
    assert "nowhere" in problems and "no_such_guard" in problems
    assert "install-definition" not in answer.text
    bad_file = {"upload": ("bad.yaml", b"name: [unclosed\n", "text/yaml")}
    upload = client.post("/admin/definitions/check", data={"csrf_token": csrf}, files=bad_file)
    assert upload.status_code == 422 and "bad.yaml" in upload.text
    empty = client.post("/admin/definitions/check", data={"csrf_token": csrf, "source": " "})
    assert empty.status_code == 422 and "EMPTY" in empty.text
    with session_scope(world.engine) as session:
        assert len(session.execute(select(DEFINITION_VERSION)).all()) == 1


def test_a_checked_definition_is_installed_once_and_a_reused_number_is_refused(
    client: TestClient, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = tmp_path / "definitions"
    monkeypatch.setenv("PERFPLAN_DEFINITIONS_DIR", str(own))
    csrf = sign_in(client, world, "adam")
    same = client.post("/admin/definitions/check", data={"csrf_token": csrf, "source": STANDARD})
    assert same.status_code == 200 and "installed already" in same.text
    reused = STANDARD.replace("Sign off, zh-CN", "Sign it, zh-CN")
    refused = client.post("/admin/definitions/check", data={"csrf_token": csrf, "source": reused})
    assert refused.status_code == 422 and "VERSION_REUSED" in refused.text
    newer = reused.replace("version: 1", "version: 2")
    checked = client.post("/admin/definitions/check", data={"csrf_token": csrf, "source": newer})
    assert checked.status_code == 200 and 'id="install-definition"' in checked.text
    source = unescape(
        checked.text.split('<textarea name="source" hidden>')[1].split("</textarea>")[0]
    )
    installed = client.post(
        "/admin/definitions/install",
        data={"csrf_token": csrf_of(checked.text), "source": source},
        follow_redirects=False,
    )
    assert installed.status_code == 303
    listing = client.get(installed.headers["location"]).text
    assert "standard v2 is installed." in listing and 'data-definition="standard:2"' in listing
    with session_scope(world.engine) as session:
        versions = session.execute(select(DEFINITION_VERSION.c.version)).scalars().all()
    assert sorted(versions) == [1, 2]
    # New plans get it: the file is where `catalog.find` looks first.
    assert (own / "standard.yaml").read_text(encoding="utf-8") == source
    assert catalog.find("standard").version == 2


def test_installing_without_a_definitions_directory_says_what_to_set(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PERFPLAN_DEFINITIONS_DIR", raising=False)
    csrf = sign_in(client, world, "adam")
    newer = STANDARD.replace("version: 1", "version: 2")
    refused = client.post("/admin/definitions/install", data={"csrf_token": csrf, "source": newer})
    assert refused.status_code == 409
    assert "PERFPLAN_DEFINITIONS_DIR" in refused.text
    with session_scope(world.engine) as session:
        assert len(session.execute(select(DEFINITION_VERSION)).all()) == 1


def test_definitions_are_the_admins_only(client: TestClient, world: World) -> None:
    csrf = sign_in(client, world, "wang")
    assert client.get("/admin/definitions").status_code == 403
    newer = STANDARD.replace("version: 1", "version: 2")
    refused = client.post("/admin/definitions/install", data={"csrf_token": csrf, "source": newer})
    assert refused.status_code == 403
    with session_scope(world.engine) as session:
        assert len(session.execute(select(DEFINITION_VERSION)).all()) == 1


# Fixed cost per page -----------------------------------------------------------------


@contextmanager
def counted(world: World) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(world.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(world.engine, "before_cursor_execute", record)


def small_plan(world: World, zhang_doc: PlanDocument) -> int:
    """Liu's second plan: two goals, three milestones, one action (Zhang's has 4, 9, 4)."""
    data = liu_document(zhang_doc).model_dump()
    data["title"] = "Liu Yang — a shorter plan"
    data["goals"] = data["goals"][:2]
    data["actions"] = [a for a in data["actions"] if a["goal"] == "training"]
    with session_scope(world.engine) as session:
        return create_plan(
            session=session,
            document=PlanDocument.model_validate(data),
            actor="qian",
            now=world.clock(),
        )


def test_the_plan_page_costs_the_same_queries_however_large_the_plan(
    client: TestClient, world: World, zhang_doc: PlanDocument
) -> None:
    small = small_plan(world, zhang_doc)
    sign_in(client, world, "audrey")
    with counted(world) as for_small:
        assert client.get(f"/plans/{small}").text.count('class="milestone-row') == 4
    with counted(world) as for_large:
        assert client.get(f"/plans/{world.zhang_plan}").text.count('class="milestone-row') == 9
    assert len(for_small) == len(for_large) < 40


def test_recording_more_does_not_add_queries_to_the_plan_page(
    client: TestClient, world: World
) -> None:
    csrf = start(client, world, world.zhang_plan)
    with counted(world) as before:
        client.get(f"/plans/{world.zhang_plan}")
    for goal in ("contracts", "training", "reports", "response_time"):
        post(client, world, world.zhang_plan, "measure", csrf, goal=goal, value="50")
    for milestone in ("training_attended", "training_passed", "report_1"):
        post(client, world, world.zhang_plan, "milestone", csrf, milestone=milestone)
    with counted(world) as after:
        page = client.get(f"/plans/{world.zhang_plan}")
    assert page.text.count('data-timeline="done"') == 3
    assert len(after) == len(before)


def test_each_plan_list_is_one_query(client: TestClient, world: World) -> None:
    for person, path in [
        ("wang", "/plans"),
        ("li", "/team"),
        ("li", "/plans?page=2"),
        ("audrey", "/plans?scope=all&department=Sales+East"),
    ]:
        sign_in(client, world, person)
        with counted(world) as statements:
            assert client.get(path).status_code == 200
        # The page of plans with its employees, overdue counts, next due dates and roles,
        # after the definitions the plans are bound to (where their milestones run).
        listing = [s for s in statements if 'FROM "plan"' in s or "FROM plan" in s]
        assert len(listing) == 2, listing
        assert "DISTINCT" in listing[0] and "definition_hash" in listing[0]
