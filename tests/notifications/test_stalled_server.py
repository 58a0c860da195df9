"""SMTP servers that misbehave: one that accepts and then stalls costs a batch one
timeout, not one per message; one so slow that a batch outlasts the lease keeps its
sender's lease renewed, and two senders at once send no e-mail twice."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session
from sqlalchemy import Engine

from models.clock import FrozenClock
from models.db import make_engine
from notifications.ledger.delivery import DeliveryPolicy, DeliveryReport, deliver_due
from notifications.message import Recipient
from tests.notifications.support import (
    Inbox,
    Record,
    Shared,
    enqueue_sample,
    free_port,
    ledger_rows,
    make_config,
)


@dataclass
class StallingServer:
    """Greets, answers EHLO, then never answers MAIL FROM: a server that accepted the
    connection and stalled. Counts the connections and the MAIL commands it was sent."""

    port: int = field(default_factory=free_port)
    connections: int = 0
    mails: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    sockets: list[socket.socket] = field(default_factory=list)

    def serve(self) -> None:
        with socket.create_server(("127.0.0.1", self.port)) as listener:
            listener.settimeout(0.05)
            while not self.stop.is_set():
                try:
                    connection, _ = listener.accept()
                except TimeoutError:
                    continue
                self.connections += 1
                self.sockets.append(connection)
                threading.Thread(target=self._talk, args=(connection,), daemon=True).start()

    def _talk(self, connection: socket.socket) -> None:
        connection.sendall(b"220 stall.test ESMTP\r\n")
        with connection.makefile("rb") as lines:
            for line in lines:
                command = line[:4].upper()
                if command in (b"EHLO", b"HELO"):
                    connection.sendall(b"250 stall.test\r\n")
                elif command == b"MAIL":
                    self.mails += 1
                    self.stop.wait()  # and never answer
                    return
                elif command == b"QUIT":
                    connection.sendall(b"221 bye\r\n")
                    return


@pytest.fixture
def stalling() -> Iterator[StallingServer]:
    server = StallingServer()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    yield server
    server.stop.set()
    for connection in server.sockets:
        connection.close()
    thread.join(timeout=5)


def _routing(port: int, timeout: float) -> str:
    return (
        "channels:\n"
        f"  email: {{kind: smtp, host: 127.0.0.1, port: {port}, security: none, "
        f"timeout: {timeout}}}\n"
        "default: [email]\n"
    )


def test_a_stalled_server_costs_a_delivery_one_timeout_and_no_attempt_of_the_rest(
    engine: Engine,
    people: dict[str, Recipient],
    stalling: StallingServer,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = make_config(tmp_path, _routing(stalling.port, timeout=0.3))
    for week in range(10):
        record(config, kind="progress_report_due", recipient=people["zhang"], subject=f"w{week}")

    report = deliver_due(
        engine,
        channels=config.channels(frozen),
        renderer=config.renderer,
        now=frozen(),
        policy=DeliveryPolicy(batch_size=4),
        clock=frozen,
    )

    # One connection, one MAIL FROM that stalled; no reconnection, no second batch.
    assert (stalling.connections, stalling.mails) == (1, 1)
    assert (report.claimed, report.retried, report.deferred, report.sent) == (4, 1, 3, 0)
    rows = ledger_rows(engine)
    assert [row["attempts"] for row in rows] == [1] + [0] * 9
    assert all(row["status"] == "queued" for row in rows)
    assert rows[0]["next_attempt_at"] > frozen()  # backed off
    assert all(row["next_attempt_at"] <= frozen() for row in rows[1:])  # next run's


@dataclass
class SlowForOne(Inbox):
    """Accepts every message; on the first connection that sends one (the slow
    sender's) each message takes the server a minute of the test clock, and between
    two of them the test lets the other sender run (`turns`, then `resume`)."""

    clock: FrozenClock | None = None
    slow: int | None = None
    turns: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    resume: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        assert self.clock is not None
        self.slow = self.slow or id(session)
        if id(session) == self.slow:
            self.clock.advance(seconds=61)
            self.turns.release()
            await asyncio.get_running_loop().run_in_executor(None, self.resume.acquire)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_server(clock: FrozenClock) -> Iterator[tuple[int, SlowForOne]]:
    inbox = SlowForOne(clock=clock)
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, inbox
    inbox.resume.release(100)
    controller.stop()


def test_a_batch_that_outlasts_its_lease_keeps_it_and_no_email_is_sent_twice(
    shared: Shared, slow_server: tuple[int, SlowForOne], tmp_path: Path, clock: FrozenClock
) -> None:
    port, inbox = slow_server
    config = make_config(tmp_path, _routing(port, timeout=5))
    # A batch of 10 at a minute each takes 10 minutes: twice the lease.
    policy = DeliveryPolicy(batch_size=10, lease_seconds=300)
    engine = make_engine(shared.url)
    for week in range(40):
        enqueue_sample(
            engine,
            config,
            kind="progress_report_due",
            recipient=shared.people["zhang"],
            plan_id=shared.plan_id,
            now=clock(),
            subject=f"w{week}",
        )

    def deliver(on: Engine, max_batches: int | None = None) -> DeliveryReport:
        return deliver_due(
            on,
            channels=config.channels(clock),
            renderer=config.renderer,
            now=clock(),
            policy=policy,
            clock=clock,
            max_batches=max_batches,
        )

    slow_engine = make_engine(shared.url)
    slow = threading.Thread(target=lambda: deliver(slow_engine, max_batches=1))
    slow.start()
    others: list[DeliveryReport] = []
    while slow.is_alive():  # after each of the slow sender's messages, the other runs
        if inbox.turns.acquire(timeout=0.1):
            others.append(deliver(engine))
            inbox.resume.release()
    slow.join()
    slow_engine.dispose()
    others.append(deliver(engine))

    copies = Counter(received.email["Message-ID"] for received in inbox.messages)
    assert len(copies) == 40 and set(copies.values()) == {1}, copies.most_common(3)
    assert {row["status"] for row in ledger_rows(engine)} == {"sent"}
    assert sum(report.interrupted for report in others) == 0
    engine.dispose()
