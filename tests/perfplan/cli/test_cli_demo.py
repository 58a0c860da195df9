"""`perfplan demo`, the main job, as `make demo` and `make web-demo` run it: the whole
life with the real clockwork, printed as it goes, both languages, the report; the pages
with the printed log-ins; the closing hints that work; a second run that refuses."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.perfplan.web.conftest import free_port
from tests.perfplan.web.pages_support import csrf_of

pytestmark = pytest.mark.slow


def _demo_env(tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "PERFPLAN_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        # Prefect of its own: the test session's in-process server may be running.
        "PREFECT_HOME": str(ROOT / ".pytest_cache" / "prefect-demo"),
        "COLUMNS": "160",
    }
    for variable in ("PREFECT_LOGGING_LEVEL", "PERFPLAN_OUTBOX_DIR", "PERFPLAN_REPORTS_DIR"):
        env.pop(variable, None)  # as a user runs it
    return env


def _read_until(process: subprocess.Popen[str], last: str) -> str:
    """What the demo printed up to the line with `last`, checking that its timeline
    arrives while it runs (step by step), not all at the end."""
    assert process.stdout is not None
    printed = []
    for line in process.stdout:
        printed.append(line)
        if "opens plan 1" in line:
            assert process.poll() is None, "the timeline came only after the demo ended"
        if last in line:
            return "".join(printed)
    raise AssertionError("".join(printed))


def test_demo_plays_zhangs_whole_plan_as_it_goes_then_serves_its_pages(tmp_path: Path) -> None:
    env, port = _demo_env(tmp_path), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "perfplan.cli", "demo", "--web", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    try:
        output = _read_until(process, "Ctrl-C stops the server")
        _check_the_timeline(output, tmp_path)
        _check_the_simulation_agrees(tmp_path / "demo.db")
        _check_the_pages(f"http://127.0.0.1:{port}", output)
    finally:
        process.terminate()
        # Its output ends only when no process of the demo's (Prefect's temporary server
        # among them) is left holding it.
        process.communicate(timeout=60)
    _check_the_hints(output, tmp_path)
    again = subprocess.run(
        [sys.executable, "-m", "perfplan.cli", "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert again.returncode == 5, again.stdout + again.stderr
    assert again.stderr.strip().splitlines() == [
        f"error: the database sqlite:///{tmp_path / 'demo.db'} holds 1 plan(s) already: the "
        "demo adds its people and Zhang's plan only to an empty database; point "
        "PERFPLAN_DATABASE_URL at a new one, or add them anyway with --force"
    ]


def _check_the_timeline(output: str, tmp_path: Path) -> None:
    for noise in ("ERROR", "Traceback", "Error flushing", "database is locked"):
        assert noise not in output
    assert "refused: signs as manager" in output  # Li cannot sign before Zhang
    assert "refused: start" in output  # nor start before HR signs
    assert "2026-08-28 11:30 │ wang     │ signs as HR  → agreed" in output
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
    messages = list((tmp_path / "demo-out" / "outbox").iterdir())
    assert any(m.name.endswith("-zh-CN.eml") for m in messages)
    assert any(m.name.endswith("-en.eml") for m in messages)
    written = {p.name for p in (tmp_path / "demo-out" / "reports").iterdir()}
    copies = {name for name in written if name.startswith("plan-1-copy-")}
    assert written - copies == {
        f"plan-1-evaluation.{locale}.{ext}" for locale in ("en", "zh-CN") for ext in ("html", "md")
    }
    named = [re.fullmatch(r"plan-1-copy-(\d)-[0-9a-f]{12}\.(html|pdf)", n) for n in copies]
    assert sorted(m.groups() for m in named if m) == [
        (n, ext) for n in "123" for ext in ("html", "pdf")
    ]


_REMINDER_KEY = re.compile(r"^[^:|]+:plan\d+:.*:L(\d+):")


def _check_the_simulation_agrees(demo_db: Path) -> None:
    """`perfplan simulate` of the demo's story (docs/examples/zhang-events.yaml) sends the
    very reminders and escalations the demo's sweeps recorded: when, which rung, to whom."""
    import sqlite3

    from perfplan.simulation.runner import Request, simulate

    with sqlite3.connect(demo_db) as db:
        rows = db.execute(
            "SELECT created_at, kind, dedup_key, role, recipient_name FROM notification"
        ).fetchall()
    recorded = sorted(
        (at[:16].replace(" ", "T"), kind, int(found.group(1)), role, name)
        for at, kind, key, role, name in rows
        if (found := _REMINDER_KEY.match(key))
    )
    story = ROOT / "docs" / "examples" / "zhang-events.yaml"
    timeline = simulate(Request(ROOT / "docs" / "examples" / "zhang.yaml", events_file=story))
    simulated = sorted(
        (line.at.isoformat()[:16], line.what.split()[0], line.level, r.role, r.name)
        for line in timeline.reminders
        for r in line.to
    )
    assert len(recorded) == 56
    assert simulated == recorded


def _serving(url: str) -> bool:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            return httpx.get(f"{url}/api/health", timeout=2).status_code == 200
        except httpx.TransportError:
            time.sleep(0.2)
    return False


def _check_the_pages(url: str, output: str) -> None:
    """Each printed log-in works, and each person sees Zhang's plan, as the story says."""
    assert f"The demo's pages: {url}/" in output
    assert _serving(url)
    for person in ("zhang", "li", "wang", "audrey"):
        assert f"│ {person}" in output and f"{person}-perfplan" in output
        with httpx.Client(base_url=url, timeout=30, follow_redirects=True) as browser:
            form = browser.get("/login")
            signed_in = browser.post(
                "/login",
                data={
                    "person": person,
                    "password": f"{person}-perfplan",
                    "csrf_token": csrf_of(form.text),
                    "next": "/plans/1",
                },
            )
        assert signed_in.status_code == 200, (person, signed_in.text[:300])
        assert str(signed_in.url).endswith("/plans/1"), person
        assert "Zhang San" in signed_in.text, person


def _check_the_hints(output: str, tmp_path: Path) -> None:
    """The closing hints, pasted into a shell in the same folder, open the demo's database
    (and create no other)."""
    hints = [line.strip() for line in output.splitlines() if "PERFPLAN_DATABASE_URL=" in line]
    assert len(hints) == 3
    for hint in hints:
        done = subprocess.run(
            hint, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
    assert (
        "Zhang San"
        in subprocess.run(
            hints[0], shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=120
        ).stdout
    )
    assert not (tmp_path / "perfplan.db").exists()


def test_known_passwords_are_never_given_on_a_database_in_use(tmp_path: Path) -> None:
    refused = subprocess.run(
        [sys.executable, "-m", "perfplan.cli", "demo", "--web", "--force"],
        env=_demo_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert refused.returncode == 2
    assert "leave out --force" in refused.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_demo_s_script_runs_forward_in_time() -> None:
    """Each step takes effect after the one before: a record dated before its predecessor
    would not hold up (the second adjustment was once played after October's steps)."""
    from datetime import datetime

    from perfplan.demo import SCRIPT

    instants = [datetime.fromisoformat(when) for when, _step in SCRIPT]
    assert instants == sorted(instants)
