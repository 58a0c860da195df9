"""Served mode end to end: a Prefect server on a free loopback port, `perfplan serve`
in a subprocess, and a transition whose report flow completes with its artifact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from models.clock import FrozenClock
from models.db import session_scope
from states.engine import firing as plans
from states.engine import signing
from states.plans import activities as records
from workflows.serve import LocalServer, start_local_server

pytestmark = pytest.mark.slow


@pytest.fixture
def served(tmp_path: Path, db_url: str, engine: Engine) -> Iterator[tuple[LocalServer, Path]]:
    env = {
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PERFPLAN_DATABASE_URL": db_url,
        "PERFPLAN_MODE": "served",
        "PERFPLAN_DISPATCH_EVERY": "5",
        "PERFPLAN_OUTBOX_DIR": str(tmp_path / "outbox"),
        "PERFPLAN_REPORTS_DIR": str(tmp_path / "reports"),
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
    }
    server = start_local_server(env=env)
    serving = subprocess.Popen(
        [sys.executable, "-m", "perfplan.cli", "serve"],
        env={**os.environ, **env, "PREFECT_API_URL": server.url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        yield server, tmp_path
    finally:
        serving.send_signal(signal.SIGINT)
        try:
            serving.wait(timeout=20)
        except subprocess.TimeoutExpired:
            serving.kill()
        server.stop()


def _wait_for(what: str, probe: Any, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{what} did not happen within {timeout:.0f} s")


def _evaluate(engine: Engine, plan_id: int, clock: FrozenClock) -> None:
    for who in ("zhang", "li", "wang"):
        with session_scope(engine) as session:
            signing.sign(session=session, plan_id=plan_id, actor=who, now=clock())
    with session_scope(engine) as session:
        plans.fire(
            session=session, plan_id=plan_id, event="start", actor="li", now=clock.advance(days=8)
        )
        for goal, value in (
            ("contracts", 95),
            ("training", 86),
            ("reports", 100),
            ("response_time", 24),
        ):
            records.measure(
                session=session, plan_id=plan_id, goal=goal, value=value, actor="li", now=clock()
            )
        plans.fire(
            session=session,
            plan_id=plan_id,
            event="evaluate",
            actor="li",
            now=clock(),
            inputs={"outcome": "successful"},
        )


def test_a_transition_starts_the_report_flow_on_the_served_deployments(
    served: tuple[LocalServer, Path], engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    server, folder = served
    _evaluate(engine, zhang_plan, clock)
    committed = time.monotonic()  # no trigger: the dispatcher's interval must find the rows

    def artifact() -> list[dict[str, Any]]:
        response = httpx.post(
            f"{server.url}/artifacts/filter",
            json={
                "artifacts": {"key": {"any_": [f"evaluation-report-plan-{zhang_plan}"]}},
                "sort": "CREATED_DESC",
                "limit": 5,
                "offset": 0,
            },
            timeout=10,
        )
        return list(response.json()) if response.status_code == 200 else []

    found = _wait_for("the report artifact", artifact)
    print(f"commit → report artifact: {time.monotonic() - committed:.1f} s")
    assert "95" in found[0]["data"]
    runs = httpx.post(
        f"{server.url}/flow_runs/filter",
        json={
            "flows": {"name": {"any_": ["perfplan-evaluation-report"]}},
            "sort": "START_TIME_DESC",
            "limit": 5,
            "offset": 0,
        },
        timeout=10,
    ).json()
    assert runs and runs[0]["state_type"] == "COMPLETED"
    reports = sorted(p.name for p in (folder / "reports").iterdir())
    assert f"plan-{zhang_plan}-evaluation.zh-CN.html" in reports
