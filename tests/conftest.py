"""Shared fixtures: a fresh SQLite file per test, a frozen clock, Zhang's plan.

Personas (docs/examples/zhang.yaml): Zhang the employee (zh-CN), Li his
manager (en), Wang from HR, Sun the head of Sales East, Chen the mentor,
Zhao the collaborator from Technical Support.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

import workflows.copies
from models.clock import FrozenClock
from models.db import create_schema, make_engine, session_scope
from states.plans.document import PlanDocument
from states.plans.opening import create_plan, read_document_file
from tests.postgres import PostgresFactory

ROOT = Path(__file__).resolve().parent.parent

# Prefect reads its settings when first imported: point it at a folder of the
# test run's own (kept between local runs, so its database is migrated once).
# With pytest-xdist each worker process has a Prefect (and its database) of its own.
PREFECT_HOME = (
    ROOT / ".pytest_cache" / f"prefect-home-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
)
PREFECT_HOME.mkdir(parents=True, exist_ok=True)  # Prefect creates one level only
os.environ["PREFECT_HOME"] = str(PREFECT_HOME)
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# What the commands write by default (a database's own `NAME-out/`, in the current folder
# for PostgreSQL) goes to the run's own folder instead; tests of those defaults unset it.
for _setting, _folder in (("PERFPLAN_OUTBOX_DIR", "outbox"), ("PERFPLAN_REPORTS_DIR", "reports")):
    os.environ.setdefault(_setting, str(PREFECT_HOME.parent / f"{_folder}-{PREFECT_HOME.name}"))
# A signed copy's PDF (WeasyPrint, 1-3 s, 14 s for the first with its fonts) is rendered
# once per test process for the same page: most tests start Zhang's plan at the same
# frozen instants, so the same copy. What is rendered from what is unchanged.
workflows.copies.render_pdf = functools.lru_cache(maxsize=64)(workflows.copies.render_pdf)
ZHANG_FILE = ROOT / "docs" / "examples" / "zhang.yaml"
# A week before Zhang's plan period starts (2026-09-01).
DRAFTING_DAY = datetime(2026, 8, 25, 9, 0, tzinfo=UTC)


# Every test that takes `db_url` or `engine` runs once per database:
# PERFPLAN_TEST_DATABASES=sqlite (or postgresql) narrows it for a quick run.
DATABASES = [
    name.strip()
    for name in os.environ.get("PERFPLAN_TEST_DATABASES", "sqlite,postgresql").split(",")
    if name.strip()
]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresFactory]:
    """The test run's PostgreSQL: started if need be; every database dropped at the end."""
    factory = PostgresFactory()
    yield factory
    factory.close()


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database: a SQLite file, or a PostgreSQL database copied from a migrated template."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'perfplan.db'}"
        return
    factory: PostgresFactory = request.getfixturevalue("postgres")
    url = factory.fresh()
    yield url
    factory.drop_later(url)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    if engine.dialect.name == "sqlite":
        create_schema(engine)  # the PostgreSQL template is migrated already
    yield engine
    engine.dispose()


def unprotect_audit(engine: Engine) -> None:
    """What someone with owner rights could do: switch the append-only triggers off."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER IF EXISTS audit_record_no_update"))
            connection.execute(text("DROP TRIGGER IF EXISTS audit_record_no_delete"))
        else:
            connection.execute(text("ALTER TABLE audit_record DISABLE TRIGGER USER"))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(DRAFTING_DAY)


@pytest.fixture
def zhang_doc() -> PlanDocument:
    return read_document_file(ZHANG_FILE)


@pytest.fixture
def zhang_plan(engine: Engine, zhang_doc: PlanDocument, clock: FrozenClock) -> int:
    """Zhang's plan, drafted by Wang from HR, not yet signed."""
    with session_scope(engine) as session:
        return create_plan(session=session, document=zhang_doc, actor="wang", now=clock())


@dataclass
class Run:
    """One `perfplan` command run in-process: its exit code and what it printed."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


Cli = Callable[..., Run]


def cli_runner(capsys: pytest.CaptureFixture[str]) -> Cli:
    """Runs `perfplan ARGS...` through `main`, as the console script does; a user's
    mistake must never print a traceback."""
    from perfplan.cli import main

    def run(*args: str) -> Run:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        return Run(code, captured.out, captured.err)

    return run
