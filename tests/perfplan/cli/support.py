"""What the people and token commands' tests share: a `cli` fixture on Zhang's plan."""

from __future__ import annotations

import pytest

from tests.conftest import ZHANG_FILE, Cli, cli_runner


@pytest.fixture(name="cli")
def zhangs_plan_on_drafting_day(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db_url: str
) -> Cli:
    """Zhang's plan opened, and every command's clock on 25 August 2026 (PERFPLAN_NOW)."""
    monkeypatch.setenv("PERFPLAN_DATABASE_URL", db_url)
    monkeypatch.setenv("PERFPLAN_NOW", "2026-08-25T09:00")
    monkeypatch.setenv("COLUMNS", "200")
    run = cli_runner(capsys)
    assert run("init").code == 0
    assert run("plan", "create", str(ZHANG_FILE), "--as", "wang").code == 0
    return run
