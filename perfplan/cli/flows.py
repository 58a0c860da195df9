"""`perfplan sweep`, `perfplan dispatch`, `perfplan serve`: the follow-ups that run themselves."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from perfplan.cli.common import (
    JsonOption,
    NowOption,
    console,
    existing_database_url,
    instant,
    print_answer,
)

AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Sweep as if it were this instant (ISO-8601); default: now.",
        show_default=False,
    ),
]


def _deliver_only(moment: datetime) -> dict[str, int]:
    """Deliver what waits in the ledger (queued messages, retries whose time has come)
    with the plain function: no follow-up is due, so Prefect is not started."""
    from models.db import make_engine
    from workflows import messages

    engine = make_engine()
    try:
        return messages.deliver(engine, now=moment)
    finally:
        engine.dispose()


def _flow_then_deliver(flow: str, moment: datetime) -> tuple[dict[str, Any], dict[str, int]]:
    """Run the flow named `flow` of `workflows.flows` as of `moment`, then deliver the
    messages, in Prefect started in this process (and only then imported)."""
    from workflows.runtime import embedded

    with embedded():
        from workflows import flows

        result = getattr(flows, flow)(as_of=moment.isoformat())
        delivered = flows.deliver_flow(as_of=moment.isoformat())
    return result, delivered


def sweep(as_of: AsOf = None, now: NowOption = None, as_json: JsonOption = False) -> None:
    """Send the reminders and escalations due now (or --as-of), then deliver messages.

    Delivers what is queued (retries included) even when no follow-up is due; starts
    Prefect (in this process) only when something is due.
    """
    from models.db import make_engine
    from workflows import sweep as sweeping

    moment = instant(as_of or now)
    engine = make_engine(existing_database_url())
    try:
        due = sweeping.due_count(engine, as_of=moment)
    finally:
        engine.dispose()
    if not due:
        delivered = _deliver_only(moment)
        print_answer(
            {"as_of": moment, "due": 0, "delivered": delivered},
            as_json,
            f"Nothing due at {moment:%Y-%m-%d %H:%M}; {delivered['sent']} message(s) sent.",
        )
        return
    result, delivered = _flow_then_deliver("sweep_flow", moment)
    result = {"as_of": moment, "due": due, **result, "delivered": delivered}
    print_answer(
        result,
        as_json,
        f"Swept at {moment:%Y-%m-%d %H:%M}: {result['reminders']} reminder(s), "
        f"{result['recorded']} message(s) recorded, {delivered.get('sent', 0)} sent.",
    )


def dispatch(as_of: AsOf = None, now: NowOption = None, as_json: JsonOption = False) -> None:
    """Carry out the outbox rows of committed transitions, then deliver messages.

    Picks up what a crashed process left behind, and delivers what is queued even when
    no row waits; starts Prefect only when there is a row to carry out.
    """
    from models.db import make_engine, session_scope
    from workflows.outbox import pending_count

    moment = instant(as_of or now)
    engine = make_engine(existing_database_url())
    try:
        with session_scope(engine) as session:
            waiting = pending_count(session)
    finally:
        engine.dispose()
    if not waiting:
        delivered = _deliver_only(moment)
        print_answer(
            {"pending": 0, "delivered": delivered},
            as_json,
            f"Nothing to dispatch; {delivered['sent']} message(s) sent.",
        )
        return
    result, delivered = _flow_then_deliver("dispatch_flow", moment)
    print_answer(
        {**result, "delivered": delivered},
        as_json,
        f"Dispatched {result['done']} row(s); {result['failed']} failed; "
        f"{delivered.get('sent', 0)} message(s) sent.",
    )


def serve() -> None:
    """Run the deployments on a Prefect server (PREFECT_API_URL, or a local one started here)."""
    from workflows.serve import serve as run

    existing_database_url()  # its flows would otherwise create an empty database
    try:
        run(announce=console.print)
    except KeyboardInterrupt:
        console.print("Stopped.")
