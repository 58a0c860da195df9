"""`perfplan audit ...`: a tampered record is found, named, and exits 8."""

from __future__ import annotations

from sqlalchemy import text

from models.db import make_engine
from tests.conftest import Cli, unprotect_audit
from tests.perfplan.cli.conftest import zhangs_plan


def test_audit_verify_exits_8_and_names_the_tampered_record(initialised: Cli, db_url: str) -> None:
    plan = str(zhangs_plan(initialised))
    initialised("plan", "sign", plan, "--as", "zhang", "--now", "2026-08-26T10:30")
    engine = make_engine(db_url)
    unprotect_audit(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_record SET comment = 'forged' WHERE seq = 2"))
    engine.dispose()
    result = initialised("audit", "verify")
    assert result.code == 8
    assert f"plan {plan}, record #2 (seq 2)" in result.out
    assert "altered" in result.out


def test_audit_verify_checks_the_organisation_chain_and_names_a_tampered_record(
    initialised: Cli, db_url: str
) -> None:
    zhangs_plan(initialised)
    assert initialised("people", "grant", "wang", "auditor", "--now", "2026-08-25T10:00").code == 0
    result = initialised("audit", "verify", "--json")
    assert result.code == 0
    assert result.json()["organisation"]["ok"] is True
    engine = make_engine(db_url)
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER org_audit_record_no_update"))
        else:
            connection.execute(text("ALTER TABLE org_audit_record DISABLE TRIGGER USER"))
        record_id = connection.execute(
            text("SELECT id FROM org_audit_record WHERE kind = 'role.granted'")
        ).scalar_one()
        connection.execute(
            text("UPDATE org_audit_record SET detail = 'admin' WHERE id = :id"), {"id": record_id}
        )
    engine.dispose()
    result = initialised("audit", "verify")
    assert result.code == 8
    assert "OK" in result.out  # the plans' chains still hold
    assert f"organisation chain, record #{record_id}" in result.out
    assert "altered" in result.out
    assert initialised("audit", "verify", "--json").json()["ok"] is False


def test_audit_log_org_exports_the_organisation_chain(initialised: Cli) -> None:
    added = initialised(
        "people",
        "add",
        "audrey",
        "--name",
        "Audrey Lin",
        "--email",
        "audrey@example.com",
        "--now",
        "2026-08-25T09:00",
    )
    assert added.code == 0
    assert (
        initialised("people", "grant", "audrey", "auditor", "--now", "2026-08-25T09:05").code == 0
    )
    assert (
        initialised("people", "revoke", "audrey", "auditor", "--now", "2026-08-25T09:10").code == 0
    )
    exported = initialised("audit", "log", "--org", "--format", "json").json()
    assert [(r["seq"], r["kind"], r["subject"]) for r in exported] == [
        (1, "person.created", "audrey"),
        (2, "role.granted", "audrey"),
        (3, "role.revoked", "audrey"),
    ]
    assert {r["channel"] for r in exported} == {"cli"}
    assert exported[1]["prev_hash"] == exported[0]["hash"]
    csv_lines = initialised("audit", "log", "--org", "--format", "csv").out.splitlines()
    assert csv_lines[0] == "seq,kind,subject,detail,actor,channel,at,prev_hash,hash"
    assert len(csv_lines) == 4
    assert initialised("audit", "log", "1", "--org").code == 2
