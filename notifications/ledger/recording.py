"""Recording: a message becomes one ledger row per channel its routing names, in
the caller's transaction, with its template context checked and kept as JSON; a
unique dedup key records each reminder once, whoever asks, even in a race.
Nothing is rendered here: the sender renders a message when it first claims it
(`notifications.ledger.delivery`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import TextClause, bindparam, insert, select, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from notifications.config import NotificationConfig
from notifications.context import dump_context, dump_context_with
from notifications.kinds import check_context, check_kind
from notifications.ledger.rows import QUEUED, N
from notifications.message import Recipient
from notifications.registry import channel_class


@dataclass(frozen=True)
class Queued:
    """A ledger row that `enqueue` created."""

    id: int
    channel: str
    dedup_key: str


@dataclass(frozen=True)
class Request:
    """One message to record: `enqueue`'s arguments, for recording many at once."""

    kind: str
    plan_id: int | None
    recipient: Recipient
    context: Mapping[str, Any]
    dedup_key: str
    # An iCalendar invitation per reader's language (`en`, `zh-CN`), to attach.
    calendars: Mapping[str, str] = field(default_factory=dict)


def calendar_for(calendars: Mapping[str, str], locale: str) -> str:
    """The invitation in `locale`, or in its language, or in English ("" for none)."""
    language = locale.partition("-")[0]
    chinese = "zh-CN" if language == "zh" else ""
    for candidate in (locale, language, chinese, "en"):
        if candidate and candidate in calendars:
            return calendars[candidate]
    return next(iter(calendars.values()), "")


def enqueue(
    session: Session,
    *,
    config: NotificationConfig,
    kind: str,
    plan_id: int | None,
    recipient: Recipient,
    context: Mapping[str, Any],
    dedup_key: str,
    now: datetime,
    calendars: Mapping[str, str] | None = None,
) -> list[Queued]:
    """Record `kind` for `recipient`, one row per channel the routing names.

    Runs in the caller's transaction and never commits. The message is
    recorded with its context and rendered when it is first sent (see
    `claim_due`). Returns the rows created: none if this reminder was recorded
    before, by anyone — the unique `dedup_key` (extended with person and
    channel) decides, even when two callers race.
    """
    check_kind(kind)
    names = config.routing.channels_for(kind, recipient)
    keys = _channel_keys(dedup_key, recipient, names)
    known = _recorded_keys(session, list(keys.values()))  # the insert still guards a race
    fresh = [name for name, key in keys.items() if key not in known]
    if not fresh:
        return []  # asked before: nothing to write
    locale, stored = _stored_context(config, kind, recipient, context, {})
    queued = []
    for name in fresh:
        row = _row(config, kind, plan_id, recipient, name, (locale, stored), now)
        row["calendar"] = calendar_for(calendars or {}, locale)
        new_id = _insert_once(session, {**row, "dedup_key": keys[name]})
        if new_id is not None:  # None: a concurrent caller recorded it first
            queued.append(Queued(new_id, name, keys[name]))
    return queued


def _channel_keys(dedup_key: str, recipient: Recipient, channels: Iterable[str]) -> dict[str, str]:
    """Each channel's row key: the reminder's dedup key, extended with person and channel."""
    return {name: f"{dedup_key}|to:{recipient.person_id}|via:{name}" for name in channels}


def _stored_context(
    config: NotificationConfig,
    kind: str,
    recipient: Recipient,
    context: Mapping[str, Any],
    shared: dict[tuple[str, int], str],
) -> tuple[str, str]:
    """The reader's locale and the context as the ledger keeps it (JSON).

    The context is checked now, so a caller that forgets a value hears of it
    when recording; the templates are only run when the message is sent. A
    context object given for several readers is checked and dumped once
    (`shared`), and each reader's JSON only adds its `recipient`.
    """
    locale = config.routing.locale_for(recipient)
    who = {"name": recipient.name, "role": recipient.role, "locale": locale}
    if "recipient" in context:  # replaced where it stands
        full = {**context, "recipient": who}
        check_context(kind, full)
        return locale, dump_context(full)
    common = shared.get((kind, id(context)))
    if common is None:
        check_context(kind, {**context, "recipient": who})
        common = shared[(kind, id(context))] = dump_context(context)
    return locale, dump_context_with(common, "recipient", who)


def _row(
    config: NotificationConfig,
    kind: str,
    plan_id: int | None,
    recipient: Recipient,
    channel: str,
    stored: tuple[str, str],
    now: datetime,
) -> dict[str, Any]:
    locale, context = stored
    return {
        "plan_id": plan_id,
        "person_id": recipient.person_id,
        "role": recipient.role,
        "kind": kind,
        "channel": channel,
        "locale": locale,  # as the reader asked; the rendered one replaces it
        "address": _address(config, channel, recipient),
        "recipient_name": recipient.name,
        "subject": "",
        "body_text": "",
        "body_html": "",
        "context": context,
        "rendered_at": None,
        "calendar": "",
        "link": config.renderer.plan_url(plan_id) if plan_id is not None else "",
        # Made once: every copy of this message, a repeat included, carries it.
        "message_id": f"<perfplan.{uuid.uuid4().hex}@{config.mail_domain}>",
        "status": QUEUED,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
        "claimed_until": None,
        "claimed_by": "",
        "sent_at": None,
        "dead_at": None,
        "last_error": "",
    }


def _address(config: NotificationConfig, channel: str, recipient: Recipient) -> str:
    kind = config.routing.kind_of(channel)
    handle = recipient.handles.get(channel) or recipient.handles.get(kind)
    if handle:
        return handle
    return recipient.email if channel_class(kind).uses_email else ""


# INSERT … ON CONFLICT (dedup_key) DO NOTHING RETURNING id, the same on SQLite
# (3.35+) and PostgreSQL. Written as text because SQLAlchemy does not cache
# its dialect-specific INSERT constructs, and compiling one per message would
# halve the rate at which messages can be recorded.
_ROW = [c.name for c in N.c if c.name != "id"]


def _insert_statement(tail: str) -> TextClause:
    """INSERT of a whole row, by name, then `tail`."""
    columns, values = ", ".join(_ROW), ", ".join(f":{c}" for c in _ROW)
    return text(f"INSERT INTO {N.name} ({columns}) VALUES ({values}) {tail}").bindparams(
        *(bindparam(c, type_=N.c[c].type) for c in _ROW)
    )


_INSERT_ONCE = _insert_statement("ON CONFLICT (dedup_key) DO NOTHING RETURNING id")
_INSERT_MANY = _insert_statement("ON CONFLICT (dedup_key) DO NOTHING")


def _insert_once(session: Session, row: dict[str, Any]) -> int | None:
    """INSERT … ON CONFLICT (dedup_key) DO NOTHING; a savepoint on other databases."""
    if session.get_bind().dialect.name in ("sqlite", "postgresql"):
        new_id = session.execute(_INSERT_ONCE, row).scalar()
        return int(new_id) if new_id is not None else None
    try:
        with session.begin_nested():
            return int(session.execute(insert(N).returning(N.c.id), row).scalar_one())
    except IntegrityError:
        return None


_KEY_CHUNK = 500


@lru_cache(maxsize=8)
def _insert_many_for(dialect: Dialect) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
    """`_INSERT_MANY` as the driver takes it: its SQL, the parameters' order (None:
    by name), and the bind processors of the columns that have one (the instants)."""
    compiled = _INSERT_MANY.compile(dialect=dialect)
    order = tuple(compiled.positiontup or ()) if compiled.positional else None
    processors = {
        name: processor
        for name in _ROW
        if (processor := N.c[name].type.dialect_impl(dialect).bind_processor(dialect))
    }
    return str(compiled), order, processors


def _insert_many(session: Session, rows: list[dict[str, Any]]) -> int:
    """Run `_INSERT_MANY` for `rows` (changed in place) through the driver's executemany.

    SQLAlchemy would build and process every row's 25 parameters in Python,
    which at a sweep's 20,000 rows costs more than the insert itself. Here a
    column's bind processor runs once per distinct value: the instants of a
    batch are all `now` or None.
    """
    connection = session.connection()
    statement, order, processors = _insert_many_for(connection.dialect)
    for name, processor in processors.items():
        done: dict[Any, Any] = {}
        for row in rows:
            value = row[name]
            row[name] = done[value] if value in done else done.setdefault(value, processor(value))
    params: list[Any] = rows
    if order is not None:
        pick = itemgetter(*order)
        params = [pick(row) for row in rows]
    written = connection.exec_driver_sql(statement, params).rowcount
    return int(written) if written is not None and written >= 0 else len(rows)


def _recorded_keys(session: Session, keys: Sequence[str]) -> set[str]:
    known: set[str] = set()
    for start in range(0, len(keys), _KEY_CHUNK):
        chunk = list(keys[start : start + _KEY_CHUNK])
        known |= set(
            session.execute(select(N.c.dedup_key).where(N.c.dedup_key.in_(chunk))).scalars()
        )
    return known


def enqueue_many(
    session: Session, *, config: NotificationConfig, requests: Sequence[Request], now: datetime
) -> int:
    """`enqueue` for a batch (a sweep's reminders): one look-up of the dedup keys and
    one multi-row insert instead of two statements per message, nothing rendered
    (as `enqueue`: the sender renders). Same guarantees:
    a message recorded before, by anyone, is not recorded again. Returns the rows written."""
    if session.get_bind().dialect.name not in ("sqlite", "postgresql"):
        return sum(
            len(
                enqueue(
                    session,
                    config=config,
                    kind=r.kind,
                    plan_id=r.plan_id,
                    recipient=r.recipient,
                    context=r.context,
                    dedup_key=r.dedup_key,
                    now=now,
                    calendars=r.calendars,
                )
            )
            for r in requests
        )
    wanted: list[tuple[Request, str, str]] = []
    for request in requests:
        check_kind(request.kind)
        names = config.routing.channels_for(request.kind, request.recipient)
        keys = _channel_keys(request.dedup_key, request.recipient, names)
        wanted += [(request, name, key) for name, key in keys.items()]
    known = _recorded_keys(session, [key for _, _, key in wanted])
    rows: dict[str, dict[str, Any]] = {}
    stored: dict[int, tuple[str, str]] = {}  # one context per request, for all its channels
    shared: dict[tuple[str, int], str] = {}  # and one JSON per context object, for its readers
    for request, name, key in wanted:
        if key in known or key in rows:
            continue
        if id(request) not in stored:
            stored[id(request)] = _stored_context(
                config, request.kind, request.recipient, request.context, shared
            )
        row = _row(
            config, request.kind, request.plan_id, request.recipient, name, stored[id(request)], now
        )
        calendar = calendar_for(request.calendars, stored[id(request)][0])
        rows[key] = {**row, "dedup_key": key, "calendar": calendar}
    return _insert_many(session, list(rows.values())) if rows else 0
