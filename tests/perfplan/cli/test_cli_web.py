"""`perfplan web --workers N`: N server processes answer on one port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from models.db import create_schema, make_engine
from tests.conftest import ROOT, cli_runner
from tests.perfplan.web.conftest import free_port


def _serving(process: subprocess.Popen[bytes], url: str) -> bool:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            return httpx.get(f"{url}/api/health", timeout=2).status_code == 200
        except httpx.TransportError:
            time.sleep(0.2)
    return False


@pytest.mark.slow
def test_web_serves_with_the_number_of_workers_asked_for(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'web.db'}")
    create_schema(engine)
    engine.dispose()
    port = free_port()
    env = {
        **os.environ,
        "PERFPLAN_DATABASE_URL": f"sqlite:///{tmp_path / 'web.db'}",
        "PREFECT_HOME": str(tmp_path / "prefect"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "perfplan.cli", "web", "--port", str(port), "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        assert _serving(process, url), process.stderr.read().decode() if process.stderr else ""
        # uvicorn's supervisor keeps the workers as its children (multiprocessing spawn)
        workers = [
            child
            for child in psutil.Process(process.pid).children()
            if "spawn_main" in " ".join(child.cmdline())
        ]
        assert len(workers) == 2
        assert httpx.get(f"{url}/api/plans", timeout=5).status_code == 401  # the app, not a stub
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=30)
    assert "2 workers" in out.decode()


def test_workers_below_one_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    refused = cli_runner(capsys)("web", "--workers", "0")
    assert refused.code == 2
    assert "--workers" in refused.err
