"""A perfplan killed with `kill -9` in the middle of a flow leaves no Prefect server
behind: the temporary server it started dies with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]

# A flow that runs until it is killed, in embedded mode (as `perfplan sweep` runs it).
SCRIPT = """
import time
from prefect import flow
from workflows.runtime import embedded

@flow
def forever() -> None:
    time.sleep(600)

with embedded():
    forever()
"""


def _server_of(parent: psutil.Process, within: float) -> psutil.Process:
    """The Prefect server among the parent's children, once it has started one."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for child in parent.children(recursive=True):
            line = " ".join(child.cmdline())
            if "uvicorn" in line or "temporary_server" in line:
                return child
        time.sleep(0.05)
    raise AssertionError("no Prefect server was started")


def _gone(process: psutil.Process, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def test_a_killed_perfplan_leaves_no_prefect_server_behind(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PERFPLAN_PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_HOME": str(tmp_path / "prefect"),
    }
    perfplan = subprocess.Popen([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env)
    server = None
    try:
        server = _server_of(psutil.Process(perfplan.pid), within=60)
        os.kill(perfplan.pid, signal.SIGKILL)
        perfplan.wait()
        assert _gone(server, within=20), f"the server {server.pid} outlived perfplan"
    finally:
        if perfplan.poll() is None:
            perfplan.kill()
        if server is not None and server.is_running():
            server.kill()
