"""`perfplan audit ...`: the auditors' view of every plan's history."""

from __future__ import annotations

import csv
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from perfplan.cli.common import JsonOption, console, print_json, session

app = typer.Typer(help="Read and verify the tamper-evident audit trail.", no_args_is_help=True)


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


@app.command("log")
def log(
    plan_id: Annotated[
        int | None, typer.Argument(help="One plan's id; all plans if omitted.")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="table, json or csv.")] = Format.table,
) -> None:
    """Every record of a plan's history (or all plans'), oldest first."""
    from models.tables import AUDIT
    from states.audit import history
    from states.engine.firing import load_plan

    fields = [column.name for column in AUDIT.columns if column.name != "id"]  # as stored
    with session() as active:
        if plan_id is not None:
            load_plan(active, plan_id)  # an unknown plan is an error, not an empty log
        records = [{f: getattr(r, f) for f in fields} for r in history(active, plan_id)]
    if fmt is Format.json:
        print_json(records)
    elif fmt is Format.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=fields)
        writer.writeheader()
        for record in records:
            writer.writerow({**record, "at": record["at"].isoformat()})
    else:
        console.print(audit_table(records))


@app.command("verify")
def verify(
    plan_id: Annotated[
        int | None, typer.Argument(help="One plan's id; all plans if omitted.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute every hash chain; name the first broken record of each plan. Exit 8 if any."""
    from perfplan.errors import AuditBroken
    from states.audit import verify as verify_chains
    from states.engine.firing import load_plan

    with session() as active:
        if plan_id is not None:
            load_plan(active, plan_id)
        report = verify_chains(active, plan_id)
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "plans": report.plans,
                "records": report.records,
                "breaks": [b.__dict__ for b in report.breaks],
            }
        )
    elif report.ok:
        verified = f": {report.records} records in {report.plans} plan(s) verify."
        console.print(Text.assemble(("OK", "green"), verified))
    else:
        broken_plans = f": {len(report.breaks)} of {report.plans} plan(s):"
        console.print(Text.assemble(("BROKEN", "red"), broken_plans))
        for broken in report.breaks:
            console.print(f"  - {broken}")
    if not report.ok:
        raise AuditBroken()


MAX_EVIDENCE = 64 * 1024 * 1024  # a copy is some 100 KB; a receipt under 1 KB


def _read_evidence(path: Path) -> bytes:
    from states.errors import InvalidInput

    if not path.is_file():
        raise InvalidInput(f"{path}: no such file", field="FILE")
    if path.stat().st_size > MAX_EVIDENCE:
        raise InvalidInput(f"{path} is larger than any receipt or copy (64 MB)", field="FILE")
    return path.read_bytes()


@app.command("receipt")
def receipt(
    file: Annotated[Path, typer.Argument(help="A receipt (JSON), or a signed copy (PDF/HTML).")],
    as_json: JsonOption = False,
) -> None:
    """Check a signer's receipt, or a signed copy, against the chain. Exit 8 if it fails."""
    from perfplan.errors import AuditBroken
    from states.evidence.checks import check_copy, check_receipt
    from states.evidence.receipts import parse_receipt

    data = _read_evidence(file)
    held = parse_receipt(data.decode("utf-8", errors="replace"))
    with session() as active:
        finding = check_receipt(active, held) if held else check_copy(active, data)
    if as_json:
        print_json({"ok": finding.ok, "file": str(file), "finding": finding.sentence})
    else:
        verdict = ("OK", "green") if finding.ok else ("FAILS", "red")
        console.print(Text.assemble(verdict, f": {file}: {finding.sentence}"))
    if not finding.ok:
        raise AuditBroken()


def audit_table(records: list[dict[str, Any]]) -> Table:
    table = Table("plan", "seq", "at", "event", "from → to", "actor", "role", "comment", "hash")
    for r in records:
        move = (
            f"{r['from_state'] or '∅'} → {r['to_state']}"
            if r["kind"] == "transition"
            else r["to_state"]
        )
        table.add_row(
            str(r["plan_id"]),
            str(r["seq"]),
            r["at"].strftime("%Y-%m-%d %H:%M"),
            r["event"],
            move,
            r["actor"],
            r["role"],
            r["comment"],
            r["hash"][:12],
        )
    return table
