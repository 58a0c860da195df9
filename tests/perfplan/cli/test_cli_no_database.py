"""A command that reads or changes plans never creates the database it was pointed at:
a SQLite file that does not exist is one sentence (run `perfplan init`), exit 7, and
no empty file left behind; `init` and `db upgrade` are what create one."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.conftest import ZHANG_FILE, cli_runner

COMMANDS = [
    ("plan", "show", "1"),
    ("plan", "list"),
    ("plan", "create", str(ZHANG_FILE), "--as", "wang"),
    ("plan", "sign", "1", "--as", "zhang"),
    ("people", "list"),
    ("people", "grant", "audrey", "auditor"),
    ("token", "list"),
    ("audit", "log", "1"),
    ("audit", "verify"),
    ("report", "1"),
    ("status",),
    ("sweep",),
    ("dispatch",),
    ("serve",),
    ("db", "current"),
    ("notify", "failed"),
    ("config", "diagram", "standard", "--plan", "1"),
    ("web", "--port", "1"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_missing_sqlite_file_is_one_sentence_and_stays_missing(
    command: tuple[str, ...],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PERFPLAN_DATABASE_URL", "sqlite:///walk.db")
    monkeypatch.setenv("COLUMNS", "300")
    done = cli_runner(capsys)(*command)
    assert done.code == 7, done.err
    assert done.err.strip().splitlines() == [
        "error: there is no database at walk.db (sqlite:///walk.db): run `perfplan init` to "
        "create it (or `perfplan db upgrade`), or set PERFPLAN_DATABASE_URL to an existing one"
    ]
    assert list(tmp_path.iterdir()) == []


def test_init_creates_the_file_the_others_then_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PERFPLAN_DATABASE_URL", "sqlite:///walk.db")
    cli = cli_runner(capsys)
    assert cli("init").code == 0
    assert (tmp_path / "walk.db").is_file()
    listed = cli("plan", "list", "--json")
    assert listed.code == 0, listed.err
    assert listed.json() == []


def test_an_empty_file_is_a_database_without_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What an older perfplan left behind is told apart: the file is there, the tables not."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PERFPLAN_DATABASE_URL", "sqlite:///walk.db")
    (tmp_path / "walk.db").write_bytes(b"")
    done = cli_runner(capsys)("plan", "show", "1")
    assert done.code == 7
    assert "has no perfplan tables yet: run `perfplan init`" in done.err


@pytest.mark.parametrize("command", [("plan", "list"), ("init",), ("status",)], ids=" ".join)
def test_a_refused_postgresql_connection_is_one_sentence(
    command: tuple[str, ...], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("PERFPLAN_DATABASE_URL", f"postgresql://perfplan@127.0.0.1:{port}/perfplan")
    monkeypatch.setenv("COLUMNS", "300")
    done = cli_runner(capsys)(*command)
    assert done.code != 0
    lines = done.err.strip().splitlines()
    assert len(lines) == 1, done.err
    assert lines[0].startswith("error: the database refused: ")
    assert "Connection refused" in lines[0]
    assert "sqlalche.me" not in done.err and "[SQL" not in done.err
