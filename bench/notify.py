"""Benchmark: messages per second through the delivery ledger, into the file
outbox and into an SMTP server on loopback (aiosmtpd), batched.

Each message is recorded first (its context checked and inserted with its
dedup key), then sent by `deliver_due`: claimed under a lease, rendered from
the bilingual templates and its text stored, sent (one SMTP connection per
batch), and its attempt recorded, all on a SQLite file. Goals: >= 2,000/s to
the file outbox, >= 300/s over SMTP. Last line: one JSON object.

    .venv/bin/python bench/notify.py [--messages 5000] [--smtp-messages 2000] [--batch 200]
                                     [--no-fsync]
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's directory comes first on sys.path, where
# bench/transitions.py would shadow the `transitions` library the engine imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import Engine, select  # noqa: E402

from models.db import analyze, create_schema, make_engine, session_scope  # noqa: E402
from models.tables import PERSON, PLAN_ROLE  # noqa: E402
from notifications.config import NotificationConfig  # noqa: E402
from notifications.kinds import dedup_key  # noqa: E402
from notifications.ledger.delivery import DeliveryPolicy, deliver_due  # noqa: E402
from notifications.ledger.recording import enqueue  # noqa: E402
from notifications.message import Recipient  # noqa: E402
from notifications.routing import parse_routing  # noqa: E402
from notifications.samples import sample_context  # noqa: E402
from notifications.settings import NotificationSettings  # noqa: E402
from states.plans.opening import create_plan, read_document_file  # noqa: E402

NOW = datetime(2026, 10, 12, 9, 0, tzinfo=UTC)


class CountingInbox:
    def __init__(self) -> None:
        self.count = 0
        self.connections: set[int] = set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        self.connections.add(id(session))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _database(folder: Path) -> tuple[Engine, int, list[Recipient]]:
    engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
    create_schema(engine)
    document = read_document_file(ROOT / "docs" / "examples" / "zhang.yaml")
    with session_scope(engine) as session:
        plan_id = create_plan(session=session, document=document, actor="wang", now=NOW)
        rows = session.execute(
            select(
                PERSON.c.id,
                PERSON.c.key,
                PERSON.c.name,
                PERSON.c.email,
                PERSON.c.locale,
                PLAN_ROLE.c.role,
            )
            .join(PLAN_ROLE, PLAN_ROLE.c.person_id == PERSON.c.id)
            .where(PLAN_ROLE.c.plan_id == plan_id, PLAN_ROLE.c.role.in_(["employee", "manager"]))
        ).all()
    people = [
        Recipient(
            person_id=r.id, role=r.role, name=r.name, email=r.email, locale=r.locale, key=r.key
        )
        for r in rows
    ]
    return engine, plan_id, people


def _config(folder: Path, routing: str, fsync: bool) -> NotificationConfig:
    settings = NotificationSettings(
        outbox_dir=folder / "outbox",
        smtp_from="hr@example.com",
        notify_config=None,
        templates_dir=None,
    )
    loaded = NotificationConfig.load(settings)
    if not fsync:
        routing = routing.replace("{kind: file}", "{kind: file, fsync: false}")
    return NotificationConfig(settings, parse_routing(routing), loaded.renderer)


def _record(
    engine: Engine,
    config: NotificationConfig,
    plan_id: int,
    people: list[Recipient],
    count: int,
    batch: int,
) -> float:
    """Record `count` progress reminders (alternately zh-CN and en); returns seconds."""
    contexts = {p.role: sample_context("progress_report_due", role=p.role) for p in people}
    for context in contexts.values():
        context["plan"] = {**context["plan"], "id": plan_id}
    started = time.perf_counter()
    for first in range(0, count, batch):
        with session_scope(engine) as session:
            for n in range(first, min(first + batch, count)):
                person = people[n % len(people)]
                enqueue(
                    session,
                    config=config,
                    kind="progress_report_due",
                    plan_id=plan_id,
                    recipient=person,
                    context=contexts[person.role],
                    now=NOW,
                    dedup_key=dedup_key(
                        plan_id=plan_id, kind="progress_report_due", subject=f"week:{n}"
                    ),
                )
    return time.perf_counter() - started


def _send(engine: Engine, config: NotificationConfig, batch: int) -> tuple[float, int]:
    policy = DeliveryPolicy(batch_size=batch, lease_seconds=3600)
    started = time.perf_counter()
    report = deliver_due(
        engine,
        channels=config.channels(),
        renderer=config.renderer,
        now=NOW,
        policy=policy,
        rng=random.Random(1),
    )
    return time.perf_counter() - started, report.sent


def _run(
    name: str, routing: str, count: int, batch: int, fsync: bool, root: Path
) -> tuple[dict[str, float], Path]:
    folder = root / name.replace(" ", "-")
    folder.mkdir()
    engine, plan_id, people = _database(folder)
    config = _config(folder, routing, fsync)
    try:
        recorded = _record(engine, config, plan_id, people, count, batch)
        analyze(engine)  # not measured: the planner's figures for the loaded ledger
        sent_seconds, sent = _send(engine, config, batch)
    finally:
        engine.dispose()
    if sent != count:
        raise SystemExit(f"{name}: sent {sent} of {count}")
    figures = {
        "messages": count,
        "record_per_s": round(count / recorded),
        "send_per_s": round(count / sent_seconds),
        "end_to_end_per_s": round(count / (recorded + sent_seconds)),
    }
    print(
        f"{name:>11}: {count} messages; recorded {figures['record_per_s']}/s, "
        f"sent {figures['send_per_s']}/s, both {figures['end_to_end_per_s']}/s"
    )
    return figures, folder


def _both(args: argparse.Namespace, root: Path) -> tuple[dict[str, float], dict[str, float], Any]:
    """The file outbox, then SMTP to a real server on loopback."""
    outbox, folder = _run(
        "file outbox",
        "channels:\n  outbox: {kind: file}\n",
        args.messages,
        args.batch,
        not args.no_fsync,
        root,
    )
    files = len(list((folder / "outbox").iterdir()))
    assert files == args.messages, f"{files} files for {args.messages} messages"

    inbox = CountingInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        routing = (
            "channels:\n  email: {kind: smtp, host: 127.0.0.1, "
            f"port: {controller.port}, security: none}}\n"
        )
        smtp, _ = _run("smtp", routing, args.smtp_messages, args.batch, True, root)
    finally:
        controller.stop()
    assert inbox.count == args.smtp_messages, f"server got {inbox.count}"
    print(
        f"{'':>11}  the SMTP server received {inbox.count} messages "
        f"over {len(inbox.connections)} connections"
    )
    return outbox, smtp, inbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000, help="messages to the file outbox")
    parser.add_argument("--smtp-messages", type=int, default=2000, help="messages over SMTP")
    parser.add_argument("--batch", type=int, default=200, help="messages per claim / connection")
    parser.add_argument("--no-fsync", action="store_true", help="outbox files not flushed")
    args = parser.parse_args()
    # Databases and outbox files of this run only; removed whatever happens.
    with tempfile.TemporaryDirectory(prefix="perfplan-bench-notify-") as root:
        outbox, smtp, inbox = _both(args, Path(root))
    print(
        json.dumps(
            {
                "bench": "notify",
                "batch": args.batch,
                "fsync": not args.no_fsync,
                "file_outbox": outbox,
                "smtp": {**smtp, "connections": len(inbox.connections)},
                "goals": {"file_outbox_send_per_s": 2000, "smtp_send_per_s": 300},
            }
        )
    )


if __name__ == "__main__":
    main()
