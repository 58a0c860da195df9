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
