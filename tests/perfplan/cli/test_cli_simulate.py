"""`perfplan simulate`: Zhang's plan played on a throwaway database with the real sweep —
the demo's story sends what the demo sends, everyone on time escalates nothing, and a
bad plan, events file or definition is one sentence that names file and line, with
nothing written anywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfplan.simulation.runner import Request, simulate
from perfplan.simulation.timeline import Line, Timeline
from tests.conftest import ROOT, ZHANG_FILE, Cli, cli_runner

ZHANG_EVENTS = ROOT / "docs" / "examples" / "zhang-events.yaml"
STANDARD = ROOT / "states" / "definitions" / "builtin" / "standard.yaml"

# What `perfplan demo` sends from its sweeps (tests/perfplan/cli/test_cli_demo.py
# checks the demo's own database against the simulation of the same story).
DEMO_ESCALATIONS = [
    ("2026-10-10T02:00", "milestone_overdue report_1", 1, ["employee", "manager"]),
    ("2026-10-14T02:00", "milestone_overdue report_1", 2, ["department_head"]),
]


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """The user's database: a simulation never opens it, on any database (so SQLite only)."""
    return f"sqlite:///{tmp_path / 'users.db'}"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db_url: str) -> Cli:
    monkeypatch.setenv("PERFPLAN_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "200")
    return cli_runner(capsys)


def said(line: Line) -> tuple[str, str, int, list[str]]:
    return (line.at.isoformat()[:16], line.what, line.level, [r.role for r in line.to])


@pytest.fixture(scope="module")
def demo_story() -> Timeline:
    return simulate(Request(ZHANG_FILE, events_file=ZHANG_EVENTS))


@pytest.fixture(scope="module")
def on_time() -> Timeline:
    return simulate(Request(ZHANG_FILE))


def test_the_demo_s_story_climbs_report_1_s_ladder_and_no_further(demo_story: Timeline) -> None:
    escalations = [said(line) for line in demo_story.reminders if line.level]
    # The signature reminder to Wang (level 1 of signature_pending), then report_1's rungs:
    # Zhang and Li on the make-up Saturday, the head of Sales East three business days on
    # (National Day's days skipped); the adjustment cancels the HR rung.
    assert escalations[0] == ("2026-08-27T02:00", "signature_requested agree", 1, ["hr"])
    assert escalations[1:] == DEMO_ESCALATIONS
    head = next(line for line in demo_story.reminders if line.level == 2)
    assert [(r.name, r.locale) for r in head.to] == [("孙浩 Sun Hao", "zh-CN")]
    assert demo_story.final_state == "evaluated"
    kinds = {line.what.split()[0] for line in demo_story.reminders}
    assert kinds == {
        "signature_requested",
        "milestone_due_soon",
        "progress_report_due",
        "coaching_session_due",
        "milestone_overdue",
        "evaluation_due",
    }


def test_everyone_on_time_escalates_nothing_and_the_calendar_is_china_s(
    on_time: Timeline,
) -> None:
    assert [said(line) for line in on_time.reminders if line.level] == []
    assert on_time.final_state == "evaluated"
    assert said(on_time.reminders[-1]) == (
        "2026-12-01T02:00",
        "evaluation_due",
        0,
        ["manager", "hr"],
    )
    due_soon = [line.what for line in on_time.reminders if line.what.startswith("milestone_due")]
    assert len(due_soon) == 9  # one for each milestone of the plan
    calendar = {
        line.at.date().isoformat(): line.what
        for line in on_time.lines
        if line.category == "calendar"
    }
    assert calendar["2026-10-01"] == "holiday: National Day"
    assert calendar["2026-10-10"] == "make-up working day (weekend)"
    assert on_time.seconds < 60  # a few seconds on a quiet machine: the run time is reported


def _one_sentence(result: object) -> str:
    err: str = result.err  # type: ignore[attr-defined]
    assert result.code == 2, err  # type: ignore[attr-defined]
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ("- {day: 2, as: li, event: agree\n", "is not valid YAML"),
        ("- {day: 2, as: liu, event: agree}\n", "line 1: unknown person 'liu'"),
        ("- {day: 1, as: li, event: agree}\n- {day: 0, as: li, event: start}\n", "line 2: day 0"),
        ("- {day: 3, as: li, event: promote}\n", "unknown event of the definition 'promote'"),
        ("- {day: 3, miss: report_9}\n", "miss: 'report_9' is no milestone"),
    ],
)
def test_a_bad_events_file_is_one_sentence_and_writes_nothing(
    cli: Cli, tmp_path: Path, db_url: str, events: str, expected: str
) -> None:
    script = tmp_path / "events.yaml"
    script.write_text(events)
    err = _one_sentence(cli("simulate", str(ZHANG_FILE), "--events", str(script)))
    assert f"{script}" in err and expected in err
    assert not Path(db_url.removeprefix("sqlite:///")).exists()


def test_a_definition_not_installed_is_checked_first_and_its_code_said(
    cli: Cli, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(STANDARD.read_text().replace("dest: evaluated", "dest: evaluatd"))
    err = _one_sentence(cli("simulate", str(ZHANG_FILE), "--definition", str(broken)))
    assert "UNREACHABLE_STATE at states.evaluated" in err and str(broken) in err


def test_a_definition_file_is_played_and_json_is_one_document(
    cli: Cli, tmp_path: Path, db_url: str
) -> None:
    faster = tmp_path / "faster.yaml"
    faster.write_text(
        STANDARD.read_text()
        .replace("name: standard", "name: faster")
        .replace("signature_pending: 2 business days", "signature_pending: 1 business days")
    )
    script = tmp_path / "late.yaml"
    script.write_text("- {day: 4, as: wang, event: agree}\n")
    result = cli(
        "simulate",
        str(ZHANG_FILE),
        "--definition",
        str(faster),
        "--events",
        str(script),
        "--days",
        "5",
        "--json",
    )
    assert result.code == 0, result.err
    document = result.json()
    assert isinstance(document, dict)
    assert document["definition"] == {"name": "faster", "version": 1}
    assert document["sent"] is False
    reminders = [
        (line["at"][:10], line["what"], [r["name"] for r in line["to"]])
        for line in document["lines"]
        if line["category"] == "reminder"
    ]
    # Wang waits: reminded after one business day, not two; Zhang and Li signed on day 0.
    assert reminders[0] == ("2026-08-26", "signature_requested agree", ["王芳 Wang Fang"])
    assert not Path(db_url.removeprefix("sqlite:///")).exists()
