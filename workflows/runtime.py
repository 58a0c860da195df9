"""How perfplan runs Prefect: embedded (in-process, the default) or served.

Environment for Prefect must be set before Prefect is imported, so this
module never imports it at the top. See ../shared/PREFECT.md for the costs
measured here: a sync flow waits 1 s for its heartbeat thread unless
heartbeats are off, which is right for in-process runs (nothing to detect:
the run dies with the process) and wrong for workers (keep them on there).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workflows.settings import WorkflowSettings


def prepare_environment() -> None:
    """Prefect settings perfplan relies on; an explicit environment wins."""
    settings = WorkflowSettings()
    os.environ.setdefault("PREFECT_HOME", str(settings.prefect_home))
    # Without it every start logs an ERROR about telemetry (no network here),
    # and a fresh database can report "database is locked".
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_UI_ENABLED", "true")
    # A cold start migrates Prefect's database (~11 s here); on a busy two-core machine it
    # has taken longer than Prefect's default 20 s, and the first flow then failed.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)


@contextmanager
def embedded() -> Iterator[None]:
    """Run flows in this process: heartbeats off (a sync flow would wait 1 s for it).

    Without a PREFECT_API_URL, against a temporary server of this process's own
    (`workflows.temporary_server`: it dies with this process, `kill -9` included),
    whose log and event workers are drained before it stops (otherwise the shutdown
    waits a minute, or prints `Error flushing`).
    """
    prepare_environment()
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        temporary_settings,
    )

    quiet = {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
    if PREFECT_API_URL.value():  # a server of the user's, or an enclosing embedded()
        with temporary_settings(quiet):
            yield
        return
    from workflows.temporary_server import temporary_server

    # The environment's (`prepare_environment`), as Prefect may have read its own before.
    timeout = float(
        os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS")
        or PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()
    )
    with temporary_server(timeout) as url, temporary_settings({**quiet, PREFECT_API_URL: url}):
        try:
            yield
        finally:
            _drain_workers()


def _drain_workers() -> None:
    """Send what Prefect's log and event workers still hold, in that order."""
    from prefect.utilities.asyncutils import run_coro_as_sync

    run_coro_as_sync(_drain())


async def _drain() -> None:
    import inspect

    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    try:
        drained = APILogWorker.instance().drain()
        if inspect.isawaitable(drained):
            await drained
    except RuntimeError:
        pass  # never started
    events = EventsWorker.drain_all()
    if inspect.isawaitable(events):
        await events


def trigger_dispatch(plan_id: int) -> None:
    """Served mode: start the dispatcher deployment now for this plan, without waiting.

    Best effort: if the server cannot be reached, the dispatcher's interval
    picks the rows up; the change itself has committed either way."""
    prepare_environment()
    from prefect.deployments import run_deployment

    run_deployment("perfplan-dispatch/dispatch", parameters={"plan_id": plan_id}, timeout=0)
