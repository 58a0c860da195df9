"""The admin's import of the organisation on the pages: upload, preview, confirm; a bad
file shown by row and column; a preview that no longer holds; and who may (the admin
alone: everyone else is refused and changes nothing, another admin's upload is no one's)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from models.db import session_scope
from models.tables import ORG_AUDIT, PENDING_IMPORT
from people import access
from states.intake.people import import_people, load_directory
from tests.conftest import ROOT
from tests.perfplan.web.conftest import PERSONAS, TESTER, World
from tests.perfplan.web.pages_support import csrf_of, sign_in

EXAMPLE = ROOT / "docs" / "examples" / "zhang-organisation.csv"
# Zhang moves to Chen; Audrey's colleague joins Internal Audit (Audrey's department).
MOVED = (
    EXAMPLE.read_text(encoding="utf-8").replace(",Sales East,li,", ",Sales East,chen,")
    + "ines,Inês Ma,ines@example.com,zh-CN,Internal Audit,,\n"
).encode()


def upload(client: TestClient, csrf: str, data: bytes, name: str = "hr.csv") -> object:
    files = {"upload": (name, data, "text/csv")}
    return client.post("/admin/people/import/preview", data={"csrf_token": csrf}, files=files)


def org_records(world: World) -> int:
    with world.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(ORG_AUDIT)).scalar_one())


def field(html: str, name: str) -> str:
    return html.split(f'name="{name}" value="')[1].split('"')[0]


def test_adam_previews_then_imports_exactly_what_he_read(client: TestClient, world: World) -> None:
    csrf = sign_in(client, world, "adam")
    assert 'href="/admin/people/import"' in client.get("/plans").text
    before = org_records(world)
    preview = upload(client, csrf, MOVED)
    assert preview.status_code == 200, preview.text  # type: ignore[attr-defined]
    page = preview.text  # type: ignore[attr-defined]
    assert "hr.csv (7 rows): 2 changes" in page
    assert 'data-change="manager:zhang"><td>4</td><td>changed manager</td>' in page
    assert 'data-change="new_person:ines"' in page
    assert org_records(world) == before  # a preview writes nothing
    confirmed = client.post(
        "/admin/people/import/confirm",
        data={
            "csrf_token": csrf_of(page),
            "upload_id": field(page, "upload_id"),
            "digest": field(page, "digest"),
        },
        follow_redirects=False,
    )
    assert confirmed.status_code == 303, confirmed.text
    notice = client.get(confirmed.headers["location"]).text
    assert "hr.csv: 2 changes imported" in notice
    with session_scope(world.engine) as session:
        directory = load_directory(session)
        assert directory.people["zhang"].manager == "chen" and "ines" in directory.people
        assert session.execute(select(func.count()).select_from(PENDING_IMPORT)).scalar() == 0
        actors = session.execute(select(ORG_AUDIT.c.actor, ORG_AUDIT.c.channel)).all()[before:]
    assert set(actors) == {("adam", "web")} and len(actors) == 2  # Inês created, Zhang changed
    again = upload(client, csrf, MOVED)
    assert "nothing to change" in again.text  # type: ignore[attr-defined]
    assert 'id="confirm-import"' not in again.text  # type: ignore[attr-defined]


def test_the_preview_in_chinese(client: TestClient, world: World) -> None:
    csrf = sign_in(client, world, "adam")
    client.cookies.set("perfplan_lang", "zh-CN")
    page = upload(client, csrf, MOVED).text  # type: ignore[attr-defined]
    assert "hr.csv（7 行）：2 项变更" in page and "直属上级变更" in page and "导入 2 项变更" in page


def test_a_bad_file_is_shown_by_row_and_column_and_nothing_is_kept(
    client: TestClient, world: World
) -> None:
    csrf = sign_in(client, world, "adam")
    bad = MOVED.replace(b",chen,", b",nobody,").replace(b",zh-CN,Internal", b",fr,Internal")
    answer = upload(client, csrf, bad)
    assert answer.status_code == 422  # type: ignore[attr-defined]
    page = answer.text  # type: ignore[attr-defined]
    assert "hr.csv: 2 problem(s). Nothing was imported." in page
    assert '<tr data-row="4" data-column="manager">' in page
    assert '<tr data-row="8" data-column="locale">' in page
    gbk = upload(client, csrf, "key,name,email\nzhang,张三,z@example.com\n".encode("gbk"))
    assert gbk.status_code == 422 and "is not UTF-8 text" in gbk.text  # type: ignore[attr-defined]
    empty = client.post("/admin/people/import/preview", data={"csrf_token": csrf})
    assert empty.status_code == 422 and "choose the CSV file" in empty.text
    with world.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(PENDING_IMPORT)).scalar() == 0


def test_a_preview_that_no_longer_holds_is_shown_again_and_nothing_written(
    client: TestClient, world: World
) -> None:
    csrf = sign_in(client, world, "adam")
    page = upload(client, csrf, MOVED).text  # type: ignore[attr-defined]
    with session_scope(world.engine) as session:  # meanwhile, someone moves Zhang to Sun
        moved = EXAMPLE.read_bytes().replace(b",Sales East,li,", b",Sales East,sun,")
        import_people(session, moved, source="other.csv", now=world.clock(), by=TESTER)
    before = org_records(world)
    stale = client.post(
        "/admin/people/import/confirm",
        data={
            "csrf_token": csrf,
            "upload_id": field(page, "upload_id"),
            "digest": field(page, "digest"),
        },
    )
    assert stale.status_code == 409 and 'id="stale"' in stale.text
    assert "<td>sun</td><td>chen</td>" in stale.text  # the change as it stands now
    assert org_records(world) == before


@pytest.mark.parametrize("person", [p for p in PERSONAS if p != "adam"])
def test_only_an_admin_imports(client: TestClient, world: World, person: str) -> None:
    csrf = sign_in(client, world, "adam")
    page = upload(client, csrf, MOVED).text  # type: ignore[attr-defined]
    kept = {"upload_id": field(page, "upload_id"), "digest": field(page, "digest")}
    csrf = sign_in(client, world, person)  # setting their password is a record
    before = org_records(world)
    assert client.get("/admin/people/import").status_code == 403
    assert upload(client, csrf, MOVED).status_code == 403  # type: ignore[attr-defined]
    confirm = client.post("/admin/people/import/confirm", data={"csrf_token": csrf, **kept})
    assert confirm.status_code == 403
    assert org_records(world) == before  # the auditor, HR, anyone: nothing changed
    assert 'href="/admin/people/import"' not in client.get("/plans").text


def test_another_admins_upload_does_not_exist_for_you(client: TestClient, world: World) -> None:
    with session_scope(world.engine) as session:
        access.grant(
            session, person="audrey", role="admin", department=None, now=world.clock(), by=TESTER
        )
    csrf = sign_in(client, world, "adam")
    page = upload(client, csrf, MOVED).text  # type: ignore[attr-defined]
    kept = {"upload_id": field(page, "upload_id"), "digest": field(page, "digest")}
    csrf = sign_in(client, world, "audrey")
    before = org_records(world)
    theirs = client.post("/admin/people/import/confirm", data={"csrf_token": csrf, **kept})
    assert theirs.status_code == 404
    nobody = client.post(
        "/admin/people/import/confirm", data={"csrf_token": csrf, "upload_id": "999", "digest": "x"}
    )
    assert nobody.status_code == 404
    assert org_records(world) == before
    client.cookies.clear()  # signed out: the login page, and nothing changes
    for signed_out in (
        client.get("/admin/people/import", follow_redirects=False),
        client.post("/admin/people/import/confirm", data=kept, follow_redirects=False),
    ):
        assert signed_out.status_code == 303 and "/login" in signed_out.headers["location"]
    assert org_records(world) == before
