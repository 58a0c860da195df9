"""`perfplan plan ...`: open plans, fire events, sign, and record what happens."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from models.limits import MAX_ID
from perfplan.cli.common import (
    ActorOption,
    JsonOption,
    NowOption,
    console,
    dispatch_after_commit,
    instant,
    perform,
    print_answer,
    print_json,
    print_rows,
    session,
)

if TYPE_CHECKING:
    from states.evidence.receipts import Receipt

app = typer.Typer(
    help="Open plans, move them through their life, and record progress.", no_args_is_help=True
)

PlanId = Annotated[
    int, typer.Argument(min=1, max=MAX_ID, help="The plan's id (see `perfplan plan list`).")
]
Comment = Annotated[str | None, typer.Option("--comment", help="Why; kept in the audit trail.")]
Expect = Annotated[
    int | None,
    typer.Option(
        "--expect-version",
        help="Fail with a conflict if the plan is no longer at "
        "this version (what you saw in `plan show`).",
    ),
]


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    pairs = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"'{item}' is not KEY=VALUE", param_hint=option)
        pairs[key.strip()] = value.strip()
    return pairs


@app.command("create")
def create(
    file: Annotated[
        Path, typer.Argument(help="A plan document, YAML or JSON (docs/plan-format.md).")
    ],
    actor: ActorOption,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open a plan from a plan document, in its definition's initial state."""
    from perfplan.inputs import without_nul
    from states.plans.opening import create_plan, read_document_file

    document = without_nul(read_document_file(file), str(file))
    moment = instant(now)
    with session() as active:
        plan_id = create_plan(
            session=active, document=document, actor=actor, now=moment, source=str(file)
        )
    dispatch_after_commit(plan_id, moment)
    line = Text.assemble("Created plan ", (str(plan_id), "bold"), f": {document.title}")
    print_answer({"plan_id": plan_id}, as_json, line)


@app.command("list")
def list_(
    state: Annotated[str | None, typer.Option("--state", help="Only plans in this state.")] = None,
    department: Annotated[
        str | None, typer.Option("--department", help="Only the employee's department.")
    ] = None,
    definition: Annotated[
        str | None, typer.Option("--definition", help="Only this workflow definition.")
    ] = None,
    overdue: Annotated[
        bool | None,
        typer.Option(
            "--overdue/--on-time", help="Running plans with a milestone past due (or not)."
        ),
    ] = None,
    viewer: Annotated[
        str | None,
        typer.Option("--as", help="Only the plans this person may see (default: every plan)."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 100,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """List plans, newest first, with how many milestones are late and the next one due."""
    from people import access
    from views.lists import PlanFilter, search_plans

    filters = PlanFilter(state=state, department=department, definition=definition, overdue=overdue)
    with session() as active:
        who = access.load_viewer(active, key=viewer) if viewer else access.operator()
        plans = search_plans(
            active, viewer=who, today=instant(now).date(), filters=filters, limit=limit
        )
    columns = ("id", "employee", "department", "state", "late", "next due", "title")
    print_rows([plan._asdict() for plan in plans], as_json, columns, _plan_cells)


def _plan_cells(plan: dict[str, Any]) -> list[str]:
    return [
        str(plan["id"]),
        plan["employee"] or "",
        plan["department"] or "",
        plan["state"],
        str(plan["overdue_milestones"] or ""),
        str(plan["next_due"] or ""),
        plan["title"],
    ]


@app.command("show")
def show(plan_id: PlanId, now: NowOption = None, as_json: JsonOption = False) -> None:
    """Everything about one plan: people, goals, milestones (late ones marked, judged on
    --now), signatures, what can happen next."""
    from views.detail import plan_detail

    with session() as active:
        detail = plan_detail(active, plan_id, today=instant(now).date()).as_json()
    if as_json:
        print_json(detail)
    else:
        print_plan(detail, instant(now).date())


def _report_fired(fired: Any, as_json: bool) -> None:
    if as_json:
        print_json(fired.__dict__)
    else:
        console.print(
            Text.assemble(
                f"Plan {fired.plan_id}: ",
                (fired.event, "bold"),
                f" {fired.from_state} → ",
                (fired.to_state, "bold green"),
                f" (version {fired.version}, audit #{fired.seq})",
            )
        )


@app.command("fire")
def fire(
    plan_id: PlanId,
    event: Annotated[str, typer.Argument(help="The event, e.g. start, adjust, evaluate.")],
    actor: ActorOption,
    comment: Comment = None,
    inputs: Annotated[
        list[str] | None,
        typer.Option("--input", help="KEY=VALUE the event takes, e.g. outcome=successful."),
    ] = None,
    expect_version: Expect = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fire an event on a plan, as a person; checked, stored and audited in one transaction."""
    fired = perform(
        "fire",
        plan_id,
        actor,
        now,
        event=event,
        expect_version=expect_version,
        comment=comment,
        inputs=_pairs(inputs, "--input"),
    )
    _report_fired(fired, as_json)


ReceiptOption = Annotated[
    Path | None,
    typer.Option("--receipt", help="Also write your receipt (JSON) to this file.", dir_okay=False),
]


@app.command("sign")
def sign(
    plan_id: PlanId,
    actor: ActorOption,
    event: Annotated[
        str | None, typer.Option("--event", help="Which approval to sign, when several wait.")
    ] = None,
    comment: Comment = None,
    receipt: ReceiptOption = None,
    expect_version: Expect = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Sign the current step of the plan's approval chain; the last signature fires it.
    Prints your receipt: the digest you signed and your record's position and hash."""
    signed = perform(
        "sign", plan_id, actor, now, expect_version=expect_version, event=event, comment=comment
    )
    if receipt is not None and signed.receipt is not None:
        receipt.write_text(signed.receipt.text(), encoding="utf-8")
    if as_json:
        fired = signed.fired.__dict__ if signed.fired else None
        kept = signed.receipt.as_json() if signed.receipt else None
        print_json({**signed.__dict__, "fired": fired, "receipt": kept})
        return
    console.print(f"{actor} signed '{signed.event}' as {signed.role} (step {signed.step + 1}).")
    if signed.receipt is not None:
        _print_receipt(signed.receipt, receipt)
    if signed.fired:
        _report_fired(signed.fired, False)
    else:
        console.print(f"Waiting for: {', '.join(signed.waiting_for)}")


def _print_receipt(receipt: Receipt, written: Path | None) -> None:
    where = f" (written to {written})" if written else ""
    console.print(
        f"Receipt: record {receipt.seq} of plan {receipt.plan_id}, hash {receipt.record_hash}, "
        f"for content {receipt.content_digest}{where}"
    )


# A measured value may be negative: `-5` is the value, not an option.
@app.command("measure", context_settings={"ignore_unknown_options": True})
def measure(
    plan_id: PlanId,
    goal: Annotated[str, typer.Argument(help="The goal's key.")],
    value: Annotated[str, typer.Argument(help="The measured value, in the goal's unit.")],
    actor: ActorOption,
    on: Annotated[
        str | None, typer.Option("--on", help="Date measured, YYYY-MM-DD (default: today).")
    ] = None,
    source: Annotated[str, typer.Option("--source", help="Where the figure comes from.")] = "",
    note: Annotated[str, typer.Option("--note")] = "",
    now: NowOption = None,
) -> None:
    """Record a measured value of a goal's metric."""
    # The value and the day are read by the activity's model, as the API and pages read them.
    perform(
        "measure",
        plan_id,
        actor,
        now,
        goal=goal,
        value=value.strip(),
        measured_on=(on or "").strip() or None,
        source=source,
        note=note,
    )
    console.print(f"Plan {plan_id}: {goal} = {float(value):g}")


@app.command("report-progress")
def report_progress(
    plan_id: PlanId,
    actor: ActorOption,
    summary: Annotated[str, typer.Option("--summary", help="What was done since the last report.")],
    blockers: Annotated[str, typer.Option("--blockers", help="What is in the way.")] = "",
    now: NowOption = None,
) -> None:
    """Record the employee's progress report."""
    perform("report_progress", plan_id, actor, now, summary=summary, blockers=blockers)
    console.print(f"Plan {plan_id}: progress report recorded.")


@app.command("coach")
def coach(
    plan_id: PlanId,
    actor: ActorOption,
    notes: Annotated[str, typer.Option("--notes", help="The guidance given.")],
    minutes: Annotated[str, typer.Option("--minutes", help="How long it took.")] = "15",
    now: NowOption = None,
) -> None:
    """Record a coaching session held by the manager or mentor."""
    perform("record_coaching", plan_id, actor, now, notes=notes, minutes=minutes.strip() or "15")
    console.print(f"Plan {plan_id}: coaching session recorded.")


@app.command("complete")
def complete(
    plan_id: PlanId,
    milestone: Annotated[str, typer.Argument(help="The milestone's key.")],
    actor: ActorOption,
    comment: Comment = None,
    now: NowOption = None,
) -> None:
    """Mark a milestone done."""
    perform("complete_milestone", plan_id, actor, now, milestone=milestone, comment=comment or "")
    console.print(f"Plan {plan_id}: milestone {milestone} done.")


@app.command("adjust")
def adjust(
    plan_id: PlanId,
    actor: ActorOption,
    reason: Annotated[str, typer.Option("--reason", help="Why the change is needed.")],
    changes: Annotated[
        list[str],
        typer.Option(
            "--set",
            help="FIELD=VALUE, e.g. due=2026-10-16 (milestone) or ends=2026-09-25 (action).",
        ),
    ],
    milestone: Annotated[str | None, typer.Option("--milestone", help="Milestone key.")] = None,
    action: Annotated[str | None, typer.Option("--action", help="Action key.")] = None,
    now: NowOption = None,
) -> None:
    """Adjust a milestone or an action (goals stay fixed); re-confirmation follows."""
    if (milestone is None) == (action is None):
        raise typer.BadParameter("name exactly one of --milestone or --action")
    kind, key = ("milestone", milestone) if milestone else ("action", action)
    changed = _pairs(changes, "--set")
    perform("adjust", plan_id, actor, now, kind=kind, key=key, changes=changed, reason=reason)
    console.print(f"Plan {plan_id}: {kind} {key} adjusted; waiting for re-confirmation.")


# How `plan show` prints a plan ------------------------------------------------------------


def _goal_row(goal: dict[str, Any]) -> list[str]:
    arrow = "↑" if goal["direction"] == "raise" else "↓"
    baseline = "–" if goal["baseline"] is None else f"{goal['baseline']:g}"
    actual = "–" if goal["actual"] is None else f"{goal['actual']:g}"
    return [
        goal["key"],
        goal["title"],
        f"{baseline} → {goal['target']:g} {goal['unit']} {arrow}",
        actual,
        str(goal["deadline"]),
    ]


def _milestone_status(milestone: dict[str, Any], today: date) -> str | Text:
    from views.record import milestone_status

    status = milestone_status(milestone["due"], milestone["status"] == "done", today)
    if status == "late":
        return Text.assemble(("late", "red"), f" ({(today - milestone['due']).days} d)")
    return status


def print_plan(detail: dict[str, Any], today: date) -> None:
    """The plan for a terminal; a milestone past due and not done on `today` is late."""
    plan = detail["plan"]
    console.print(Text.assemble((f"Plan {plan['id']}", "bold"), f": {plan['title']}"))
    console.print(
        Text.assemble(
            "  state ",
            (plan["state"], "bold green"),
            f" · {plan['definition_name']} v{plan['definition_version']} · "
            f"version {plan['version']} · period {plan['period_start']} → {plan['period_end']}",
        )
    )
    console.print("  people: " + ", ".join(f"{p['role']} {p['key']}" for p in detail["people"]))
    goals = Table("goal", "title", "baseline → target", "actual", "deadline", title="Goals")
    for goal in detail["goals"]:
        goals.add_row(*_goal_row(goal))
    console.print(goals)
    milestones = Table("milestone", "goal", "due", "status", title="Milestones")
    for goal in detail["goals"]:
        for m in goal["milestones"]:
            milestones.add_row(m["key"], goal["key"], str(m["due"]), _milestone_status(m, today))
    console.print(milestones)
    if detail["signatures"]:
        console.print(
            "  signatures: "
            + ", ".join(f"{s['person']} ({s['role']}, {s['event']})" for s in detail["signatures"])
        )
    if detail["evaluation"]:
        console.print(Text.assemble("  evaluation: ", (detail["evaluation"]["outcome"], "bold")))
    for event in detail["next_events"]:
        who = (
            f"signatures: {', '.join(event['waiting_for'])}"
            if event["approval"]
            else " or ".join(event["roles"])
        )
        console.print(
            Text.assemble("  next: ", (event["event"], "bold"), f" → {event['to']} ({who})")
        )
