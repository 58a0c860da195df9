"""`perfplan` itself: its help starts without the database or Prefect."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ZHANG_FILE, cli_runner


def test_help_does_not_import_prefect_or_the_database() -> None:
    code = (
        "import sys\nfrom perfplan import cli\n"
        "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('prefect', 'sqlalchemy', 'sqlmodel') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Start here" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "[]"


# Run in a fresh process on a database with Zhang's plan: the reads of one plan, then a
# write of one, each printing which heavy libraries it had to load (none of these).
_LOADED_BY_COMMANDS = """
import sys
from perfplan import cli

HEAVY = ("prefect", "fastapi", "starlette", "uvicorn", "weasyprint", "jinja2")


def run(*argv):
    try:
        cli.main(list(argv))
    except SystemExit as done:
        assert not done.code, (argv, done.code)
    print("loaded:", sorted(m for m in HEAVY if m in sys.modules))


run("plan", "show", "1")
run("plan", "list")
run("audit", "verify", "1")
run("plan", "sign", "1", "--as", "zhang", "--now", "2026-08-26T10:30")
"""


def test_commands_on_one_plan_load_no_prefect_web_server_or_pdf_renderer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Structural, not timed: reading one plan loads no templates, and signing one (whose
    messages it renders) no Prefect, FastAPI or WeasyPrint."""
    url = f"sqlite:///{tmp_path / 'light.db'}"
    monkeypatch.setenv("PERFPLAN_DATABASE_URL", url)
    cli = cli_runner(capsys)
    assert cli("init").code == 0
    assert (
        cli("plan", "create", str(ZHANG_FILE), "--as", "wang", "--now", "2026-08-25T09:00").code
        == 0
    )
    out = subprocess.run(
        [sys.executable, "-c", _LOADED_BY_COMMANDS],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "PERFPLAN_DATABASE_URL": url},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = [line for line in out.stdout.splitlines() if line.startswith("loaded:")]
    assert loaded[:3] == ["loaded: []"] * 3  # the reads
    assert loaded[3] == "loaded: ['jinja2']"  # the signature's messages, rendered at once
