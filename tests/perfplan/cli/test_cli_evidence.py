"""`perfplan audit receipt | checkpoint | export-case`: evidence a third party can check —
a signer's receipt, a signed copy, a signed checkpoint of the chains' heads, a case file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, text

from models.db import make_engine
from models.tables import SIGNED_COPY
from tests.conftest import Cli, unprotect_audit
from tests.perfplan.cli.conftest import zhangs_plan

SIGNERS = (("zhang", "2026-08-26T10:30"), ("li", "2026-08-26T15:00"), ("wang", "2026-08-28T11:30"))


@pytest.fixture(autouse=True)
def output_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERFPLAN_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("PERFPLAN_REPORTS_DIR", str(tmp_path / "reports"))


def agreed(cli: Cli, tmp_path: Path) -> tuple[str, list[Path]]:
    """Zhang's plan signed by all three, each keeping their receipt in a file."""
    plan = str(zhangs_plan(cli))
    receipts: list[Path] = []
    for who, when in SIGNERS:
        receipt = tmp_path / f"receipt-{who}.json"
        signed = cli("plan", "sign", plan, "--as", who, "--now", when, "--receipt", str(receipt))
        assert signed.code == 0, signed.err
        assert f"Receipt: record {2 + len(receipts)} of plan {plan}" in signed.out
        receipts.append(receipt)
    return plan, receipts


def saved_copy(db_url: str, tmp_path: Path, fmt: str) -> Path:
    engine = make_engine(db_url)
    with engine.connect() as connection:
        data = connection.execute(select(SIGNED_COPY.c[fmt])).scalar_one()
    engine.dispose()
    path = tmp_path / f"copy.{fmt}"
    path.write_bytes(data)
    return path


def test_a_receipt_and_a_copy_hold_against_the_chain(
    initialised: Cli, db_url: str, tmp_path: Path
) -> None:
    plan, receipts = agreed(initialised, tmp_path)
    for receipt in receipts:
        checked = initialised("audit", "receipt", str(receipt))
        assert checked.code == 0, checked.out
        assert "The receipt holds" in checked.out
    for fmt in ("pdf", "html"):
        checked = initialised("audit", "receipt", str(saved_copy(db_url, tmp_path, fmt)))
        assert checked.code == 0, checked.out
        assert f"copy 1 of plan {plan} as archived" in checked.out.replace("\n", " ")


def test_a_forged_receipt_an_edited_copy_and_a_stranger_file_fail_with_a_sentence(
    initialised: Cli, db_url: str, tmp_path: Path
) -> None:
    _plan, receipts = agreed(initialised, tmp_path)
    forged = json.loads(receipts[0].read_text())
    forged["content_digest"] = "0" * 64
    receipts[0].write_text(json.dumps(forged))
    html = saved_copy(db_url, tmp_path, "html")
    html.write_bytes(html.read_bytes().replace(b"60 \xe2\x86\x92 100", b"60 \xe2\x86\x92 80"))
    other = tmp_path / "notes.txt"
    other.write_text("hello")

    for path, says in [
        (receipts[0], "its content_digest is"),
        (html, "is not that copy as archived"),
        (other, "is not a signed copy"),
        (tmp_path / "missing.pdf", "no such file"),
    ]:
        checked = initialised("audit", "receipt", str(path))
        assert checked.code in (2, 8), checked.out
        assert says in (checked.out + checked.err).replace("\n", " "), checked.out + checked.err


def test_a_receipt_fails_once_its_record_is_altered(
    initialised: Cli, db_url: str, tmp_path: Path
) -> None:
    plan, receipts = agreed(initialised, tmp_path)
    engine = make_engine(db_url)
    unprotect_audit(engine)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_record SET comment = 'forged' WHERE plan_id = :p AND seq = 3"),
            {"p": int(plan)},
        )
    engine.dispose()

    checked = initialised("audit", "receipt", str(receipts[1]))

    assert checked.code == 8
    assert f"plan {plan}'s chain does not verify" in checked.out.replace("\n", " ")
