"""`perfplan audit ...`: the auditors' view of every plan's history and of the
organisation chain (who may do what: roles, people, passwords, tokens, definitions,
lockouts)."""

from __future__ import annotations

import csv
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from models.limits import MAX_ID
from perfplan.cli.common import JsonOption, NowOption, console, instant, print_json, session

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


CheckpointOption = Annotated[
    Path | None,
    typer.Option(
        "--checkpoint",
        help="Also check the chains against a signed checkpoint (`audit checkpoint`).",
        dir_okay=False,
    ),
]
PublicKeyOption = Annotated[
    Path | None,
    typer.Option(
        "--public-key",
        help="The checkpoint key's public half, kept apart (KEYFILE.pub); without it the "
        "key the checkpoint names is used, and its id printed for you to compare.",
        dir_okay=False,
    ),
]


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
    checkpoint: CheckpointOption = None,
    public_key: PublicKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute every hash chain (the plans' and the organisation's); name the first
    broken record of each. Exit 8 if any is broken.

    With --checkpoint, a chain must also still hold the head the checkpoint saw: records
    deleted from the end, the tip rewritten to match, are found too."""
    from people.orgaudit import OrgVerifyReport
    from people.orgaudit import verify as verify_org
    from perfplan.errors import AuditBroken
    from states.audit import verify as verify_chains
    from states.engine.firing import load_plan

    seen = _checkpoint(checkpoint, public_key) if checkpoint else None
    with session() as active:
        if plan_id is not None:
            load_plan(active, plan_id)
        report = verify_chains(active, plan_id)
        org: OrgVerifyReport | None = verify_org(active) if plan_id is None else None
        if seen is not None:
            from states.evidence.checkpoints import verify_against

            report.breaks.extend(verify_against(active, seen, plan_id))
    if as_json:
        print_json(_verified_json(report, org, seen))
    else:
        _print_verified(report, org, seen)
    if not report.ok or (org is not None and not org.ok):
        raise AuditBroken()


def _checkpoint(path: Path, public_key: Path | None) -> Any:
    from states.evidence.checkpoints import load_public_key, read_checkpoint

    trusted = load_public_key(public_key) if public_key else None
    return read_checkpoint(path, trusted)


def _verified_json(report: Any, org: Any, seen: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "ok": report.ok and (org is None or org.ok),
        "plans": report.plans,
        "records": report.records,
        "checkpoint": {"key_id": seen.key_id, "made_at": seen.made_at} if seen else None,
        "breaks": [b.__dict__ for b in report.breaks],
    }
    if org is not None:
        answer["organisation"] = {
            "ok": org.ok,
            "records": org.records,
            "breaks": [b.__dict__ for b in org.breaks],
        }
    return answer


def _print_verified(report: Any, org: Any, seen: Any) -> None:
    if seen is not None:
        console.print(
            f"Checkpoint of {seen.made_at}, signed by key {seen.key_id}: "
            f"{len(seen.heads)} chain head(s) to find."
        )
    _print_plans(report)
    if org is None:
        return
    if org.ok:
        verified = f": {org.records} records in the organisation chain verify."
        console.print(Text.assemble(("OK", "green"), verified))
    else:
        console.print(Text.assemble(("BROKEN", "red"), ": the organisation chain:"))
        for broken in org.breaks:
            console.print(f"  - {broken}")


def _print_plans(report: Any) -> None:
    if report.ok:
        verified = f": {report.records} records in {report.plans} plan(s) verify."
        console.print(Text.assemble(("OK", "green"), verified))
        return
    broken_plans = f": {len(report.breaks)} break(s) in {report.plans} plan(s):"
    console.print(Text.assemble(("BROKEN", "red"), broken_plans))
    for broken in report.breaks:
        console.print(f"  - {broken}")


@app.command("keygen")
def keygen(
    out: Annotated[
        Path,
        typer.Option("--out", help="Where to write the private key.", dir_okay=False),
    ],
) -> None:
    """Make an Ed25519 key pair for checkpoints: KEYFILE (private, mode 600) and KEYFILE.pub."""
    from states.evidence.checkpoints import key_id, load_public_key, make_key_pair

    public = make_key_pair(out)
    console.print(
        f"Private key: {out} (keep it away from the database). Public key: {public} "
        f"(key id {key_id(load_public_key(public))})."
    )


@app.command("checkpoint")
def checkpoint(
    key: Annotated[
        Path, typer.Option("--key", help="The private key (`audit keygen`).", dir_okay=False)
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Where to write the checkpoint.", dir_okay=False)
    ],
    now: NowOption = None,
) -> None:
    """Sign the head (last position and hash) of every chain into a small file to keep
    elsewhere; `audit verify --checkpoint FILE` then finds records cut from the end."""
    import json

    from states.evidence.checkpoints import load_private_key, make_checkpoint

    private = load_private_key(key)
    with session() as active:
        document = make_checkpoint(active, private, instant(now))
    out.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    console.print(
        f"Checkpoint of {len(document['chains'])} chain(s), signed by key "
        f"{document['key_id']}, written to {out}: keep a copy where the database's "
        "administrators cannot change it."
    )


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


@app.command("export-case")
def export_case(
    plan_id: Annotated[int, typer.Argument(help="The plan's id.")],
    out: Annotated[Path, typer.Option("--out", help="A new folder, or a file ending in .zip.")],
    checkpoint: CheckpointOption = None,
    now: NowOption = None,
) -> None:
    """Write a plan's case file: its record, audit records, signed copies, evaluation
    report, the checkpoint given, and verify_case.py, which re-checks them with Python alone."""
    from states.engine.firing import load_plan
    from states.errors import InvalidInput
    from workflows.case import build_case, write_case

    if out.exists() and (out.is_file() or any(out.iterdir())):
        raise InvalidInput(f"{out} exists already: a case file is written new", field="out")
    if checkpoint is not None:
        _checkpoint(checkpoint, None)  # refused unless it is a signed checkpoint
    with session() as active:
        load_plan(active, plan_id)
        case = build_case(
            active,
            plan_id=plan_id,
            now=instant(now),
            checkpoint=checkpoint.read_bytes() if checkpoint else None,
        )
    written = write_case(case, out)
    console.print(
        f"Case file of plan {plan_id}: {len(case.files)} files in {written}. "
        f"Check it anywhere with: python3 verify_case.py"
    )


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
