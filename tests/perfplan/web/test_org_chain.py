"""The organisation chain through the doors: the auditor's page shows it, verifies it
with every plan's chain and exports it; the API gives it and its verification to
auditors only."""

from __future__ import annotations

import csv
import io
import json
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from models.db import session_scope
from models.tables import ORG_AUDIT
from tests.perfplan.web.conftest import World
from tests.perfplan.web.pages_support import sign_in

pytestmark = pytest.mark.both_databases


def _stored(world: World) -> list[tuple[int, str, str]]:
    with session_scope(world.engine) as session:
        query = select(ORG_AUDIT.c.seq, ORG_AUDIT.c.kind, ORG_AUDIT.c.subject)
        return [tuple(r) for r in session.execute(query.order_by(ORG_AUDIT.c.seq))]


def _alter_the_grant_of_audrey(world: World) -> int:
    with world.engine.begin() as connection:
        if world.engine.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER org_audit_record_no_update"))
        else:
            connection.execute(text("ALTER TABLE org_audit_record DISABLE TRIGGER USER"))
        record_id = connection.execute(
            text(
                "SELECT id FROM org_audit_record WHERE kind = 'role.granted' AND subject = 'audrey'"
            )
        ).scalar_one()
        connection.execute(
            text("UPDATE org_audit_record SET detail = 'admin' WHERE id = :id"), {"id": record_id}
        )
    return int(record_id)


def test_the_auditors_page_shows_verifies_and_exports_the_organisation_chain(
    client: TestClient, world: World
) -> None:
    stored = _stored(world)
    csrf = sign_in(client, world, "audrey")  # a password set: one more record
    page = unescape(client.get("/audit").text)
    organisation = page.split('id="organisation"')[1]
    assert "role granted" in organisation and "password set" in organisation
    assert organisation.count("<tr data-org-seq=") == min(len(stored) + 1, 50)
    exported = client.get("/audit/export?chain=organisation&format=csv")
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert [(int(r["seq"]), r["kind"], r["subject"]) for r in rows[:-1]] == stored
    assert rows[-1]["kind"] == "password.set" and rows[-1]["subject"] == "audrey"
    as_json = json.loads(client.get("/audit/export?chain=organisation&format=json").text)
    assert as_json[0]["prev_hash"] == "0" * 64 and len(as_json) == len(rows)
    assert client.get("/audit/export?chain=people").status_code == 422
    verified = client.post("/audit/verify", data={"csrf_token": csrf})
    assert f'id="org-verify-status">organisation chain verified ({len(rows)} records)' in (
        verified.text
    )
    record_id = _alter_the_grant_of_audrey(world)
    broken = unescape(client.post("/audit/verify", data={"csrf_token": csrf}).text)
    assert 'id="org-verify-status">organisation chain broken' in broken
    assert f"(#{record_id}): content does not match its hash" in broken


def test_the_api_gives_the_organisation_chain_to_auditors_only(
    client: TestClient, world: World
) -> None:
    audrey, li = world.headers("audrey"), world.headers("li")
    chain = client.get("/api/audit/organisation", headers=audrey)
    assert chain.status_code == 200
    assert [(r["seq"], r["kind"], r["subject"]) for r in chain.json()] == [
        tuple(r) for r in _stored(world)
    ]
    granted = client.get("/api/audit/organisation?kind=role.granted", headers=audrey).json()
    assert {r["subject"] for r in granted} == {"wang", "qian", "audrey", "adam"}
    assert client.get("/api/audit/organisation", headers=li).status_code == 403
    bogus = client.get("/api/audit/organisation?kind=bogus", headers=audrey)
    assert bogus.status_code == 422 and "role.granted" in bogus.json()["detail"]
    csv_text = client.get("/api/audit/organisation?format=csv", headers=audrey).text
    assert csv_text.splitlines()[0] == "seq,kind,subject,detail,actor,channel,at,prev_hash,hash"
    verified = client.get("/api/audit/verify", headers=audrey).json()
    assert verified["ok"] is True and verified["organisation"]["ok"] is True
    record_id = _alter_the_grant_of_audrey(world)
    verified = client.get("/api/audit/verify", headers=audrey).json()
    assert verified["ok"] is False
    (broken,) = verified["organisation"]["breaks"]
    assert broken["record_id"] == record_id and "altered" in broken["problem"]
