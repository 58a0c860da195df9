"""One in-process Prefect for the whole test session (PREFECT.md: 7 s for 20
tests instead of 197 s with a harness per test)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest


async def _drain() -> None:
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    try:
        result = APILogWorker.instance().drain()
        if inspect.isawaitable(result):
            await result
    except RuntimeError:
        pass  # never started
    events = EventsWorker.drain_all()
    if inspect.isawaitable(events):
        await events


@pytest.fixture(scope="session")
def prefect() -> Iterator[None]:
    """Flows run in this process against Prefect's temporary server, heartbeats off.

    At the end: drain the log worker, then the events worker, then stop the
    server — in that order, or the shutdown hangs for a minute."""
    from workflows.runtime import embedded

    with embedded():
        yield
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.utilities.asyncutils import run_coro_as_sync

    run_coro_as_sync(_drain())
    SubprocessASGIServer().stop()
