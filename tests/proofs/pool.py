"""Long-lived worker processes that act on one database at the same moment.

A pool starts its processes once and feeds them round by round through
pipes: a round sends every worker a task (a module-level function and its
arguments) and collects one outcome from each. Tasks that race wait at the
pool's barrier after their preparation, so all workers act together.

Processes come from a fork server that has the rooms imported already:
starting eight workers costs a fork each instead of a fresh interpreter
importing SQLAlchemy. A forked worker inherits the fork server's environment,
not the test's, so the pool hands every worker the variables it needs.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from sqlalchemy import Engine, text

from models.db import make_engine

CONTEXT = multiprocessing.get_context("forkserver")
CONTEXT.set_forkserver_preload(
    [
        "models.db",
        "states.engine.firing",
        "workflows.outbox",
        "workflows.dispatch",
        "workflows.sweep",
    ]
)
ROUND_TIMEOUT = 120.0  # seconds a round may take before the test gives up
BARRIER_TIMEOUT = 60.0


@dataclass(frozen=True)
class Outcome:
    """What one worker's task ended with: `kind` is "ok" or the exception's class name."""

    kind: str
    detail: Any = None


@dataclass(frozen=True)
class Worker:
    """What a task receives: its number, its own engine, the pool's barrier, and the
    pipe to the test (a task that must report before it ends uses `tell`)."""

    number: int
    db: Engine
    barrier: Any
    conn: Connection

    def wait_for_the_others(self) -> None:
        self.barrier.wait(timeout=BARRIER_TIMEOUT)

    def tell(self, outcome: Outcome) -> None:
        self.conn.send(outcome)


Task = Callable[..., Outcome]


def _serve(url: str, env: Mapping[str, str], barrier: Any, conn: Connection, number: int) -> None:
    os.environ.update(env)
    from workflows import messages  # the settings it caches come from the environment

    messages.config.cache_clear()
    db = make_engine(url)
    with db.connect() as connection:  # connected before the first race, not during it
        connection.execute(text("SELECT 1"))
    worker = Worker(number, db, barrier, conn)
    while (request := conn.recv()) is not None:
        task, kwargs = request
        try:
            conn.send(task(worker, **kwargs))
        except BaseException:  # the test decides; the worker stays up for the next round
            conn.send(Outcome("crash", traceback.format_exc()))
    db.dispose()


class WorkerPool:
    """`size` worker processes on the database at `url`, with one shared barrier."""

    def __init__(self, url: str, size: int, env: Mapping[str, str] | None = None) -> None:
        self.barrier = CONTEXT.Barrier(size)
        self.conns: list[Connection] = []
        self.processes: list[Any] = []
        for number in range(size):
            ours, theirs = CONTEXT.Pipe()
            process = CONTEXT.Process(
                target=_serve, args=(url, dict(env or {}), self.barrier, theirs, number)
            )
            process.start()
            theirs.close()
            self.conns.append(ours)
            self.processes.append(process)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def send(self, number: int, task: Task, **kwargs: Any) -> None:
        self.conns[number].send((task, kwargs))

    def receive(self, number: int, timeout: float = ROUND_TIMEOUT) -> Outcome:
        conn = self.conns[number]
        if not conn.poll(timeout):
            raise TimeoutError(f"worker {number} gave no answer within {timeout:.0f} s")
        outcome: Outcome = conn.recv()
        return outcome

    def round(self, tasks: list[tuple[Task, dict[str, Any]]]) -> list[Outcome]:
        """Give every worker its task at once; their outcomes, in worker order."""
        assert len(tasks) == len(self.conns)
        for number, (task, kwargs) in enumerate(tasks):
            self.send(number, task, **kwargs)
        return [self.receive(number) for number in range(len(tasks))]

    def close(self) -> None:
        for conn, process in zip(self.conns, self.processes, strict=True):
            if process.is_alive():
                with contextlib.suppress(BrokenPipeError, OSError):
                    conn.send(None)
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
            conn.close()
