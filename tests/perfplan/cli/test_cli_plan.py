"""`perfplan plan ...`, run in-process through `main(argv)`: the real argument
parsing, services, database and error-to-exit-code mapping."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ZHANG_FILE, Cli
from tests.perfplan.cli.conftest import zhangs_plan
from tests.postgres import PostgresFactory


def _state(cli: Cli, plan_id: int) -> str:
    detail = cli("plan", "show", str(plan_id), "--json").json()
    assert isinstance(detail, dict)
    return str(detail["plan"]["state"])


def test_zhangs_plan_whole_life_through_the_cli(initialised: Cli) -> None:
    cli = initialised
    plan = str(zhangs_plan(cli))
    for who, when in (("zhang", "2026-08-26T10:30"), ("li", "2026-08-26T15:00")):
        assert cli("plan", "sign", plan, "--as", who, "--now", when).code == 0
    assert _state(cli, int(plan)) == "drafted"
    assert cli("plan", "sign", plan, "--as", "wang", "--now", "2026-08-27T11:00").code == 0
    assert _state(cli, int(plan)) == "agreed"
    assert cli("plan", "fire", plan, "start", "--as", "li", "--now", "2026-09-01T09:00").code == 0
    assert (
        cli(
            "plan",
            "report-progress",
            plan,
            "--as",
            "zhang",
            "--summary",
            "2 reports done this week, 1 approved",
            "--now",
            "2026-09-04T18:00",
        ).code
        == 0
    )
    assert (
        cli(
            "plan",
            "coach",
            plan,
            "--as",
            "li",
            "--notes",
            "template first",
            "--now",
            "2026-09-07T10:00",
        ).code
        == 0
    )
    assert (
        cli(
            "plan", "complete", plan, "training_attended", "--as", "li", "--now", "2026-09-15T17:00"
        ).code
        == 0
    )
    adjusted = cli(
        "plan",
        "adjust",
        plan,
        "--as",
        "li",
        "--milestone",
        "report_1",
        "--set",
        "due=2026-10-16",
        "--reason",
        "data came late",
        "--now",
        "2026-10-12T10:00",
    )
    assert adjusted.code == 0, adjusted.err
    assert _state(cli, int(plan)) == "adjusted"
    for who in ("zhang", "li"):
        assert cli("plan", "sign", plan, "--as", who, "--now", "2026-10-12T14:00").code == 0
    assert _state(cli, int(plan)) == "in_progress"
    for goal, value in (
        ("contracts", "95"),
        ("training", "86"),
        ("reports", "100"),
        ("response_time", "24"),
    ):
        assert (
            cli(
                "plan", "measure", plan, goal, value, "--as", "li", "--now", "2026-11-30T16:00"
            ).code
            == 0
        )
    done = cli(
        "plan",
        "fire",
        plan,
        "evaluate",
        "--as",
        "li",
        "--input",
        "outcome=successful",
        "--now",
        "2026-12-01T10:00",
        "--json",
    )
    assert done.code == 0, done.err
    assert done.json() == {**done.json(), "from_state": "in_progress", "to_state": "evaluated"}
    detail = cli("plan", "show", plan, "--json").json()
    assert isinstance(detail, dict)
    results = {r["goal_id"]: r for r in detail["results"]}
    goals = {g["key"]: g for g in detail["goals"]}
    assert results[goals["contracts"]["id"]]["met"] is False  # 95 % of a 100 % target
    assert results[goals["contracts"]["id"]]["attainment"] == pytest.approx(0.875)
    assert results[goals["response_time"]["id"]]["met"] is True  # 48 h → 24 h, lowered
    assert results[goals["reports"]["id"]]["actual"] == 100
    verified = cli("audit", "verify", "--json").json()
    assert isinstance(verified, dict)
    assert verified["ok"] is True
    log = cli("audit", "log", plan, "--format", "json").json()
    assert isinstance(log, list)
    assert [r["event"] for r in log if r["kind"] == "transition"] == [
        "create",
        "agree",
        "start",
        "adjust",
        "reconfirm",
        "evaluate",
    ]
    assert log[-1]["at"].startswith("2026-12-01T10:00")


def test_malformed_plan_file_names_every_problem_and_writes_nothing(
    initialised: Cli, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        ZHANG_FILE.read_text()
        .replace("direction: lower", "direction: down")
        .replace("priority: 3", "priority: 12")
    )
    result = initialised("plan", "create", str(bad), "--as", "wang")
    assert result.code == 2
    assert "goals.3.direction" in result.err
    assert "goals.3.priority" in result.err
    assert initialised("plan", "list", "--json").json() == []


def _ids(result: Any) -> list[int]:
    assert result.code == 0, result.err
    return [plan["id"] for plan in result.json()]


def test_plan_list_filters_and_shows_what_a_person_may_see(
    initialised: Cli, tmp_path: Path
) -> None:
    cli = initialised
    zhang = zhangs_plan(cli)
    # A second plan, for Zhao of Technical Support: Zhang has no part in it.
    text = (
        ZHANG_FILE.read_text()
        .replace("  employee: zhang\n", "  employee: zhao\n")
        .replace("  collaborator: [zhao]\n", "")
        .replace("executor: zhang", "executor: zhao")
        .replace("collaborators: [zhao]", "collaborators: []")
    )
    (tmp_path / "zhao.yaml").write_text(text)
    created = cli(
        "plan",
        "create",
        str(tmp_path / "zhao.yaml"),
        "--as",
        "wang",
        "--json",
        "--now",
        "2026-08-25T09:00",
    )
    zhao = int(created.json()["plan_id"])

    assert _ids(cli("plan", "list", "--json")) == [zhao, zhang]  # the operator: every plan
    assert _ids(cli("plan", "list", "--as", "zhang", "--json")) == [zhang]
    assert _ids(cli("plan", "list", "--as", "sun", "--json")) == [zhang]  # heads Sales East
    department = cli("plan", "list", "--department", "Technical Support", "--json")
    assert _ids(department) == [zhao]
    # The training is due on 15 September: late on the 20th, not on the 10th, and only
    # on a plan whose milestones run: Zhao's, still drafted, has nothing late.
    for who, when in (("zhang", "08-26T10:30"), ("li", "08-26T15:00"), ("wang", "08-27T11:00")):
        assert cli("plan", "sign", str(zhang), "--as", who, "--now", f"2026-{when}").code == 0
    started = cli("plan", "fire", str(zhang), "start", "--as", "li", "--now", "2026-09-01T09:00")
    assert started.code == 0, started.err
    assert _ids(cli("plan", "list", "--overdue", "--now", "2026-09-10", "--json")) == []
    late = cli("plan", "list", "--overdue", "--now", "2026-09-20", "--json")
    assert _ids(late) == [zhang]
    assert [plan["overdue_milestones"] for plan in late.json()] == [1]
    on_time = cli("plan", "list", "--on-time", "--now", "2026-09-20", "--json")
    assert _ids(on_time) == [zhao]
    table = cli("plan", "list", "--now", "2026-09-20")
    assert "Technical Support" in table.out and "2026-09-30" in table.out  # the next one due
    unknown = cli("plan", "list", "--as", "nobody")
    assert (unknown.code, "no person with key 'nobody'" in unknown.err) == (3, True)


def test_plan_show_marks_late_milestones_as_of_now(initialised: Cli) -> None:
    plan = str(zhangs_plan(initialised))
    shown = initialised("plan", "show", plan, "--now", "2026-10-12").out
    rows = {line.split("│")[1].strip(): line for line in shown.splitlines() if "│" in line}
    assert "late (27 d)" in rows["training_attended"]  # due 15 September
    assert "late (12 d)" in rows["training_passed"]  # due 30 September
    assert "late" not in rows["contracts_oct"] and "due" in rows["contracts_oct"]
    earlier = initialised("plan", "show", plan, "--now", "2026-09-01").out
    assert "late" not in earlier


def test_impossible_date_names_its_place(initialised: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        ZHANG_FILE.read_text().replace("period: {start: 2026-09-01", "period: {start: 2026-13-01")
    )
    result = initialised("plan", "create", str(bad), "--as", "wang")
    assert result.code == 2
    assert "period.start" in result.err
    assert "2026-13-01" in result.err
    assert initialised("plan", "list", "--json").json() == []


def test_unknown_person_in_document_and_on_command_line(initialised: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(ZHANG_FILE.read_text().replace("  hr: wang", "  hr: wnag"))
    result = initialised("plan", "create", str(bad), "--as", "wang")
    assert result.code == 2
    assert "roles.hr: unknown person 'wnag'" in result.err
    plan = str(zhangs_plan(initialised))
    refused = initialised("plan", "sign", plan, "--as", "zhnag")
    assert refused.code == 3
    assert "no person with key 'zhnag'" in refused.err


def test_refusals_have_distinct_exit_codes_and_change_nothing(initialised: Cli) -> None:
    cli = initialised
    plan = str(zhangs_plan(cli))
    before = cli("plan", "show", plan, "--json").json()
    not_now = cli("plan", "fire", plan, "start", "--as", "li")
    assert (not_now.code, "possible now: agree" in not_now.err) == (5, True)
    too_early = cli("plan", "sign", plan, "--as", "li")
    assert (too_early.code, "waits for employee first" in too_early.err) == (5, True)
    forbidden = cli("plan", "sign", plan, "--as", "chen")
    assert (forbidden.code, "chen's roles: mentor" in forbidden.err) == (4, True)
    unknown_event = cli("plan", "fire", plan, "promote", "--as", "li")
    assert (unknown_event.code, "no event 'promote'" in unknown_event.err) == (2, True)
    missing = cli("plan", "show", "99")
    assert (missing.code, "no plan with id 99" in missing.err) == (3, True)
    stale = cli("plan", "sign", plan, "--as", "zhang", "--expect-version", "0")
    assert (stale.code, "changed by someone else" in stale.err) == (6, True)
    assert cli("plan", "show", plan, "--json").json() == before


def test_now_comes_from_the_environment(initialised: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = str(zhangs_plan(initialised))
    monkeypatch.setenv("PERFPLAN_NOW", "2026-08-26T10:30:00")
    assert initialised("plan", "sign", plan, "--as", "zhang").code == 0
    log = initialised("audit", "log", plan, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(log.out)))
    assert rows[-1]["event"] == "sign:agree"
    assert rows[-1]["at"] == "2026-08-26T10:30:00+00:00"


def test_bad_now_is_a_usage_error(initialised: Cli) -> None:
    result = initialised("plan", "list", "--state", "drafted", "init")
    assert result.code == 2
    bad = initialised("plan", "create", str(ZHANG_FILE), "--as", "wang", "--now", "tomorrow")
    assert bad.code == 2
    assert "--now" in bad.err


def test_uninitialised_database_says_run_init(
    cli: Cli, db_url: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db_url.startswith("postgresql"):  # the fixture's databases come migrated
        postgres: PostgresFactory = request.getfixturevalue("postgres")
        monkeypatch.setenv("PERFPLAN_DATABASE_URL", postgres.empty())
    result = cli("plan", "list")
    assert result.code == 7
    assert "perfplan init" in result.err


def _started(cli: Cli) -> str:
    """Zhang's plan, signed off and started by Li on 1 September."""
    plan = str(zhangs_plan(cli))
    for who, when in (("zhang", "08-26T10:30"), ("li", "08-26T15:00"), ("wang", "08-27T11:00")):
        assert cli("plan", "sign", plan, "--as", who, "--now", f"2026-{when}").code == 0
    assert cli("plan", "fire", plan, "start", "--as", "li", "--now", "2026-09-01T09:00").code == 0
    return plan


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (
            ("coach", "--as", "li", "--notes", "x", "--minutes", str(10**23)),
            "minutes: must be at most 600",
        ),
        (
            ("report-progress", "--as", "zhang", "--summary", "x" * 900_000),
            "summary: 900000 characters, more than the 4000 allowed",
        ),
        (("report-progress", "--as", "zhang", "--summary", "done\x00"), "summary: a NUL character"),
        (("coach", "--as", "li", "--notes", "\x00"), "notes: a NUL character cannot be stored"),
        (("measure", "--as", "li", "--", "contracts", "nan"), "value: must be a finite number"),
        (("measure", "--as", "li", "--", "contracts", "inf"), "value: must be a finite number"),
        (("measure", "--as", "li", "--note", "\x00", "--", "contracts", "70"), "note: a NUL"),
        (
            ("complete", "--as", "li", "--comment", "\x00", "--", "training_attended"),
            "comment: a NUL",
        ),
        (
            ("fire", "--as", "li", "--comment", "x" * 4001, "--", "adjust"),
            "comment: 4001 characters",
        ),
        (("fire", "--as", "li", "--input", "why=\x00", "--", "adjust"), "inputs.why: a NUL"),
        (("sign", "--as", "li", "--event", "x" * 201), "event: 201 characters"),
        (
            (
                "adjust",
                "--as",
                "li",
                "--milestone",
                "report_1",
                "--set",
                "title=\x00",
                "--reason",
                "x",
            ),
            "changes.title: a NUL character cannot be stored",
        ),
    ],
)
def test_an_activity_refuses_what_the_api_refuses_in_one_line(
    initialised: Cli, args: tuple[str, ...], sentence: str
) -> None:
    """Coaching minutes beyond any talk's length and a measured NaN crashed with a
    traceback; a 900 KB summary and NUL characters were stored: the commands take the
    API's own models."""
    plan = _started(initialised)
    before = initialised("plan", "show", plan, "--json").json()
    command, *rest = args
    result = initialised("plan", command, "--now", "2026-09-07T10:00", plan, *rest)
    assert result.code == 2, result.err[:300]
    assert sentence in result.err, result.err[:300]
    assert result.err.strip().count("\n") == 0, result.err[:300]  # one line, no traceback
    assert initialised("plan", "show", plan, "--json").json() == before


def test_a_plan_document_with_a_nul_character_is_refused(initialised: Cli, tmp_path: Path) -> None:
    """PostgreSQL cannot store NUL in text: `plan create` refuses it as the API does."""
    bad = tmp_path / "bad.yaml"
    yaml_nul = '    title: "Bring\\0 new-customer contracts back"'  # YAML's escape for NUL
    plain = "    title: Bring new-customer contracts back to target"
    bad.write_text(ZHANG_FILE.read_text().replace(plain, yaml_nul, 1))
    result = initialised("plan", "create", str(bad), "--as", "wang")
    assert result.code == 2, result.err
    assert "goals.0.title: a NUL character cannot be stored" in result.err
    assert initialised("plan", "list", "--json").json() == []


def test_a_change_and_its_effects_share_one_database_engine(
    initialised: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import models.db

    plan = str(zhangs_plan(initialised))
    built: list[str] = []
    real = models.db.make_engine

    def counted(url: str | None = None, **kwargs: Any) -> Any:
        built.append(str(url))
        return real(url, **kwargs)

    monkeypatch.setattr(models.db, "make_engine", counted)
    signed = initialised("plan", "sign", plan, "--as", "zhang", "--now", "2026-08-26T10:30")
    assert signed.code == 0
    assert len(built) == 1  # the signature, then its effects (the next signers are asked)


def test_a_lock_after_the_commit_leaves_the_follow_ups_and_the_change_succeeds(
    initialised: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from workflows import dispatch

    plan = str(zhangs_plan(initialised))
    for who, when in (("zhang", "2026-08-26T10:30"), ("li", "2026-08-26T15:00")):
        assert initialised("plan", "sign", plan, "--as", who, "--now", when).code == 0
    assert initialised("plan", "sign", plan, "--as", "wang", "--now", "2026-08-27T11:00").code == 0

    def locked(*args: Any, **kwargs: Any) -> Any:
        # What SQLite raises once its busy timeout has run out behind another writer.
        raise OperationalError(
            "UPDATE outbox ...", {}, sqlite3.OperationalError("database is locked")
        )

    monkeypatch.setattr(dispatch, "dispatch_pending", locked)
    fired = initialised("plan", "fire", plan, "start", "--as", "li", "--now", "2026-09-01T09:00")

    assert fired.code == 0, fired.err
    assert f"Plan {plan}: start agreed → in_progress" in fired.out
    assert "follow-ups are left to the dispatcher" in fired.err
    assert "database is locked" in fired.err and "UPDATE" not in fired.err
    assert _state(initialised, int(plan)) == "in_progress"
    waiting = initialised("status", "--json", "--now", "2026-09-01T09:01").json()
    assert waiting["effects"]["waiting"] >= 1  # left in the outbox for `perfplan dispatch`
    # Firing it again is refused for what it is: the plan is already in progress.
    assert initialised("plan", "fire", plan, "start", "--as", "li").code == 5
