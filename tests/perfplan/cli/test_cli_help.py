"""`--help` of every command, as a newcomer reads it: flags take no value, arguments are
named as usage lines name them, sentences are not broken where the source wrapped them,
defaults are shown, and the commands come in the order one needs them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from typer.core import TyperOption

from perfplan.web.settings import WebSettings
from tests.conftest import Run, cli_runner


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, child in getattr(command, "commands", {}).items():
        yield from _commands(child, (*path, name))


# Imported here, at collection, without the COLUMNS a test runner may have set: the
# command line's consoles would keep that width for every later test in the process.
with pytest.MonkeyPatch.context() as _unset:
    _unset.delenv("COLUMNS", raising=False)
    from perfplan import cli
COMMANDS = list(_commands(cli.command()))


def _help(capsys: pytest.CaptureFixture[str], *path: str, width: int = 100) -> Run:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLUMNS", str(width))
        return cli_runner(capsys)(*path, "--help")


def test_every_command_is_reached() -> None:
    assert len(COMMANDS) > 40
    assert ("plan", "report-progress") in COMMANDS and ("web",) in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "perfplan")
def test_help_reads_as_a_newcomer_expects(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    shown = _help(capsys, *path)
    assert shown.code == 0, shown.err
    assert "<bool>" not in shown.out  # a flag takes no value
    assert "{" not in shown.out  # PLAN_ID, not {plan_id}
    usage = next(line for line in shown.out.splitlines() if "Usage:" in line)
    assert usage == usage.upper().replace("USAGE", "Usage").replace("PERFPLAN", "perfplan") or (
        not re.search(r"\b[a-z]+_[a-z]+\b", usage)
    )


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "perfplan")
def test_every_default_is_shown(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    command: Any = cli.command()
    for name in path:
        command = command.commands[name]
    shown = " ".join(_help(capsys, *path, width=400).out.split())
    for option in command.params:
        if not isinstance(option, TyperOption) or option.is_flag:
            continue
        if isinstance(option.show_default, str):
            assert f"[default: ({option.show_default})]" in shown, option.opts
        elif option.default not in (None, ""):
            assert "[default: " in shown and str(getattr(option.default, "value", "")) in shown


def test_a_docstring_wrapped_in_the_source_reads_as_one_sentence(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`report`'s docstring wraps after "evaluated": the terminal, not the source, wraps it."""
    shown = " ".join(_help(capsys, width=300).out.replace("│", " ").split())
    assert "provisional until evaluated (open milestones are then judged as of --now)." in shown
    report = " ".join(_help(capsys, "report", width=300).out.split())
    assert "until evaluated (open milestones are then judged" in report


def test_the_usage_names_the_argument_in_capitals(capsys: pytest.CaptureFixture[str]) -> None:
    shown = _help(capsys, "plan", "show").out
    assert "Usage: perfplan plan show [OPTIONS] PLAN_ID" in shown
    missing = cli_runner(capsys)("plan", "show")
    assert missing.code == 2
    assert "Missing argument 'PLAN_ID'" in missing.err


def test_commands_come_in_the_order_a_newcomer_needs_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    shown = _help(capsys, width=200).out
    order = [
        re.search(rf"│ {name} ", shown).start()  # type: ignore[union-attr]
        for name in ("init", "demo", "plan", "people", "report", "audit", "web", "sweep", "db")
    ]
    assert order == sorted(order)
    assert shown.index("Start here") < shown.index("Administration")


def test_the_web_defaults_shown_are_the_settings(capsys: pytest.CaptureFixture[str]) -> None:
    settings = WebSettings()
    shown = " ".join(_help(capsys, "web", width=300).out.split())
    assert f"PERFPLAN_WEB_HOST, or {settings.host}" in shown
    assert f"PERFPLAN_WEB_PORT, or {settings.port}" in shown
    assert f"PERFPLAN_WEB_WORKERS, or {settings.workers}" in shown
