"""Shared fixtures: a fresh SQLite file per test, a frozen clock, Zhang's plan.

Personas (docs/examples/zhang.yaml): Zhang the employee (zh-CN), Li his
manager (en), Wang from HR, Sun the head of Sales East, Chen the mentor,
Zhao the collaborator from Technical Support.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from models.clock import FrozenClock
from models.db import create_schema, make_engine, session_scope
from states.document import PlanDocument
from states.plans import create_plan, read_document_file

ROOT = Path(__file__).resolve().parent.parent
ZHANG_FILE = ROOT / "docs" / "examples" / "zhang.yaml"
# A week before Zhang's plan period starts (2026-09-01).
DRAFTING_DAY = datetime(2026, 8, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'perfplan.db'}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    create_schema(engine)
    yield engine
    engine.dispose()


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
