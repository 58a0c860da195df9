"""What people type is printed as they typed it: a title, a name or a token's purpose with
Rich markup in it (`[/]`, `[bold]`) is text, never styling, in every table and sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ZHANG_FILE, Cli

TITLE = "Zhang [/] contracts [bold]Q4[/bold] [red]"
NAME = "Auditor [/] [link=x]Ou[/link]"


def _marked_plan(tmp_path: Path) -> Path:
    text = ZHANG_FILE.read_text(encoding="utf-8")
    first = text.splitlines()[2]
    assert first.startswith("title:")
    marked = tmp_path / "marked.yaml"
    marked.write_text(text.replace(first, f"title: {TITLE!r}"), encoding="utf-8")
    return marked


@pytest.fixture
def marked(initialised: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("COLUMNS", "400")  # every column whole: the token table is wide
    created = initialised(
        "plan", "create", str(_marked_plan(tmp_path)), "--as", "wang", "--now", "2026-08-25T09:00"
    )
    assert created.code == 0, created.err
    assert f"Created plan 1: {TITLE}" in created.out
    added = initialised("people", "add", "ou", "--name", NAME, "--email", "ou@example.com")
    assert added.code == 0, added.err
    token = initialised("token", "create", "ou", "--name", "[/] for [bold]me")
    assert token.code == 0, token.err
    return initialised


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (("plan", "list"), "[bold]Q4"),
        (("plan", "show", "1"), TITLE),
        (("people", "list"), "[link=x]Ou"),
        (("token", "list"), "[/] for [bold]me"),
    ],
)
def test_markup_in_user_text_is_printed_as_text(
    marked: Cli, args: tuple[str, ...], shown: str
) -> None:
    result = marked(*args)

    assert result.code == 0, result.err
    assert shown in result.out


def test_an_error_quoting_markup_keeps_its_brackets(initialised: Cli) -> None:
    result = initialised("people", "grant", "[bold]nobody[/]", "auditor")

    assert result.code != 0
    assert "[bold]nobody[/]" in result.err
