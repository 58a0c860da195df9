"""A case file for a dispute: one plan's record, its audit records, its signed copies, its
evaluation report, the latest checkpoint and a standalone script that re-verifies them,
written as one folder or one zip archive, with a manifest of every file's SHA-256."""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from models.clock import utc
from models.plans import GENESIS_HASH
from models.tables import SIGNED_COPY
from states import audit
from views.detail import plan_detail
from views.report import evaluation_report
from workflows.report import FORMATS, LOCALES, render_report
from workflows.settings import WorkflowSettings

CASE_FORMAT = "perfplan-case/1"
SCRIPT = "verify_case.py"


@dataclass
class CaseFile:
    """The files of a case, by their path inside it, before they are written."""

    plan_id: int
    files: dict[str, bytes] = field(default_factory=dict)

    def add_json(self, name: str, data: Any) -> None:
        text = json.dumps(data, indent=1, ensure_ascii=False, default=str) + "\n"
        self.files[name] = text.encode()

    def manifest(self, made_at: datetime) -> bytes:
        listed = {
            name: hashlib.sha256(data).hexdigest() for name, data in sorted(self.files.items())
        }
        document = {
            "format": CASE_FORMAT,
            "plan_id": self.plan_id,
            "made_at": utc(made_at).isoformat(),
            "files": dict(sorted(listed.items())),
        }
        return (json.dumps(document, indent=1) + "\n").encode()


def _records(session: Session, plan_id: int) -> dict[str, Any]:
    records = []
    for row in audit.history(session, plan_id):
        fields = row.model_dump()
        hashed = dict(zip(audit.CHAIN_FIELDS, audit.chained_values(fields), strict=True))
        records.append({**hashed, "hash": row.hash, "id": row.id})
    return {"genesis": GENESIS_HASH, "chain_fields": list(audit.CHAIN_FIELDS), "records": records}


def _copies(session: Session, case: CaseFile) -> None:
    rows = session.execute(
        select(SIGNED_COPY)
        .where(SIGNED_COPY.c.plan_id == case.plan_id)
        .order_by(SIGNED_COPY.c.number)
    )
    listed = []
    for row in rows:
        stem = f"copies/copy-{row.number}"
        case.files[f"{stem}.content.json"] = row.content.encode()
        entry = {
            "number": row.number,
            "event": row.event,
            "seq": row.seq,
            "sealed_at": utc(row.sealed_at).isoformat(),
            "content_digest": row.content_digest,
            "content": f"{stem}.content.json",
            "signatures": row.signatures,
        }
        for fmt in ("html", "pdf"):
            data = getattr(row, fmt)
            if data is None:  # not rendered yet: the clockwork has not run since
                continue
            case.files[f"{stem}.{fmt}"] = bytes(data)
            entry |= {fmt: f"{stem}.{fmt}", f"{fmt}_sha256": getattr(row, f"{fmt}_sha256")}
        listed.append(entry)
    case.add_json("copies.json", listed)


def _report(session: Session, case: CaseFile, now: datetime) -> None:
    report = evaluation_report(session, plan_id=case.plan_id, now=now)
    zone = WorkflowSettings().report_timezone
    case.add_json("report/evaluation.json", report.as_dict())
    for locale in LOCALES:
        for fmt in FORMATS:
            text = render_report(report, locale=locale, fmt=fmt, timezone=zone)
            case.files[f"report/evaluation.{locale}.{fmt}"] = text.encode()


def build_case(
    session: Session, *, plan_id: int, now: datetime, checkpoint: bytes | None = None
) -> CaseFile:
    """Everything a third party needs to check plan `plan_id`'s record by themselves."""
    case = CaseFile(plan_id)
    case.add_json("plan.json", plan_detail(session, plan_id, today=now.date()).as_json())
    case.add_json("audit.json", _records(session, plan_id))
    _copies(session, case)
    _report(session, case, now)
    if checkpoint is not None:
        case.files["checkpoint.json"] = checkpoint
    script = resources.files("states.evidence").joinpath(SCRIPT).read_bytes()
    case.files[SCRIPT] = script
    case.files["manifest.json"] = case.manifest(now)
    return case


def write_case(case: CaseFile, out: Path) -> Path:
    """Write the case as a zip archive (`out` ends in .zip) or into a new, empty folder."""
    if out.suffix.lower() == ".zip":
        with zipfile.ZipFile(out, "x", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in sorted(case.files.items()):
                archive.writestr(name, data)
        return out
    out.mkdir(parents=True, exist_ok=True)
    for name, data in sorted(case.files.items()):
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return out
