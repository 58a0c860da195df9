"""One in-process Prefect for the whole test session (PREFECT.md: 7 s for 20
tests instead of 197 s with a harness per test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def prefect() -> Iterator[None]:
    """Flows run in this process against a temporary server, heartbeats off; at the
    end `embedded()` drains the log and event workers, then stops the server."""
    from workflows.runtime import embedded

    with embedded():
        yield
