"""Embedded mode's temporary Prefect server, started by perfplan itself so that it
never outlives the perfplan process that started it, even one killed with `kill -9`.

Left to itself, Prefect starts the same server (uvicorn with Prefect's app) when a
flow first needs an API, from whichever thread asks first, and stops it at exit;
a process killed hard leaves it running, adopted by PID 1 (~195 MB each). Here the
server runs as `python -m workflows.temporary_server PARENT PORT`, started from the
thread that enters `embedded()`; in the child, before anything else, Linux is asked
to send SIGTERM when that parent dies (prctl PR_SET_PDEATHSIG), and a watchdog
thread checks every second that the parent is still the one it was (for systems
without prctl, and for a parent that died before the request was made).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

PR_SET_PDEATHSIG = 1
# After SIGTERM, how long the orphaned server may take to shut down before it exits hard.
GRACE_SECONDS = 10.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment() -> dict[str, str]:
    """What Prefect gives its own temporary server: no UI, marked ephemeral, and the
    settings of this process."""
    from prefect.settings import get_current_settings

    return {
        **os.environ,
        "PREFECT_UI_ENABLED": "0",
        "PREFECT__SERVER_EPHEMERAL": "1",
        "PREFECT__SERVER_FINAL": "1",
        **get_current_settings().to_environment_variables(exclude_unset=True),
    }


def _wait_healthy(process: subprocess.Popen[bytes], url: str, timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    with httpx.Client() as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the temporary Prefect server exited ({process.returncode})")
            with contextlib.suppress(httpx.HTTPError):
                if client.get(f"{url}/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
    raise RuntimeError(f"the temporary Prefect server did not answer within {timeout:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def temporary_server(timeout: float) -> Iterator[str]:
    """A Prefect server for this process's flows, stopped on leaving; yields its API URL."""
    port = _free_port()
    command = [sys.executable, "-m", "workflows.temporary_server", str(os.getpid()), str(port)]
    process = subprocess.Popen(command, env=_environment())
    try:
        url = f"http://127.0.0.1:{port}/api"
        _wait_healthy(process, url, timeout)
        yield url
    finally:
        _stop(process)


# In the child ---------------------------------------------------------------------


def _die_with(parent: int) -> None:
    """Ask to be sent SIGTERM when `parent` dies, and watch it as well."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before the request above was made
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="parent-watch", daemon=True).start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(GRACE_SECONDS)
    os._exit(1)


def main(argv: list[str]) -> None:
    parent, port = int(argv[0]), int(argv[1])
    _die_with(parent)
    import uvicorn

    uvicorn.run(
        "prefect.server.api.server:create_app",
        factory=True,
        host="127.0.0.1",
        port=port,
        log_level="error",
        lifespan="on",
    )


if __name__ == "__main__":
    main(sys.argv[1:])
