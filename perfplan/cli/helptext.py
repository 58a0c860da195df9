"""The help a newcomer reads, made readable on the command tree that Typer builds: a flag
shows no value placeholder (`--json`, not `--json <bool>`), an argument is named as in a
usage line (`PLAN_ID`, not `{plan_id}`), and a docstring's lines wrapped in the source
are joined into sentences, rewrapped to the terminal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


class _Flag(TyperOption):
    """A flag takes no value: no `<bool>` beside it."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


class _Argument(TyperArgument):
    """An argument in capitals, optional ones in brackets, as usage lines have it."""

    def _usage_display_name(self) -> str:
        name = self.display_name_raw
        name = name if self.required else f"[{name}]"
        return f"{name}..." if self.nargs != 1 else name


def sentences(text: str | None) -> str | None:
    """Paragraphs of a docstring with the lines of each joined: the terminal wraps them."""
    if not text:
        return text
    import inspect

    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)


def readable(command: TyperCommand | TyperGroup) -> TyperCommand | TyperGroup:
    """`command` and every command below it, with readable help (changed in place)."""
    command.help = sentences(command.help)
    command.short_help = sentences(command.short_help)
    for param in command.params:
        _readable_param(param)
    command.get_help_option = _quiet(command.get_help_option)  # type: ignore[method-assign,assignment]
    for child in getattr(command, "commands", {}).values():
        readable(child)
    return command


def _readable_param(param: Any) -> None:
    if type(param) is TyperOption and param.is_flag:
        param.__class__ = _Flag
    elif type(param) is TyperArgument:
        param.__class__ = _Argument
        if param.metavar is None and param.name:
            param.metavar = param.name.upper()
    if getattr(param, "help", None):
        param.help = sentences(param.help)


def _quiet(make: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """--help, which click adds as each command runs, is a flag too."""

    def help_option(ctx: Any) -> Any:
        option = make(ctx)
        if option is not None:
            _readable_param(option)
        return option

    return help_option
