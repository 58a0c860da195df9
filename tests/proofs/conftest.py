"""Fixtures of the concurrency proofs: every proof runs on a SQLite file and on a
fresh PostgreSQL database (PERFPLAN_TEST_DATABASES=sqlite or =postgresql narrows it)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres import PostgresFactory
from tests.proofs.support import Databases
from workflows import messages

DATABASES = [
    name.strip()
    for name in os.environ.get("PERFPLAN_TEST_DATABASES", "sqlite,postgresql").split(",")
    if name.strip()
]


@pytest.fixture(scope="session")
def proof_postgres() -> Iterator[PostgresFactory]:
    factory = PostgresFactory()
    yield factory
    factory.close()


@pytest.fixture(params=DATABASES)
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    postgres = request.getfixturevalue("proof_postgres") if request.param == "postgresql" else None
    made = Databases(request.param, tmp_path, postgres)
    yield made
    made.close()


@pytest.fixture
def ledger_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Messages go to the test's own folders, here and in the workers (which get this dict)."""
    env = {
        "PERFPLAN_OUTBOX_DIR": str(tmp_path / "outbox"),
        "PERFPLAN_REPORTS_DIR": str(tmp_path / "reports"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    messages.config.cache_clear()
    yield env
    messages.config.cache_clear()
