"""`perfplan demo`, the main job, as `make demo` runs it: the whole life with the
real clockwork, tidy output, both languages, the report."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_demo_plays_zhangs_whole_plan_with_tidy_output(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PERFPLAN_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "PERFPLAN_OUTBOX_DIR": str(tmp_path / "outbox"),
        "PERFPLAN_REPORTS_DIR": str(tmp_path / "reports"),
        # Prefect of its own: the test session's in-process server may be running.
        "PREFECT_HOME": str(ROOT / ".pytest_cache" / "prefect-demo"),
        "COLUMNS": "160",
    }
    env.pop("PREFECT_LOGGING_LEVEL", None)  # as a user runs it
    done = subprocess.run(
        [sys.executable, "-m", "perfplan.cli", "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    for noise in ("ERROR", "Traceback", "Error flushing", "database is locked"):
        assert noise not in output
    assert "refused" in output  # Li cannot sign before Zhang; start before HR signs
    assert (
        "2026-10-10 02:00 │ perfplan │ ✉ milestone_overdue → 张三 Zhang San (zh-CN), Li Wei (en)"
        in output
    )
    assert "✉ milestone_overdue → 孙浩 Sun Hao (zh-CN)" in output  # level 2, 14 October
    assert "2026-10-20 02:00 │ perfplan │ ✉ milestone_overdue" not in output  # moved: no level 3
    assert "Audit trail: 33 hash-chained records, verifies." in output
    # The agreement and two re-confirmations: three signed copies, beside the report.
    assert "Signed copies" in output
    for number, event in ((1, "agree 2026-08-28 11:30"), (2, "reconfirm 2026-10-14 14:30")):
        assert f"│ {number} │ {event}" in output
    assert "│ 3 │ reconfirm 2026-11-04 14:30 │ zhang, li" in output
    messages = list((tmp_path / "outbox").iterdir())
    assert any(m.name.endswith("-zh-CN.eml") for m in messages)
    assert any(m.name.endswith("-en.eml") for m in messages)
    written = {p.name for p in (tmp_path / "reports").iterdir()}
    copies = {name for name in written if name.startswith("plan-1-copy-")}
    assert written - copies == {
        f"plan-1-evaluation.{locale}.{ext}" for locale in ("en", "zh-CN") for ext in ("html", "md")
    }
    named = [re.fullmatch(r"plan-1-copy-(\d)-[0-9a-f]{12}\.(html|pdf)", n) for n in copies]
    assert sorted(m.groups() for m in named if m) == [
        (n, ext) for n in "123" for ext in ("html", "pdf")
    ]
