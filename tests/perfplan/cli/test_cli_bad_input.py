"""What a careless user types at the command line gets one sentence and a non-zero exit:
ids past what the database holds, numbers past their bounds, a database URL that opens
nothing, a report folder that cannot be written. Each of these printed a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.perfplan.cli.conftest import zhangs_plan

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    "args",
    [
        ("plan", "show", HUGE),
        ("plan", "fire", HUGE, "agree", "--as", "wang"),
        ("plan", "coach", HUGE, "--as", "li", "--notes", "x"),
        ("report", HUGE),
        ("audit", "log", HUGE),
        ("audit", "verify", HUGE),
        ("notify", "retry", HUGE),
        ("notify", "show", HUGE),
        ("token", "revoke", HUGE),
    ],
)
def test_an_id_past_the_largest_the_database_holds_is_refused(
    initialised: Cli, args: tuple[str, ...]
) -> None:
    result = initialised(*args)

    assert result.code == 2, (result.code, result.err)
    assert "2147483647" in result.err


def test_coaching_minutes_are_bounded_as_the_api_bounds_them(initialised: Cli) -> None:
    plan = zhangs_plan(initialised)

    result = initialised(
        "plan", "coach", str(plan), "--as", "li", "--notes", "x", "--minutes", str(10**23)
    )

    assert result.code == 2, result.err
    assert "600" in result.err


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("bogus://", "bogus://…"),
        ("notaurl", "not a URL"),
        ("mysql://someone:secret@db.example.com/hr", "mysql://…"),
    ],
)
def test_a_database_url_that_opens_nothing_is_one_sentence(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, url: str, shown: str
) -> None:
    monkeypatch.setenv("PERFPLAN_DATABASE_URL", url)

    for args in (("plan", "list"), ("init",), ("web",)):
        result = cli(*args)
        assert result.code == 7, (args, result.code, result.err)
        assert f"PERFPLAN_DATABASE_URL ({shown}) is not a database perfplan can open" in (
            result.err
        )
        assert "secret" not in result.err + result.out
        assert "perfplan web on" not in result.out  # refused before it says it serves


def test_a_report_folder_that_is_a_file_is_refused(initialised: Cli, tmp_path: Path) -> None:
    plan = zhangs_plan(initialised)
    taken = tmp_path / "taken"
    taken.write_text("keep me", encoding="utf-8")

    result = initialised("report", str(plan), "--out", str(taken))

    assert result.code == 2, result.err
    assert "taken" in result.err
    assert taken.read_text(encoding="utf-8") == "keep me"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_a_report_folder_that_cannot_be_written_is_one_sentence(
    initialised: Cli, tmp_path: Path
) -> None:
    plan = zhangs_plan(initialised)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = initialised("report", str(plan), "--out", str(locked / "reports"))
    finally:
        locked.chmod(0o700)

    assert result.code == 2, result.err
    assert f"cannot write to {locked / 'reports'}: permission denied" in result.err


def test_a_report_folder_under_a_file_is_one_sentence(initialised: Cli, tmp_path: Path) -> None:
    plan = zhangs_plan(initialised)
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")

    result = initialised("report", str(plan), "--out", str(tmp_path / "notes.txt" / "reports"))

    assert result.code == 2, result.err
    assert "cannot write to" in result.err
    assert "not a directory" in result.err


@pytest.mark.parametrize("revision", ["1", "0", "0001x", "base", "+2", "heads:x"])
def test_a_revision_that_is_not_one_is_refused(initialised: Cli, revision: str) -> None:
    result = initialised("db", "upgrade", revision)

    assert result.code == 2, (result.code, result.err)
    assert f"cannot upgrade to '{revision}'" in result.err
    assert "0001" in result.err  # the revisions there are


@pytest.mark.parametrize("moment", ["0001-01-01T00:00+05:00", "9999-12-31T23:59-05:00"])
def test_an_instant_outside_the_years_held_is_refused(initialised: Cli, moment: str) -> None:
    initialised("people", "add", "ou", "--name", "Ou", "--email", "ou@example.com")

    for args in (("token", "create", "ou", "--expires", moment), ("plan", "list", "--now", moment)):
        result = initialised(*args)
        assert result.code == 2, (args, result.code, result.err)
        assert "ISO-8601" in result.err
