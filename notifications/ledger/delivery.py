"""Delivery: senders claim due rows with a lease, render and store the text of
those never rendered, send them, and record each attempt; temporary failures
come back later, permanent ones (a template that fails included) become dead
letters.

The guarantee (docs/notifications.md): a crash between sending and recording
repeats a message at most once per crash, and never loses one. The row is
committed before any send; the result is recorded after the send; a sender
that dies in between leaves its lease to expire, and the next sender sends
the message again, with the same Message-ID / Idempotency-Key.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection, RowMapping

from notifications import settings as defaults
from notifications.channels.base import Channel, Held, always_held
from notifications.context import load_context
from notifications.errors import DeliveryError, TemplateProblem
from notifications.ledger.rows import DEAD, QUEUED, SENT, A, N
from notifications.message import OutgoingMessage, Rendered
from notifications.rendering import Renderer
from notifications.settings import NotificationSettings

log = logging.getLogger("perfplan.notifications")

INTERRUPTED = (
    "the sender stopped before recording the result (its lease expired): "
    "the message may have been delivered, and is sent again"
)


@dataclass(frozen=True)
class DeliveryPolicy:
    """How often and how patiently to try (from the PERFPLAN_* settings)."""

    max_attempts: int = defaults.MAX_ATTEMPTS
    backoff_base: float = defaults.BACKOFF_BASE
    backoff_cap: float = defaults.BACKOFF_CAP
    lease_seconds: float = defaults.LEASE_SECONDS
    batch_size: int = defaults.BATCH_SIZE

    @classmethod
    def from_settings(cls, settings: NotificationSettings) -> DeliveryPolicy:
        """Each of the policy's fields from the setting of the same name."""
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})

    def longest_wait(self, attempt: int) -> float:
        """The most seconds between attempt `attempt` failing and the next: base *
        2^(attempt-1), capped; the jitter takes between half of it and all of it."""
        return min(self.backoff_cap, self.backoff_base * 2.0 ** min(max(attempt - 1, 0), 64))

    def backoff(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Seconds before attempt `attempt + 1`: exponential, capped, with jitter.

        "Equal jitter": between half and all of base * 2^(attempt-1), so that
        messages that failed together do not all come back together. A
        server's Retry-After is a floor.
        """
        delay = self.longest_wait(attempt) * rng.uniform(0.5, 1.0)
        if retry_after:
            delay = max(delay, min(retry_after, self.backoff_cap))
        return delay


@dataclass(frozen=True)
class RetryStep:
    """After attempt `attempt` fails: the wait before the next (`shortest` to `longest`
    seconds), and when that next attempt comes, counted from the first (`earliest` to
    `latest`). Ignores Retry-After, which can only make a wait longer."""

    attempt: int
    shortest: float
    longest: float
    earliest: float
    latest: float


def retry_schedule(policy: DeliveryPolicy) -> list[RetryStep]:
    """Every wait a message can go through before it is a dead letter (docs/notifications.md
    shows it for the default settings)."""
    steps: list[RetryStep] = []
    earliest = latest = 0.0
    for attempt in range(1, policy.max_attempts):
        longest = policy.longest_wait(attempt)
        earliest, latest = earliest + longest / 2, latest + longest
        steps.append(RetryStep(attempt, longest / 2, longest, earliest, latest))
    return steps


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    interrupted: int = 0
    deferred: int = 0
    more: bool = False


@dataclass
class Claim:
    """One sender's batch: the messages to send, and those that could not be
    rendered (each with its permanent error, to be recorded as a dead letter)."""

    token: str
    messages: list[OutgoingMessage] = field(default_factory=list)
    unrenderable: list[tuple[OutgoingMessage, DeliveryError]] = field(default_factory=list)
    interrupted: int = 0

    @property
    def claimed(self) -> list[OutgoingMessage]:
        return self.messages + [message for message, _ in self.unrenderable]


def deliver_due(
    engine: Engine,
    *,
    channels: Mapping[str, Channel],
    renderer: Renderer,
    now: datetime,
    policy: DeliveryPolicy | None = None,
    max_batches: int | None = None,
    rng: random.Random | None = None,
    unavailable: Mapping[str, str] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> DeliveryReport:
    """Send every message due at `now`, batch by batch, in transactions of its own.

    Safe to run in several processes at once: each batch is claimed with a lease,
    renewed while the batch is being sent (`clock` tells how time passes; by default
    `now` plus the whole seconds elapsed), and a message is sent only while its lease holds,
    so no message is sent twice unless a sender dies. A channel that goes down is
    not tried again in this call, and its messages not tried wait without using up
    an attempt. Stops early (report.more) once a quarter of the lease has gone by;
    call it again with a fresh `now`. Messages for a channel in `unavailable` (name
    -> why, e.g. a secret not set) wait and are retried; for a channel nobody
    knows, they are dead letters, and so are messages whose templates fail to
    render (`renderer`).
    """
    policy = policy or DeliveryPolicy()
    started = time.monotonic()
    moment = clock or (lambda: now + timedelta(seconds=int(time.monotonic() - started)))
    run = _Run(engine, policy, rng or random.Random(), moment, now)
    while True:
        claim = claim_due(engine, now=now, policy=policy, renderer=renderer, run=run)
        if not claim.claimed:
            return run.report
        lease = Lease(engine, token=claim.token, ids=[m.id for m in claim.claimed], run=run)
        sent = send_claimed(claim.messages, channels, unavailable or {}, held=lease.held)
        run.settle(claim, [*claim.unrenderable, *sent])
        over_time = (moment() - now).total_seconds() > policy.lease_seconds / 4
        if over_time or (max_batches is not None and run.batches >= max_batches):
            run.report.more = True
            return run.report


@dataclass
class _Run:
    """One `deliver_due` call: its settings, clock, figures, and the channels that went
    down during it (not tried again before the next call)."""

    engine: Engine
    policy: DeliveryPolicy
    rng: random.Random
    clock: Callable[[], datetime]
    now: datetime
    report: DeliveryReport = field(default_factory=DeliveryReport)
    down: set[str] = field(default_factory=set)
    batches: int = 0

    def settle(
        self, claim: Claim, outcomes: Sequence[tuple[OutgoingMessage, DeliveryError | None]]
    ) -> None:
        sent, retried, dead, deferred = record_results(
            self.engine,
            token=claim.token,
            outcomes=outcomes,
            now=self.now,
            policy=self.policy,
            rng=self.rng,
        )
        self.down |= {m.channel for m, error in outcomes if error and error.channel_down}
        self.batches += 1
        report = self.report
        report.claimed += len(claim.claimed)
        report.interrupted += claim.interrupted
        report.sent, report.retried = report.sent + sent, report.retried + retried
        report.dead, report.deferred = report.dead + dead, report.deferred + deferred


class Lease:
    """One claim's lease, renewed while its batch is sent: `held(message)` before each
    send. Once less than half of the lease is left, every row of the claim is renewed
    for a whole lease in one UPDATE, on the rows this sender still holds; a row it no
    longer holds (another sender took it after the lease ran out), or a renewal that
    fails, means the message is not sent by this sender."""

    def __init__(self, engine: Engine, *, token: str, ids: Sequence[int], run: _Run) -> None:
        self.engine, self.token, self.ids = engine, token, list(ids)
        self.clock, self.seconds = run.clock, run.policy.lease_seconds
        self.until = self.clock() + timedelta(seconds=self.seconds)
        self.lost: set[int] = set()

    def held(self, message: OutgoingMessage) -> bool:
        left = (self.until - self.clock()).total_seconds()
        if left < self.seconds / 2 and len(self.lost) < len(self.ids):
            self._renew()
        return message.id not in self.lost

    def _renew(self) -> None:
        until = self.clock() + timedelta(seconds=self.seconds)
        try:
            with self.engine.begin() as connection:
                kept = set(
                    connection.execute(
                        update(N)
                        .where(N.c.id.in_(self.ids), N.c.claimed_by == self.token)
                        .where(N.c.status == QUEUED)
                        .values(claimed_until=until)
                        .returning(N.c.id)
                    ).scalars()
                )
        except Exception as error:  # not renewed: send nothing more of this claim
            log.warning("could not renew a delivery lease (%s)", type(error).__name__)
            kept = set()
        self.lost |= set(self.ids) - kept
        self.until = until


def _due(now: datetime) -> Any:
    return (
        (N.c.status == QUEUED)
        & (N.c.next_attempt_at <= now)
        & (N.c.claimed_until.is_(None) | (N.c.claimed_until < now))
    )


def claim_due(
    engine: Engine,
    *,
    now: datetime,
    policy: DeliveryPolicy,
    renderer: Renderer,
    run: _Run | None = None,
) -> Claim:
    """Take up to one batch of due messages for this sender, under a lease.

    One statement claims them: UPDATE … WHERE id IN (due rows, FOR UPDATE SKIP
    LOCKED on PostgreSQL) AND the row is still due. A row another sender
    claimed first no longer matches, so no two senders hold the same row.
    Messages never rendered are rendered now and their text is stored, and the
    new attempt rows are written, all in the same transaction: nothing leaves
    before the row holds the text that leaves.
    """
    claim = Claim(token=uuid.uuid4().hex)
    with engine.begin() as connection:
        # A write first: on SQLite it takes the database's write lock, so the
        # claims of concurrent senders are serialised there.
        _bury_exhausted(connection, now=now, policy=policy)
        leased_at = run.clock() if run else now
        skip = run.down if run else set()
        rows = _take(
            connection, token=claim.token, now=now, until=leased_at, policy=policy, skip=skip
        )
        if rows:
            claim.interrupted = _interrupt_stale(connection, [row["id"] for row in rows], now)
            claim.messages, claim.unrenderable = _render_claimed(connection, rows, renderer, now)
            _open_attempts(connection, claim, now)
    return claim


def _take(
    connection: Connection,
    *,
    token: str,
    now: datetime,
    until: datetime,
    policy: DeliveryPolicy,
    skip: set[str],
) -> list[RowMapping]:
    """Claim up to a batch of due rows (none of the channels in `skip`), leased for
    `policy.lease_seconds` from `until`.

    The candidates are a MATERIALIZED CTE, chosen once: as a plain IN (subquery),
    PostgreSQL may run the subquery again for each row it updates, and each run,
    seeing the rows just claimed as no longer due, locks the next ones: a batch of 4
    took 10 rows."""
    candidates = (
        select(N.c.id)
        .where(_due(now), *([N.c.channel.not_in(sorted(skip))] if skip else []))
        .order_by(N.c.next_attempt_at, N.c.id)
        .limit(policy.batch_size)
        .with_for_update(skip_locked=True)
        .cte("candidates")
        .prefix_with("MATERIALIZED")
    )
    claimed = connection.execute(
        update(N)
        .where(N.c.id.in_(select(candidates.c.id)), _due(now))
        .values(
            claimed_until=until + timedelta(seconds=policy.lease_seconds),
            claimed_by=token,
            attempts=N.c.attempts + 1,
        )
        .returning(*N.c)
    ).all()
    return sorted((row._mapping for row in claimed), key=lambda row: int(row["id"]))


def _render_claimed(
    connection: Connection, rows: Sequence[RowMapping], renderer: Renderer, now: datetime
) -> tuple[list[OutgoingMessage], list[tuple[OutgoingMessage, DeliveryError]]]:
    """The claimed rows as messages, rendering (and storing) those never rendered.

    A row rendered before (a repeat, a retry) is sent as stored, never rendered
    again. A message that cannot be rendered is not sent: its error names the
    template, and it becomes a dead letter without holding up the others.
    """
    ready: list[OutgoingMessage] = []
    failed: list[tuple[OutgoingMessage, DeliveryError]] = []
    fresh: list[OutgoingMessage] = []
    for row in rows:
        message = OutgoingMessage.from_row(row)
        if row["rendered_at"] is not None:
            ready.append(message)
            continue
        try:
            rendered = _render(renderer, message.kind, message.locale, row["context"])
        except DeliveryError as error:
            failed.append((message, error))
            continue
        message = replace(
            message,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            locale=rendered.locale,
        )
        ready.append(message)
        fresh.append(message)
    if fresh:
        _store_rendered(connection, fresh, now)
    return ready, failed


def _render(renderer: Renderer, kind: str, locale: str, context: str | None) -> Rendered:
    """Render a recorded message; any failure is permanent: the same templates and
    context fail the same way, until someone fixes them and queues it again."""
    try:
        if context is None:
            raise TemplateProblem(kind, "the message has neither text nor a context to render")
        return renderer.render(kind, locale, load_context(context))
    except TemplateProblem as problem:
        raise DeliveryError(f"cannot render: {problem}", permanent=True, code="template") from None
    except Exception as error:  # a broken filter or context must not stop the batch
        raise DeliveryError(
            f"cannot render {kind} ({locale}): {type(error).__name__}: {error}",
            permanent=True,
            code="template",
        ) from None


def _store_rendered(
    connection: Connection, messages: Sequence[OutgoingMessage], now: datetime
) -> None:
    # Only ours to write: the claim in this transaction holds these rows.
    statement = (
        update(N)
        .where(N.c.id == bindparam("nid"))
        .values(
            subject=bindparam("new_subject"),
            body_text=bindparam("new_text"),
            body_html=bindparam("new_html"),
            locale=bindparam("new_locale"),
            rendered_at=now,
        )
    )
    connection.execute(
        statement,
        [
            {
                "nid": m.id,
                "new_subject": m.subject,
                "new_text": m.text,
                "new_html": m.html,
                "new_locale": m.locale,
            }
            for m in messages
        ],
    )


def _open_attempts(connection: Connection, claim: Claim, now: datetime) -> None:
    connection.execute(
        insert(A),
        [
            {
                "notification_id": m.id,
                "number": m.attempt,
                "claimed_by": claim.token,
                "started_at": now,
                "status": "sending",
                "error": "",
            }
            for m in claim.claimed
        ],
    )


def _interrupt_stale(connection: Connection, ids: Sequence[int], now: datetime) -> int:
    """Attempts still 'sending' on rows we now hold belong to a sender that died."""
    result = connection.execute(
        update(A)
        .where(A.c.notification_id.in_(ids), A.c.status == "sending")
        .values(status="interrupted", finished_at=now, error=INTERRUPTED)
    )
    if result.rowcount:
        log.warning(
            "%d interrupted attempt(s) found; those messages are sent again", result.rowcount
        )
    return int(result.rowcount)


def _bury_exhausted(connection: Connection, *, now: datetime, policy: DeliveryPolicy) -> None:
    """A message whose last allowed attempt was interrupted becomes a dead letter,
    so that a message that crashes its sender cannot crash every sender forever."""
    dead = (
        connection.execute(
            update(N)
            .where(
                N.c.status == QUEUED,
                N.c.attempts >= policy.max_attempts,
                N.c.claimed_until.is_not(None),
                N.c.claimed_until < now,
            )
            .values(
                status=DEAD,
                dead_at=now,
                claimed_until=None,
                last_error=f"gave up after {policy.max_attempts} attempts; the last: {INTERRUPTED}",
            )
            .returning(N.c.id)
        )
        .scalars()
        .all()
    )
    if dead:
        _interrupt_stale(connection, dead, now)
        for notification_id in dead:
            log.error(
                "notification %d: dead letter, its last attempt was interrupted", notification_id
            )


def send_claimed(
    messages: Sequence[OutgoingMessage],
    channels: Mapping[str, Channel],
    unavailable: Mapping[str, str] | None = None,
    held: Held = always_held,
) -> list[tuple[OutgoingMessage, DeliveryError | None]]:
    """Hand each channel its share of the batch, in one `send_batch` call."""
    by_channel: dict[str, list[OutgoingMessage]] = {}
    for message in messages:
        by_channel.setdefault(message.channel, []).append(message)
    outcomes: list[tuple[OutgoingMessage, DeliveryError | None]] = []
    for name, group in by_channel.items():
        why_not = (unavailable or {}).get(name)
        results = _send_group(name, group, channels.get(name), why_not, held)
        outcomes += zip(group, results, strict=True)
    return outcomes


def _send_group(
    name: str,
    group: Sequence[OutgoingMessage],
    channel: Channel | None,
    why_not: str | None,
    held: Held,
) -> list[DeliveryError | None]:
    if channel is None and why_not is not None:
        waiting = DeliveryError(
            f"channel '{name}' is not ready: {why_not}", channel_down=True, code="not ready"
        )
        return [waiting] * len(group)
    if channel is None:
        missing = DeliveryError(
            f"channel '{name}' is not configured; fix the routing file, then "
            "`perfplan notify retry --all`",
            permanent=True,
            code="no such channel",
        )
        return [missing] * len(group)
    try:
        results = channel.send_batch(group, held)
    except Exception as error:  # a bug in a channel must not lose the batch
        log.exception("channel %s failed unexpectedly (%s)", name, type(error).__name__)
        failed = DeliveryError(f"{name}: {type(error).__name__}", code=type(error).__name__)
        return [failed] * len(group)
    if len(results) != len(group):
        broken = DeliveryError(f"{name}: returned {len(results)} results for {len(group)}")
        return [broken] * len(group)
    return results


def record_results(
    engine: Engine,
    *,
    token: str,
    outcomes: Sequence[tuple[OutgoingMessage, DeliveryError | None]],
    now: datetime,
    policy: DeliveryPolicy,
    rng: random.Random,
) -> tuple[int, int, int, int]:
    """Settle the attempts of one claim: sent, to retry later, dead, or not attempted
    (left as it was, its attempt not counted). (sent, retried, dead, deferred)"""
    sent = [m for m, error in outcomes if error is None]
    tried = [(m, e) for m, e in outcomes if e and e.attempted]
    deferred = [m for m, e in outcomes if e and not e.attempted]
    retry = [(m, e) for m, e in tried if not e.permanent and m.attempt < policy.max_attempts]
    dead = [(m, e) for m, e in tried if e.permanent or m.attempt >= policy.max_attempts]
    with engine.begin() as connection:
        if sent:
            _mark_sent(connection, sent, now)
        if retry:
            _mark_retry(connection, token, retry, now, policy, rng)
        if dead:
            _mark_dead(connection, dead, now)
        if deferred:
            _release(connection, token, deferred)
        attempts = [
            {"nid": m.id, "new_status": _attempt_status(e), "err": str(e) if e else ""}
            for m, e in outcomes
            if e is None or e.attempted
        ]
        connection.execute(
            update(A)
            .where(
                A.c.notification_id == bindparam("nid"),
                A.c.claimed_by == token,
                A.c.status == "sending",
            )
            .values(status=bindparam("new_status"), finished_at=now, error=bindparam("err")),
            attempts,
        )
    _log_outcomes(sent, retry, dead, policy)
    return len(sent), len(retry), len(dead), len(deferred)


def _release(connection: Connection, token: str, messages: Sequence[OutgoingMessage]) -> None:
    """Give back messages that were not tried, as they were before the claim: due, and
    their attempt neither counted nor kept. Only those this sender still holds."""
    held = (
        connection.execute(
            update(N)
            .where(N.c.id.in_([m.id for m in messages]), N.c.claimed_by == token)
            .where(N.c.status == QUEUED)
            .values(attempts=N.c.attempts - 1, claimed_until=None)
            .returning(N.c.id)
        )
        .scalars()
        .all()
    )
    if held:
        connection.execute(
            delete(A).where(
                A.c.notification_id.in_(held), A.c.claimed_by == token, A.c.status == "sending"
            )
        )


def _attempt_status(error: DeliveryError | None) -> str:
    if error is None:
        return SENT
    return "permanent" if error.permanent else "temporary"


def _mark_sent(connection: Connection, sent: Sequence[OutgoingMessage], now: datetime) -> None:
    # Whoever holds the lease now, the message went out: it is sent.
    connection.execute(
        update(N)
        .where(N.c.id == bindparam("nid"), N.c.status == QUEUED)
        .values(status=SENT, sent_at=now, claimed_until=None, last_error=""),
        [{"nid": m.id} for m in sent],
    )


def _mark_retry(
    connection: Connection,
    token: str,
    retry: Sequence[tuple[OutgoingMessage, DeliveryError]],
    now: datetime,
    policy: DeliveryPolicy,
    rng: random.Random,
) -> None:
    connection.execute(
        update(N)
        .where(N.c.id == bindparam("nid"), N.c.claimed_by == token, N.c.status == QUEUED)
        .values(
            next_attempt_at=bindparam("retry_at"), claimed_until=None, last_error=bindparam("err")
        ),
        [
            {
                "nid": m.id,
                "err": str(e),
                "retry_at": now + timedelta(seconds=policy.backoff(m.attempt, rng, e.retry_after)),
            }
            for m, e in retry
        ],
    )


def _mark_dead(
    connection: Connection, dead: Sequence[tuple[OutgoingMessage, DeliveryError]], now: datetime
) -> None:
    connection.execute(
        update(N)
        .where(N.c.id == bindparam("nid"), N.c.status == QUEUED)
        .values(status=DEAD, dead_at=now, claimed_until=None, last_error=bindparam("err")),
        [{"nid": m.id, "err": str(e)} for m, e in dead],
    )


def _log_outcomes(
    sent: Sequence[OutgoingMessage],
    retry: Sequence[tuple[OutgoingMessage, DeliveryError]],
    dead: Sequence[tuple[OutgoingMessage, DeliveryError]],
    policy: DeliveryPolicy,
) -> None:
    # Ids, kinds, channels and short codes only: never a name, an address or a reply text.
    for message in sent:
        log.debug("notification %d (%s) sent via %s", message.id, message.kind, message.channel)
    for message, error in retry:
        log.warning(
            "notification %d (%s) via %s: %s, attempt %d of %d; will retry",
            message.id,
            message.kind,
            message.channel,
            error.code,
            message.attempt,
            policy.max_attempts,
        )
    for message, error in dead:
        log.error(
            "notification %d (%s) via %s: %s, attempt %d; dead letter",
            message.id,
            message.kind,
            message.channel,
            error.code,
            message.attempt,
        )
