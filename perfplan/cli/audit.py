"""`perfplan audit ...`: the auditors' view of every plan's history and of the
organisation chain (who may do what: roles, people, passwords, tokens, definitions,
lockouts)."""

from __future__ import annotations

import csv
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from models.limits import MAX_ID
from perfplan.cli.common import JsonOption, console, print_json, session

app = typer.Typer(help="Read and verify the tamper-evident audit trail.", no_args_is_help=True)


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


OrgOption = Annotated[
    bool,
    typer.Option(
        "--org",
        help="The organisation chain (roles, people, passwords, tokens, definitions, "
        "lockouts) instead of the plans'.",
    ),
]


@app.command("log")
def log(
    plan_id: Annotated[
        int | None,
        typer.Argument(min=1, max=MAX_ID, help="One plan's id; all plans if omitted."),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="table, json or csv.")] = Format.table,
    org: OrgOption = False,
) -> None:
    """Every record of a plan's history (or all plans', or the organisation's), oldest first."""
    if org and plan_id is not None:
        raise typer.BadParameter(
            "--org is the organisation chain: name no plan", param_hint="--org"
        )
    fields, records = _org_records() if org else _plan_records(plan_id)
    if fmt is Format.json:
        print_json(records)
    elif fmt is Format.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=fields)
        writer.writeheader()
        for record in records:
            writer.writerow({**record, "at": record["at"].isoformat()})
    else:
        console.print(org_table(records) if org else audit_table(records))


def _plan_records(plan_id: int | None) -> tuple[list[str], list[dict[str, Any]]]:
    from models.tables import AUDIT
    from states.audit import history
    from states.engine.firing import load_plan

    fields = [column.name for column in AUDIT.columns if column.name != "id"]  # as stored
    with session() as active:
        if plan_id is not None:
            load_plan(active, plan_id)  # an unknown plan is an error, not an empty log
        return fields, [{f: getattr(r, f) for f in fields} for r in history(active, plan_id)]


def _org_records() -> tuple[list[str], list[dict[str, Any]]]:
    from models.tables import ORG_AUDIT
    from people.orgaudit import history

    fields = [column.name for column in ORG_AUDIT.columns if column.name != "id"]
    with session() as active:
        return fields, [{f: getattr(r, f) for f in fields} for r in history(active)]


@app.command("verify")
def verify(
    plan_id: Annotated[
        int | None,
        typer.Argument(
            min=1,
            max=MAX_ID,
            help="One plan's id; every plan and the organisation chain if omitted.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute every hash chain (the plans' and the organisation's); name the first
    broken record of each. Exit 8 if any is broken."""
    from people.orgaudit import OrgVerifyReport
    from people.orgaudit import verify as verify_org
    from perfplan.errors import AuditBroken
    from states.audit import verify as verify_chains
    from states.engine.firing import load_plan

    with session() as active:
        if plan_id is not None:
            load_plan(active, plan_id)
        report = verify_chains(active, plan_id)
        org: OrgVerifyReport | None = verify_org(active) if plan_id is None else None
    if as_json:
        print_json(_verified_json(report, org))
    else:
        _print_verified(report, org)
    if not report.ok or (org is not None and not org.ok):
        raise AuditBroken()


def _verified_json(report: Any, org: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "ok": report.ok and (org is None or org.ok),
        "plans": report.plans,
        "records": report.records,
        "breaks": [b.__dict__ for b in report.breaks],
    }
    if org is not None:
        answer["organisation"] = {
            "ok": org.ok,
            "records": org.records,
            "breaks": [b.__dict__ for b in org.breaks],
        }
    return answer


def _print_verified(report: Any, org: Any) -> None:
    if report.ok:
        verified = f": {report.records} records in {report.plans} plan(s) verify."
        console.print(Text.assemble(("OK", "green"), verified))
    else:
        broken_plans = f": {len(report.breaks)} of {report.plans} plan(s):"
        console.print(Text.assemble(("BROKEN", "red"), broken_plans))
        for broken in report.breaks:
            console.print(f"  - {broken}")
    if org is None:
        return
    if org.ok:
        verified = f": {org.records} records in the organisation chain verify."
        console.print(Text.assemble(("OK", "green"), verified))
    else:
        console.print(Text.assemble(("BROKEN", "red"), ": the organisation chain:"))
        for broken in org.breaks:
            console.print(f"  - {broken}")


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


def org_table(records: list[dict[str, Any]]) -> Table:
    table = Table("seq", "at", "kind", "subject", "detail", "actor", "channel", "hash")
    for r in records:
        table.add_row(
            str(r["seq"]),
            r["at"].strftime("%Y-%m-%d %H:%M"),
            r["kind"],
            r["subject"],
            r["detail"],
            r["actor"],
            r["channel"],
            r["hash"][:12],
        )
    return table
