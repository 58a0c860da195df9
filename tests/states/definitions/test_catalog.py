"""Definition versions: a running plan keeps the version it was opened with, and a version number
is never reused for other content."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from models.clock import FrozenClock
from models.db import session_scope
from models.tables import PLAN
from states.definitions import catalog
from states.definitions.catalog import BUILTIN_DIR
from states.errors import DefinitionInvalid, Forbidden
from states.plans.document import PlanDocument
from states.plans.opening import create_plan
from tests.states.engine.support import PERIOD_STARTED, agree, audit_rows, fire

STANDARD = (BUILTIN_DIR / "standard.yaml").read_text(encoding="utf-8")


START_ROLES = "    roles: [manager, hr]\n    guards: [period_started]"


def edited_standard(directory: Path, *, version: int) -> Path:
    """The standard definition where only HR may start a plan."""
    assert START_ROLES in STANDARD and "\nversion: 1\n" in STANDARD
    text = STANDARD.replace(START_ROLES, "    roles: [hr]\n    guards: [period_started]")
    text = text.replace("\nversion: 1\n", f"\nversion: {version}\n")
    directory.mkdir(exist_ok=True)
    (directory / "standard.yaml").write_text(text, encoding="utf-8")
    return directory


def plan_definition(db: Engine, plan_id: int) -> tuple[str, int]:
    with db.connect() as conn:
        query = select(PLAN.c.definition_name, PLAN.c.definition_version)
        row = conn.execute(query.where(PLAN.c.id == plan_id)).one()
    return row.definition_name, row.definition_version


def new_plan(db: Engine, doc: PlanDocument, now: datetime, **kw: Any) -> int:
    with session_scope(db) as session:
        return create_plan(session=session, document=doc, actor="wang", now=now, **kw)


def test_running_plan_keeps_its_definition_version(
    engine: Engine,
    zhang_plan: int,
    zhang_doc: PlanDocument,
    clock: FrozenClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin_dir = edited_standard(tmp_path / "definitions", version=2)
    monkeypatch.setenv("PERFPLAN_DEFINITIONS_DIR", str(admin_dir))
    newer = new_plan(engine, zhang_doc, clock())
    assert plan_definition(engine, zhang_plan) == ("standard", 1)
    assert plan_definition(engine, newer) == ("standard", 2)
    # Forget the compiled definitions: the old plan's rules must come from the
    # source stored in the database, not from the file that changed.
    monkeypatch.setattr(catalog, "_BY_HASH", {})
    for plan_id in (zhang_plan, newer):
        agree(engine, plan_id, clock())

    started = fire(engine, zhang_plan, "start", "li", PERIOD_STARTED)  # v1: manager may start
    with pytest.raises(Forbidden, match="hr"):
        fire(engine, newer, "start", "li", PERIOD_STARTED)  # v2: only HR may
    by_hr = fire(engine, newer, "start", "wang", PERIOD_STARTED)

    assert started.to_state == by_hr.to_state == "in_progress"
    hashes = {r.definition_hash for r in audit_rows(engine, zhang_plan)}
    assert hashes.isdisjoint({r.definition_hash for r in audit_rows(engine, newer)})


def test_reusing_a_version_with_different_content_is_refused(
    engine: Engine,
    zhang_plan: int,
    zhang_doc: PlanDocument,
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    admin_dir = edited_standard(tmp_path / "definitions", version=1)

    with pytest.raises(DefinitionInvalid) as reused:
        new_plan(engine, zhang_doc, clock(), definitions_dir=admin_dir)

    assert [p.code for p in reused.value.problems] == ["VERSION_REUSED"]
    assert reused.value.problems[0].path == "version"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(PLAN)).scalar_one() == 1
    # The same content under the same version is simply the same definition.
    same = new_plan(engine, zhang_doc, clock(), definitions_dir=BUILTIN_DIR)
    assert plan_definition(engine, same) == ("standard", 1)
