"""Benchmark: served mode, from a transition's commit to its report flow finishing.

Starts a Prefect server on a free loopback port and `perfplan serve` in a
subprocess, each with a fresh SQLite perfplan database and a PREFECT_HOME of
their own in a temporary folder. Plays Zhang's plan (docs/examples/zhang.yaml)
up to `evaluate`, once per run, on a plan of its own; then fires `evaluate`
and measures from its commit to the end of the `perfplan-evaluation-report`
flow run (COMPLETED, its artifact present). By default the commit triggers the
dispatcher at once, as the CLI does in served mode; `--no-trigger` leaves it
to the dispatcher's interval. Bounded (`--runs`, `--timeout`); every process
it started is stopped, also on failure. Last line: one JSON object.

    .venv/bin/python bench/served.py [--runs 3] [--no-trigger] [--dispatch-every 60]
                                     [--timeout 300]

Each served run is a process of its own: a short `--dispatch-every` on a
small machine queues interval runs behind one another and slows every run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's directory comes first on sys.path, where
# bench/transitions.py would shadow the `transitions` library the engine imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import Engine, func, select  # noqa: E402

from models.db import create_schema, make_engine, session_scope  # noqa: E402
from models.tables import OUTBOX  # noqa: E402
from states.engine import firing as plans  # noqa: E402
from states.engine import signing  # noqa: E402
from states.plans import activities as records  # noqa: E402
from states.plans.opening import create_plan, read_document_file  # noqa: E402
from workflows.settings import WorkflowSettings  # noqa: E402

DRAFTED = datetime(2026, 8, 25, 9, 0, tzinfo=UTC)
REPORT_FLOW = "perfplan-evaluation-report"


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.ends = time.monotonic() + seconds

    def left(self) -> float:
        return self.ends - time.monotonic()

    def wait_for(self, what: str, probe: Callable[[], Any], limit: float, pause: float) -> Any:
        """Poll `probe` until it returns something true, within `limit` and the deadline."""
        until = time.monotonic() + min(limit, max(self.left(), 0))
        while time.monotonic() < until:
            found = probe()
            if found:
                return found
            time.sleep(pause)
        raise TimeoutError(f"{what} did not happen within {limit:.0f} s (or the overall timeout)")


def _environment(folder: Path, dispatch_every: int) -> dict[str, str]:
    return {
        "PREFECT_HOME": str(folder / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PERFPLAN_DATABASE_URL": f"sqlite:///{folder / 'perfplan.db'}",
        "PERFPLAN_MODE": "served",
        "PERFPLAN_DISPATCH_EVERY": str(dispatch_every),
        "PERFPLAN_OUTBOX_DIR": str(folder / "outbox"),
        "PERFPLAN_REPORTS_DIR": str(folder / "reports"),
    }


def _plan_up_to_evaluate(engine: Engine, trigger: Callable[[int], None]) -> int:
    """A fresh copy of Zhang's plan, signed, started and measured: `evaluate` is next."""
    document = read_document_file(ROOT / "docs" / "examples" / "zhang.yaml")
    now = DRAFTED
    with session_scope(engine) as session:
        plan_id = create_plan(session=session, document=document, actor="wang", now=now)
    for who in ("zhang", "li", "wang"):
        with session_scope(engine) as session:
            signing.sign(session=session, plan_id=plan_id, actor=who, now=now)
    now += timedelta(days=8)
    with session_scope(engine) as session:
        plans.fire(session=session, plan_id=plan_id, event="start", actor="li", now=now)
        for goal, value in (
            ("contracts", 95),
            ("training", 86),
            ("reports", 100),
            ("response_time", 24),
        ):
            records.measure(
                session=session, plan_id=plan_id, goal=goal, value=value, actor="li", now=now
            )
    trigger(plan_id)
    return plan_id


def _evaluate(engine: Engine, plan_id: int) -> float:
    """Fire `evaluate`; returns the wall-clock instant its transaction committed."""
    with session_scope(engine) as session:
        plans.fire(
            session=session,
            plan_id=plan_id,
            event="evaluate",
            actor="li",
            now=DRAFTED + timedelta(days=9),
            inputs={"outcome": "successful"},
        )
    return time.time()


def _report_run(api: str, plan_id: int) -> dict[str, Any] | None:
    """The plan's report flow run, once COMPLETED and its artifact is there."""
    runs = httpx.post(
        f"{api}/flow_runs/filter",
        json={
            "flows": {"name": {"any_": [REPORT_FLOW]}},
            "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},
            "sort": "START_TIME_DESC",
            "limit": 50,
            "offset": 0,
        },
        timeout=10,
    ).json()
    done = [r for r in runs if r["parameters"].get("plan_id") == plan_id]
    if not done:
        return None
    artifacts = httpx.post(
        f"{api}/artifacts/filter",
        json={
            "artifacts": {"key": {"any_": [f"evaluation-report-plan-{plan_id}"]}},
            "limit": 1,
            "offset": 0,
        },
        timeout=10,
    ).json()
    return done[0] if artifacts else None


def _outbox_idle(engine: Engine) -> bool:
    with engine.connect() as connection:
        waiting = connection.execute(
            select(func.count()).select_from(OUTBOX).where(OUTBOX.c.status != "done")
        ).scalar_one()
    return int(waiting) == 0


def _dispatcher_start(api: str, report_run: dict[str, Any]) -> float | None:
    """When the dispatcher run that started this report began (its parent flow run)."""
    parent_task = report_run.get("parent_task_run_id")
    if not parent_task:
        return None
    task = httpx.get(f"{api}/task_runs/{parent_task}", timeout=10).json()
    parent = httpx.get(f"{api}/flow_runs/{task['flow_run_id']}", timeout=10).json()
    started = parent.get("start_time")
    return datetime.fromisoformat(started).timestamp() if started else None


def _deployments_ready(api: str) -> bool:
    found = httpx.post(f"{api}/deployments/filter", json={"limit": 10, "offset": 0}, timeout=10)
    names = {d["name"] for d in found.json()} if found.status_code == 200 else set()
    return {"dispatch", "report"} <= names


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)  # a served runner stops cleanly on SIGINT
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _measure(args: argparse.Namespace, folder: Path, deadline: Deadline) -> list[float]:
    from workflows.runtime import trigger_dispatch
    from workflows.serve import start_local_server

    env = _environment(folder, args.dispatch_every)
    os.environ.update(env)  # this process fires the transitions and triggers the dispatcher
    engine = make_engine(env["PERFPLAN_DATABASE_URL"])
    create_schema(engine)
    trigger = trigger_dispatch if args.trigger else (lambda plan_id: None)
    print("starting a Prefect server (its database migrated first) ...", flush=True)
    server = start_local_server(env=env)
    os.environ["PREFECT_API_URL"] = server.url
    serving = subprocess.Popen(
        [sys.executable, "-m", "perfplan.cli", "serve"],
        env={**os.environ},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=folder,
    )
    try:
        deadline.wait_for(
            "perfplan serve's deployments", lambda: _deployments_ready(server.url), 60, 0.5
        )
        plan_ids = [_plan_up_to_evaluate(engine, trigger) for _ in range(args.runs)]
        # The earlier steps' effects done first, so each run times its own report alone.
        deadline.wait_for("the earlier steps' outbox rows", lambda: _outbox_idle(engine), 120, 0.5)
        return [_one_run(server.url, engine, plan_id, trigger, deadline) for plan_id in plan_ids]
    finally:
        _stop(serving)
        server.stop()
        engine.dispose()


def _one_run(
    api: str, engine: Engine, plan_id: int, trigger: Callable[[int], None], deadline: Deadline
) -> float:
    committed = _evaluate(engine, plan_id)
    trigger(plan_id)
    run = deadline.wait_for(
        f"plan {plan_id}'s report flow", lambda: _report_run(api, plan_id), 120, 0.2
    )
    ended = datetime.fromisoformat(run["end_time"]).timestamp()
    seconds = ended - committed
    started = _dispatcher_start(api, run)
    pickup = f" (the dispatcher's run started after {started - committed:.2f} s)" if started else ""
    print(f"plan {plan_id}: commit → report flow completed in {seconds:.2f} s{pickup}", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, choices=range(1, 11), metavar="1..10")
    parser.add_argument(
        "--dispatch-every",
        type=int,
        default=WorkflowSettings().dispatch_every,
        help="the dispatcher's interval, seconds (default: as served)",
    )
    parser.add_argument(
        "--trigger",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the commit triggers the dispatcher, as the CLI does",
    )
    parser.add_argument("--timeout", type=float, default=300, help="seconds for everything")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="perfplan-bench-served-"))
    try:
        runs = _measure(args, folder, Deadline(args.timeout))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    figures = {
        "benchmark": "served",
        "runs": len(runs),
        "commit_to_report_s": [round(r, 3) for r in runs],
        "p50_s": round(statistics.median(runs), 3),
        "max_s": round(max(runs), 3),
        "dispatch_every_s": args.dispatch_every,
        "commit_triggers_dispatcher": args.trigger,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
