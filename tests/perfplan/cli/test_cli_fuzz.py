"""Every command, fed generated arguments (ids past any column, text with NUL and markup,
dates written every way, files holding anything): whatever it answers, it answers with a
sentence and an exit code, never a traceback (the runner fails on one, and on any
exception that escapes `main`).

SQLite only (the commands' refusals do not depend on the database; their tests run on
both). Bounded: PERFPLAN_FUZZ_EXAMPLES (default 8) examples per command; set it higher
for a deeper hunt. Left out: `web`, `serve`, `demo`, `sweep` and `dispatch`, which start
a server or Prefect and are tried with bad input in their own tests.
"""

from __future__ import annotations

import enum
import io
import os
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.core import TyperArgument

from tests.conftest import Cli
from tests.perfplan.cli.conftest import zhangs_plan

# Imported here, at collection, without the COLUMNS a test runner may have set: the
# command line's consoles would keep that width for every later test in the process.
with pytest.MonkeyPatch.context() as _unset:
    _unset.delenv("COLUMNS", raising=False)
    from perfplan.cli import app

EXAMPLES = int(os.environ.get("PERFPLAN_FUZZ_EXAMPLES", "8"))
LEFT_OUT = {"web", "serve", "demo", "sweep", "dispatch"}

nasty_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "[bold]x[/]",
            "[/]",
            "-",
            "--",
            "../../etc/passwd",
            "/etc/passwd",
            "zhang",
            "li",
            "wang",
            "system",
            "agree",
            "start",
            "contracts",
            "training_attended",
            "standard",
            "hr",
            "auditor",
            "en",
            "zh-CN",
            "P1W",
            "x" * 5000,
            "名字",
            "a=b",
            "due=2026-10-01",
            "title=x",
            "notes=\x00",
        ]
    ),
)
nasty_int = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["0", "1", "2", "-1", "2147483647", "2147483648", "١", "1e3", "0x1", " 1 "]),
    st.text(max_size=8),
)
nasty_day = st.one_of(
    st.datetimes().map(lambda moment: moment.isoformat()),
    st.dates().map(str),
    st.sampled_from(
        [
            "0001-01-01T00:00+05:00",
            "9999-12-31T23:59-05:00",
            "2026-09-01",
            "20260901",
            "2026-W36-1",
            "garbage",
            "",
            "2026-02-30",
            "0",
            "P1D",
            "2026-09-01T25:00",
        ]
    ),
)
nasty_yaml = st.one_of(
    st.text(max_size=200),
    st.sampled_from(
        [
            "title: x",
            "{}",
            "[]",
            "a: &a [*a]",
            "!!python/object:os.system ls",
            "\x00",
            "period: {start: 0, end: .nan}",
            "roles: {employee: system}",
            "definition: /etc/passwd",
        ]
    ),
)


@dataclass(frozen=True)
class Param:
    name: str
    option: str | None  # None for an argument
    kind: Any
    flag: bool
    required: bool


def _commands() -> dict[str, list[Param]]:
    found: dict[str, list[Param]] = {}

    def walk(command: Any, words: tuple[str, ...]) -> None:
        subs = getattr(command, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, (*words, name))
            return
        if words[0] in LEFT_OUT:
            return
        found[" ".join(words)] = [
            Param(
                name=str(p.name),
                option=None if isinstance(p, TyperArgument) else p.opts[0],
                kind=getattr(p.type_descriptor, "annotation", None),
                flag=bool(getattr(p, "is_flag", False)),
                required=bool(p.required),
            )
            for p in command.params
        ]

    walk(typer.main.get_command(app), ())
    return found


COMMANDS = _commands()


def _values(param: Param, folder: Path) -> st.SearchStrategy[str]:
    kind = param.kind
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return st.one_of(st.sampled_from([member.value for member in kind]), nasty_text)
    if kind is int:
        return nasty_int
    if kind is Path:
        return nasty_yaml.map(lambda text: _a_file(folder, text)) | st.sampled_from(
            [str(folder), str(folder / "missing.yaml"), str(folder / "out")]
        )
    if param.name in {"now", "as_of", "on", "expires"}:
        return nasty_day
    if typing.get_origin(kind) is list:
        return nasty_text
    return nasty_text


def _a_file(folder: Path, text: str) -> str:
    written = folder / f"doc-{abs(hash(text)) % 10_000}.yaml"
    written.write_text(text, encoding="utf-8", errors="surrogateescape")
    return str(written)


@st.composite
def _argv(draw: st.DrawFn, words: str, params: list[Param], folder: Path) -> list[str]:
    argv = words.split()
    for param in params:
        if param.option is None:
            if param.required or draw(st.booleans()):
                argv.append(draw(_values(param, folder)))
        elif param.flag:
            if draw(st.booleans()):
                argv.append(param.option)
        elif param.required or draw(st.booleans()):
            argv += [param.option, draw(_values(param, folder))]
    return argv


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only, here: this overrides the both-databases fixture of tests/conftest.py."""
    return f"sqlite:///{tmp_path / 'perfplan.db'}"


@pytest.fixture
def ready(initialised: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # a prompt reads the end of its input
    monkeypatch.setenv("PERFPLAN_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("PERFPLAN_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("COLUMNS", "120")
    zhangs_plan(initialised)
    return initialised


@pytest.mark.parametrize("words", sorted(COMMANDS))
def test_no_generated_arguments_get_a_traceback(ready: Cli, tmp_path: Path, words: str) -> None:
    folder = tmp_path / "inputs"
    folder.mkdir()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(argv=_argv(words, COMMANDS[words], folder))
    def run(argv: list[str]) -> None:
        result = ready(*argv)  # a traceback, or an exception out of main, fails here
        assert 0 <= result.code <= 8, (argv, result.code, result.err)

    run()


def test_every_command_but_the_servers_is_tried() -> None:
    assert {"plan create", "plan fire", "audit verify", "people add", "token create"} <= set(
        COMMANDS
    )
    assert not LEFT_OUT & {words.split()[0] for words in COMMANDS}
