"""A case file written before the clockwork rendered a copy says so when checked, rather
than passing it over."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy import Engine

from models.clock import FrozenClock
from models.db import session_scope
from tests.states.engine.support import agree
from workflows.case import build_case, write_case
from workflows.dispatch import dispatch_pending


def _checked(case: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/usr/bin/python3", "-I", "-S", "verify_case.py"],
        cwd=case,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_copy_not_yet_rendered_is_named_by_the_case_files_script(
    engine: Engine, zhang_plan: int, clock: FrozenClock, tmp_path: Path
) -> None:
    agree(engine, zhang_plan, clock())
    with session_scope(engine) as session:
        early = write_case(build_case(session, plan_id=zhang_plan, now=clock()), tmp_path / "a")
    dispatch_pending(engine, now=clock())
    with session_scope(engine) as session:
        later = write_case(build_case(session, plan_id=zhang_plan, now=clock()), tmp_path / "b")

    before, after = _checked(early), _checked(later)

    assert before.returncode == 1
    assert "copy 1: exported before its HTML was rendered." in before.stdout
    assert after.returncode == 0, after.stdout
    assert f"OK: plan {zhang_plan}: 5 records chain, 1 signed copies" in after.stdout
