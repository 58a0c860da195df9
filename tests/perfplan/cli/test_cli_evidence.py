"""`perfplan audit receipt | checkpoint | export-case`: evidence a third party can check —
a signer's receipt, a signed copy, a signed checkpoint of the chains' heads, a case file."""

from __future__ import annotations

import hashlib
import json
import subprocess
import zipfile
from collections.abc import Callable
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


def cut_back(db_url: str, plan: str, keep: int) -> None:
    """What someone with the database's owner rights could do: delete a plan's last
    records and rewrite its tip to the last one left, so that the chain still verifies."""
    engine = make_engine(db_url)
    unprotect_audit(engine)
    with engine.begin() as connection:
        values = {"p": int(plan), "keep": keep}
        connection.execute(
            text("DELETE FROM audit_record WHERE plan_id = :p AND seq > :keep"), values
        )
        connection.execute(
            text(
                "UPDATE plan SET audit_seq = :keep, audit_head = (SELECT hash FROM audit_record"
                " WHERE plan_id = :p AND seq = :keep) WHERE id = :p"
            ),
            values,
        )
    engine.dispose()


def test_a_checkpoint_finds_records_deleted_from_the_end_with_the_tip_rewritten(
    initialised: Cli, db_url: str, tmp_path: Path
) -> None:
    plan, _receipts = agreed(initialised, tmp_path)
    other = str(zhangs_plan(initialised))
    key, kept = tmp_path / "audit.key", tmp_path / "checkpoint.json"
    assert initialised("audit", "keygen", "--out", str(key)).code == 0
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    made = initialised("audit", "checkpoint", "--key", str(key), "--out", str(kept))
    assert made.code == 0, made.out + made.err
    assert json.loads(kept.read_text())["chains"][f"plan:{plan}"]["seq"] == 5
    with_key = ("--checkpoint", str(kept), "--public-key", f"{key}.pub")
    assert initialised("audit", "verify", *with_key).code == 0

    cut_back(db_url, plan, keep=3)  # the last signature and the agreement are gone

    alone = initialised("audit", "verify")
    checked = initialised("audit", "verify", *with_key)
    assert alone.code == 0, alone.out  # a shorter chain is still a valid chain
    assert checked.code == 8
    said = checked.out.replace("\n", " ")
    assert f"plan {plan}, seq 5: the checkpoint of" in said
    assert "records were deleted from the end" in said
    assert f"plan {other}," not in said
    assert initialised("audit", "verify", other, *with_key).code == 0


def test_a_checkpoint_that_was_edited_or_signed_by_another_key_is_refused(
    initialised: Cli, tmp_path: Path
) -> None:
    agreed(initialised, tmp_path)
    key, other_key, kept = tmp_path / "a.key", tmp_path / "b.key", tmp_path / "cp.json"
    for k in (key, other_key):
        assert initialised("audit", "keygen", "--out", str(k)).code == 0
    assert initialised("audit", "keygen", "--out", str(key)).code == 2  # never overwritten
    assert initialised("audit", "checkpoint", "--key", str(key), "--out", str(kept)).code == 0
    wrong_key = initialised(
        "audit", "verify", "--checkpoint", str(kept), "--public-key", f"{other_key}.pub"
    )
    document = json.loads(kept.read_text())
    document["chains"]["plan:1"]["seq"] = 3  # to hide a cut, the checkpoint is edited too
    kept.write_text(json.dumps(document))
    edited = initialised("audit", "verify", "--checkpoint", str(kept))

    assert wrong_key.code == 2 and "not a checkpoint this can trust" in wrong_key.err
    assert "signed by key" in wrong_key.err
    assert edited.code == 2
    assert "its signature does not match its content" in edited.err.replace("\n", " ")
    assert "Traceback" not in edited.err


def run_script(case: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """The case's own script, run by the system's Python in isolated mode, away from
    perfplan; with -S not even site-packages: the standard library alone."""
    return subprocess.run(
        ["/usr/bin/python3", "-I", *flags, "verify_case.py"],
        cwd=case,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def exported(cli: Cli, tmp_path: Path) -> tuple[str, Path]:
    """Zhang's plan agreed, checkpointed, and exported as a zip archive, then unpacked."""
    plan, _receipts = agreed(cli, tmp_path)
    key, kept = tmp_path / "audit.key", tmp_path / "checkpoint.json"
    assert cli("audit", "keygen", "--out", str(key)).code == 0
    assert cli("audit", "checkpoint", "--key", str(key), "--out", str(kept)).code == 0
    archive = tmp_path / "case.zip"
    made = cli("audit", "export-case", plan, "--out", str(archive), "--checkpoint", str(kept))
    assert made.code == 0, made.out + made.err
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(unpacked)
    return plan, unpacked


def test_a_case_file_verifies_itself_with_a_plain_python(initialised: Cli, tmp_path: Path) -> None:
    plan, case = exported(initialised, tmp_path)
    names = {str(p.relative_to(case)) for p in case.rglob("*") if p.is_file()}
    assert {
        "plan.json",
        "audit.json",
        "copies.json",
        "copies/copy-1.pdf",
        "copies/copy-1.html",
        "copies/copy-1.content.json",
        "report/evaluation.en.html",
        "report/evaluation.zh-CN.md",
        "checkpoint.json",
        "verify_case.py",
        "manifest.json",
    } <= names
    assert json.loads((case / "plan.json").read_text())["plan"]["id"] == int(plan)

    stdlib_only = run_script(case, "-S")
    with_crypto = run_script(case)

    assert stdlib_only.returncode == 0, stdlib_only.stdout + stdlib_only.stderr
    assert f"OK: plan {plan}: 5 records chain, 1 signed copies" in stdlib_only.stdout
    assert "signature unchecked (install the cryptography package" in stdlib_only.stdout
    assert with_crypto.returncode == 0, with_crypto.stdout + with_crypto.stderr
    assert "signature valid (key" in with_crypto.stdout


def _resealed(case: Path, name: str) -> None:
    """Update the manifest for an edited file, as a careful forger would."""
    manifest = json.loads((case / "manifest.json").read_text())
    manifest["files"][name] = hashlib.sha256((case / name).read_bytes()).hexdigest()
    (case / "manifest.json").write_text(json.dumps(manifest))


def test_a_tampered_case_file_fails_its_own_script(initialised: Cli, tmp_path: Path) -> None:
    _plan, case = exported(initialised, tmp_path)
    pristine = {p: p.read_bytes() for p in case.rglob("*") if p.is_file()}

    def tampered(name: str, edit: Callable[[bytes], bytes], reseal: bool, *flags: str) -> str:
        for path, data in pristine.items():
            path.write_bytes(data)
        (case / name).write_bytes(edit((case / name).read_bytes()))
        if reseal:
            _resealed(case, name)
        result = run_script(case, *flags)
        assert result.returncode == 1, (name, result.stdout)
        assert "Traceback" not in result.stderr
        return result.stdout

    def forged_comment(data: bytes) -> bytes:
        audit = json.loads(data)
        audit["records"][1]["comment"] = "I never agreed"
        return json.dumps(audit).encode()

    def dropped_last(data: bytes) -> bytes:
        audit = json.loads(data)
        del audit["records"][-1]
        return json.dumps(audit).encode()

    assert "audit.json is not the file exported" in tampered("audit.json", forged_comment, False)
    assert "do not match its hash" in tampered("audit.json", forged_comment, True)
    assert "the chain no longer holds" in tampered("audit.json", dropped_last, True)
    edited_pdf = tampered("copies/copy-1.pdf", lambda d: d.replace(b"%%EOF", b"%%EOF\n%x"), True)
    assert "copy 1: copies/copy-1.pdf is not the document archived" in edited_pdf
    content = "copies/copy-1.content.json"
    edited = tampered(content, lambda d: d.replace(b'"target": 100', b'"target": 80'), True)
    assert "copy 1: its content does not hash to" in edited
    later = tampered(
        "checkpoint.json", lambda d: d.replace(b'"made_at": "', b'"made_at": "1'), True
    )
    assert "checkpoint.json: its signature does not match its content" in later
