"""Each database writes its outbox and its reports to a folder of its own, named after it:
two databases used from one folder never overwrite each other's messages or reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.db import output_folder
from notifications.settings import NotificationSettings
from tests.conftest import ZHANG_FILE, Cli, cli_runner
from workflows import messages
from workflows.settings import WorkflowSettings


@pytest.mark.parametrize(
    ("url", "folder"),
    [
        ("sqlite:///perfplan.db", "perfplan-out"),
        ("sqlite:///perfplan-out/demo.db", "perfplan-out/demo-out"),
        ("sqlite:////srv/hr/plans.sqlite3", "/srv/hr/plans-out"),
        ("postgresql://perfplan@db/perfplan_eu", "perfplan_eu-out"),
    ],
)
def test_the_output_folder_is_named_after_the_database(url: str, folder: str) -> None:
    assert output_folder(url) == Path(folder)


def test_the_outbox_and_reports_default_to_the_databases_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PERFPLAN_OUTBOX_DIR", raising=False)
    monkeypatch.delenv("PERFPLAN_REPORTS_DIR", raising=False)
    monkeypatch.setenv("PERFPLAN_DATABASE_URL", "sqlite:///perfplan-out/demo.db")
    assert NotificationSettings().outbox_dir == Path("perfplan-out/demo-out/outbox")
    assert WorkflowSettings().reports_dir == Path("perfplan-out/demo-out/reports")
    monkeypatch.setenv("PERFPLAN_OUTBOX_DIR", "/var/spool/perfplan")
    assert NotificationSettings().outbox_dir == Path("/var/spool/perfplan")


def _walk(cli: Cli, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """A few commands on NAME.db, each as a process of its own would read its settings."""
    monkeypatch.setenv("PERFPLAN_DATABASE_URL", f"sqlite:///{name}.db")
    messages.config.cache_clear()
    assert cli("init").code == 0
    created = cli("plan", "create", str(ZHANG_FILE), "--as", "wang")
    assert created.code == 0, created.err
    assert cli("plan", "sign", "1", "--as", "zhang").code == 0
    assert cli("report", "1").code == 0


def test_two_databases_keep_their_messages_and_reports_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for variable in ("PERFPLAN_OUTBOX_DIR", "PERFPLAN_REPORTS_DIR", "PERFPLAN_NOTIFY_CONFIG"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PERFPLAN_NOW", "2026-08-26T10:30")
    cli = cli_runner(capsys)
    _walk(cli, monkeypatch, "walk")
    _walk(cli, monkeypatch, "trial")
    for name in ("walk", "trial"):
        folder = tmp_path / f"{name}-out"
        assert len(list((folder / "reports").glob("plan-1-evaluation.*"))) == 4
        assert list((folder / "outbox").glob("*.eml"))  # the signature's messages
    assert not (tmp_path / "perfplan-out").exists()
    messages.config.cache_clear()
