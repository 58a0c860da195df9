"""The command line's world: `perfplan ARGS...` run in-process on a fresh database
(`tests.conftest.cli_runner`), and Zhang's plan opened through it."""

from __future__ import annotations

import pytest

from tests.conftest import ZHANG_FILE, Cli, cli_runner


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db_url: str) -> Cli:
    monkeypatch.setenv("PERFPLAN_DATABASE_URL", db_url)
    monkeypatch.delenv("PERFPLAN_NOW", raising=False)
    monkeypatch.setenv("COLUMNS", "200")

    return cli_runner(capsys)


@pytest.fixture
def initialised(cli: Cli) -> Cli:
    assert cli("init").code == 0
    return cli


def zhangs_plan(cli: Cli) -> int:
    result = cli(
        "plan", "create", str(ZHANG_FILE), "--as", "wang", "--json", "--now", "2026-08-25T09:00"
    )
    assert result.code == 0, result.err
    plan = result.json()
    assert isinstance(plan, dict)
    return int(plan["plan_id"])
