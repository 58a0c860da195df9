"""Rich renderings of plans and audit records for the terminal."""

from __future__ import annotations

from datetime import date
from typing import Any

from rich.table import Table

from perfplan.common import console


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


def _milestone_status(milestone: dict[str, Any], today: date) -> str:
    from views.record import milestone_status

    status = milestone_status(milestone["due"], milestone["status"] == "done", today)
    if status == "late":
        return f"[red]late[/] ({(today - milestone['due']).days} d)"
    return status


def print_plan(detail: dict[str, Any], today: date) -> None:
    """The plan for a terminal; a milestone past due and not done on `today` is late."""
    plan = detail["plan"]
    console.print(f"[bold]Plan {plan['id']}[/]: {plan['title']}")
    console.print(
        f"  state [bold green]{plan['state']}[/] · {plan['definition_name']} "
        f"v{plan['definition_version']} · version {plan['version']} · "
        f"period {plan['period_start']} → {plan['period_end']}"
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
        console.print(f"  evaluation: [bold]{detail['evaluation']['outcome']}[/]")
    for event in detail["next_events"]:
        who = (
            f"signatures: {', '.join(event['waiting_for'])}"
            if event["approval"]
            else " or ".join(event["roles"])
        )
        console.print(f"  next: [bold]{event['event']}[/] → {event['to']} ({who})")


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
