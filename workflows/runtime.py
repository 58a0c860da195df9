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
    """Run flows in this process: heartbeats off (a sync flow would wait 1 s for it)."""
    prepare_environment()
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def trigger_dispatch(plan_id: int) -> None:
    """Served mode: start the dispatcher deployment now for this plan, without waiting.

    Best effort: if the server cannot be reached, the dispatcher's interval
    picks the rows up; the change itself has committed either way."""
    prepare_environment()
    from prefect.deployments import run_deployment

    run_deployment("perfplan-dispatch/dispatch", parameters={"plan_id": plan_id}, timeout=0)
