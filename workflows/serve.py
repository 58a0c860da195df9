"""Served mode: perfplan's deployments on a Prefect server.

With PREFECT_API_URL set, `serve` registers and runs the deployments against
that server; without it, it first starts a local `prefect server` (its
database migrated before the start, which avoids a migration race) and says
where its UI is.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import httpx

from workflows.runtime import prepare_environment
from workflows.settings import WorkflowSettings


@dataclass
class LocalServer:
    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_healthy(api_url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the Prefect server at {api_url} did not become healthy in {timeout:.0f} s")


def start_local_server(port: int | None = None, env: dict[str, str] | None = None) -> LocalServer:
    """Migrate, then start `prefect server start` on loopback; returns when healthy.

    Migrating first, alone, avoids the race of several processes migrating a
    fresh database at once."""
    prepare_environment()
    environment = {**os.environ, **(env or {})}
    prefect = [sys.executable, "-m", "prefect"]
    subprocess.run(
        [*prefect, "server", "database", "upgrade", "-y"],
        check=True,
        capture_output=True,
        env=environment,
    )
    port = port or free_port()
    process = subprocess.Popen(
        [*prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=environment,
    )
    server = LocalServer(process, f"http://127.0.0.1:{port}/api")
    try:
        wait_healthy(server.url)
    except RuntimeError:
        server.stop()
        raise
    return server


def serve(*, announce: Callable[[str], None] = print) -> None:
    """Run the deployments until interrupted: sweep on a cron schedule, the dispatcher
    and the delivery on short intervals, the evaluation report on demand."""
    settings = WorkflowSettings()
    prepare_environment()
    server = None
    if not os.environ.get("PREFECT_API_URL"):
        server = start_local_server()
        os.environ["PREFECT_API_URL"] = server.url
        announce(f"Started a local Prefect server; its UI: {server.url.removesuffix('/api')}")
    os.environ.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", "2")
    from prefect import serve as prefect_serve
    from prefect.deployments.runner import RunnerDeployment

    from workflows.flows import deliver_flow, dispatch_flow, report_flow, sweep_flow

    announce(f"Serving perfplan on {os.environ['PREFECT_API_URL']} (sweep: {settings.sweep_cron})")
    try:
        deployments = [
            sweep_flow.to_deployment(name="sweep", cron=settings.sweep_cron),
            dispatch_flow.to_deployment(name="dispatch", interval=settings.dispatch_every),
            deliver_flow.to_deployment(name="deliver", interval=settings.deliver_every),
            report_flow.to_deployment(name="report"),
        ]
        prefect_serve(
            *cast(list[RunnerDeployment], deployments),
            print_starting_message=False,
            limit=settings.serve_limit,
        )
    finally:
        if server is not None:
            server.stop()
