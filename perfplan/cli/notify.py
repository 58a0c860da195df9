"""`perfplan notify ...`: the channels configured, what a message says, the
dead letters and their retry, and sending what is due."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from models.limits import MAX_ID
from perfplan.cli.common import (
    JsonOption,
    NowOption,
    console,
    errors,
    instant,
    print_answer,
    print_json,
    print_rows,
    session,
)

if TYPE_CHECKING:
    from sqlmodel import Session

    from notifications.config import NotificationConfig

app = typer.Typer(
    help="Notifications: channels, template previews, dead letters and retries.",
    no_args_is_help=True,
)


def _config() -> NotificationConfig:
    from notifications.config import NotificationConfig

    return NotificationConfig.load()


@app.command("channels")
def channels(as_json: JsonOption = False) -> None:
    """The channels and routes configured (PERFPLAN_NOTIFY_CONFIG), secrets masked."""
    config = _config()
    ready, not_ready = config.available_channels()
    described = [
        {**ready[name].describe(), "ready": True}
        if name in ready
        else {"name": name, "kind": spec.kind, "ready": False, "problem": not_ready[name]}
        for name, spec in config.routing.channels.items()
    ]
    routes = [
        {
            "kinds": sorted(r.kinds),
            "roles": sorted(r.roles),
            "channels": list(r.channels),
            "also": list(r.also),
        }
        for r in config.routing.routes
    ]
    data = {
        "source": config.routing.source,
        "channels": described,
        "default": list(config.routing.default),
        "routes": routes,
        "people_with_preferences": len(config.routing.people),
        "templates_override": str(config.settings.templates_dir or ""),
        "base_url": config.settings.base_url,
    }
    if as_json:
        print_json(data)
        return
    _print_channels(data)


def _print_channels(data: dict[str, Any]) -> None:
    console.print(f"Routing: {data['source']}; links to {data['base_url']}/plans/<id>")
    table = Table("channel", "kind", "target", "details", "ready")
    for channel in data["channels"]:
        extra = {k: v for k, v in channel.items() if k not in ("name", "kind", "target", "ready")}
        details = ", ".join(f"{k}: {v}" for k, v in extra.items())
        ready = Text("yes", "green") if channel["ready"] else Text("no", "red")
        table.add_row(channel["name"], channel["kind"], channel.get("target", ""), details, ready)
    console.print(table)
    routes = Table("kinds", "roles", "channels", "also", title="Routes (first match wins)")
    for route in data["routes"]:
        routes.add_row(
            *(", ".join(route[k]) or "-" for k in ("kinds", "roles", "channels", "also"))
        )
    routes.add_row("(anything else)", "*", ", ".join(data["default"]) or "-", "")
    console.print(routes)


Kind = Annotated[str, typer.Argument(help="A message kind, e.g. milestone_overdue.")]


@app.command("preview")
def preview(
    kind: Kind,
    locale: Annotated[
        str | None, typer.Option("--locale", help="en or zh-CN; default: the reader's own.")
    ] = None,
    plan_id: Annotated[
        int | None, typer.Option("--plan", help="Render with this plan; else Zhang's sample plan.")
    ] = None,
    role: Annotated[str, typer.Option("--role", help="Whom it addresses.")] = "employee",
    level: Annotated[int, typer.Option("--level", min=1, max=100, help="Escalation level.")] = 1,
    html: Annotated[bool, typer.Option("--html", help="Print the HTML body too.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Render a message kind as its reader would receive it (subject, text, HTML)."""
    from notifications.kinds import check_kind
    from notifications.samples import sample_context

    check_kind(kind)
    detail = _plan_detail(plan_id) if plan_id is not None else None
    context = sample_context(kind, role=role, level=level, detail=detail)
    reader = locale or _reader_locale(detail, role)
    rendered = _config().renderer.render(kind, reader, context)
    if as_json:
        print_json(rendered.__dict__)
        return
    typer.echo(f"Subject: {rendered.subject}\nLocale:  {rendered.locale}\n\n{rendered.text}")
    if html:
        typer.echo(rendered.html)


def _reader_locale(detail: dict[str, Any] | None, role: str) -> str:
    from notifications.samples import ZHANG

    people = (detail or ZHANG)["people"]
    return next((str(p["locale"]) for p in people if p["role"] == role), "en")


def _plan_detail(plan_id: int) -> dict[str, Any]:
    """A plan's details as plain data, in the shape previews take (`notifications.samples`):
    its people with the department head, each adjustment with its proposer's key."""
    from models.clock import now
    from views.detail import plan_detail

    with session() as active:
        detail = plan_detail(active, plan_id, today=now().date())
    shown = detail.as_json()
    fields = ("role", "key", "name", "email", "locale")
    shown["people"] = [{f: getattr(h, f) for f in fields} for h in detail.record.people.everyone()]
    for row, adjustment in zip(detail.record.adjustments, shown["adjustments"], strict=True):
        adjustment["proposed_by"] = row.proposed_by
    return shown


@app.command("failed")
def failed(
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=10_000, help="At most this many.")
    ] = 200,
    as_json: JsonOption = False,
) -> None:
    """Dead letters: messages that will not be sent without help, newest first."""
    from notifications.ledger.history import dead_letters

    with session() as active:
        rows = dead_letters(active, scope=None, limit=limit)  # the operator's: every plan
    if not rows and not as_json:
        console.print("No dead letters.")
        return
    columns = ("id", "kind", "plan", "to (person, role)", "channel", "attempts", "dead at")
    print_rows(rows, as_json, (*columns, "last error"), _dead_letter_cells)
    if not as_json:
        console.print("Re-queue with `perfplan notify retry ID` or `perfplan notify retry --all`.")


def _dead_letter_cells(row: dict[str, Any]) -> list[str]:
    return [
        str(row["id"]),
        row["kind"],
        f"PIP-{row['plan_id']}",
        f"{row['person_id']} ({row['role']})",
        row["channel"],
        str(row["attempts"]),
        row["dead_at"].strftime("%Y-%m-%d %H:%M"),
        row["last_error"][:120],
    ]


@app.command("retry")
def retry(
    notification_id: Annotated[
        int | None,
        typer.Argument(
            min=1, max=MAX_ID, help="A dead letter's id (see `perfplan notify failed`)."
        ),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every dead letter.")] = False,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Queue dead letters again, with a fresh set of attempts; they go out with the next send."""
    from notifications.ledger.history import retry as requeue

    if (notification_id is None) == (not all_):
        raise typer.BadParameter("give one notification id, or --all")
    with session() as active:
        count = requeue(active, scope=None, notification_id=notification_id, now=instant(now))
    print_answer({"requeued": count}, as_json, f"{count} message(s) queued again.")


@app.command("send")
def send(now: NowOption = None, as_json: JsonOption = False) -> None:
    """Send every message that is due now (retries included) through the configured channels."""
    from sqlalchemy import Engine

    from notifications.ledger.delivery import DeliveryPolicy, deliver_due

    config = _config()
    channels, not_ready = config.available_channels()
    for name, why in not_ready.items():
        waits = f" channel {name} is not ready, its messages wait: {why}"
        errors.print(Text.assemble(("warning:", "yellow"), waits))
    with session() as active:
        engine = active.get_bind()
        assert isinstance(engine, Engine)
        report = deliver_due(
            engine,
            channels=channels,
            renderer=config.renderer,
            unavailable=not_ready,
            now=instant(now),
            policy=DeliveryPolicy.from_settings(config.settings),
        )
    more = " (more are due: run it again)" if report.more else ""
    line = (
        f"sent {report.sent}, to retry {report.retried}, dead letters {report.dead}, "
        f"not tried (their channel was down) {report.deferred}{more}"
    )
    print_answer(report.__dict__, as_json, line)


NotificationId = Annotated[int, typer.Argument(min=1, max=MAX_ID, help="A notification's id.")]


@app.command("show")
def show(notification_id: NotificationId, as_json: JsonOption = False) -> None:
    """One message as recorded, and every attempt to send it."""
    with session() as active:
        data = _message(active, notification_id)
    if as_json:
        print_json(data)
        return
    console.print(
        Text.assemble(
            (str(data["id"]), "bold"),
            f" {data['kind']} · PIP-{data['plan_id']} · {data['status']} · via {data['channel']}"
            f" to person {data['person_id']} ({data['role']}, {data['locale']})",
        )
    )
    if data["rendered_at"] is None:
        console.print("Subject: (not rendered yet: a message is rendered when it is first sent)")
    else:
        console.print(f"Subject: {data['subject']}")
    table = Table("#", "status", "started", "finished", "error", title="Attempts")
    for attempt in data["attempts"]:
        finished = attempt["finished_at"]
        table.add_row(
            str(attempt["number"]),
            attempt["status"],
            attempt["started_at"].isoformat(),
            finished.isoformat() if finished else "",
            attempt["error"][:120],
        )
    console.print(table)


def _message(active: Session, notification_id: int) -> dict[str, Any]:
    from sqlalchemy import select

    from models.tables import NOTIFICATION
    from notifications.context import load_context
    from notifications.errors import NotificationNotFound
    from notifications.ledger.history import attempts_of

    row = active.execute(select(NOTIFICATION).where(NOTIFICATION.c.id == notification_id)).first()
    if row is None:
        raise NotificationNotFound(notification_id)
    data = {k: v for k, v in row._mapping.items() if k not in ("body_html", "claimed_by")}
    # What the templates were given (and, once rendered, what they made of it).
    data["context"] = load_context(row.context) if row.context else None
    data["attempts"] = attempts_of(active, notification_id)
    return data
