"""The layout of the house (docs/architecture.md), checked on the source itself: imports
flow one way between the rooms, no module imports itself back through others, and the
rooms below the clockwork never load Prefect, the web framework or the CLI.

Every import counts, those inside functions too: a lazy import is still a dependency."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Each room and the rooms it may import (docs/architecture.md).
MAY_IMPORT: dict[str, set[str]] = {
    "models": set(),
    "people": {"models"},
    "states": {"people", "models"},
    "notifications": {"models"},
    "views": {"states", "people", "models"},
    "workflows": {"views", "states", "people", "notifications", "models"},
    "perfplan": {"workflows", "views", "states", "people", "notifications", "models"},
}
ROOMS = tuple(MAY_IMPORT)
# Frameworks a room below the front door (or the clockwork) must not load.
FORBIDDEN_LIBRARIES: dict[str, tuple[str, ...]] = {
    "models": ("prefect", "fastapi", "typer", "rich", "jinja2"),
    "people": ("prefect", "fastapi", "typer", "rich", "jinja2"),
    "states": ("prefect", "fastapi", "typer", "rich", "jinja2"),
    "views": ("prefect", "fastapi", "typer", "rich"),
    "notifications": ("prefect", "fastapi", "typer"),
    "workflows": ("fastapi", "typer"),
}


def _modules() -> dict[str, Path]:
    found = {}
    for room in ROOMS:
        for path in (ROOT / room).rglob("*.py"):
            if "versions" in path.parts:  # generated migration scripts
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imported(path: Path, name: str) -> Iterator[str]:
    """Every module name `path` imports, resolved to one of ours where it is ours."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield full if full in MODULES else base


def _ours(target: str) -> str | None:
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target or None


GRAPH: dict[str, set[str]] = {
    name: {ours for target in _imported(path, name) if (ours := _ours(target)) and ours != name}
    for name, path in MODULES.items()
}


def _room(module: str) -> str:
    return module.split(".")[0]


def test_imports_flow_one_way_between_rooms() -> None:
    against = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if _room(target) != _room(module) and _room(target) not in MAY_IMPORT[_room(module)]
    )
    assert not against, "imports against the flow of docs/architecture.md:\n" + "\n".join(against)


@pytest.mark.parametrize("room", sorted(FORBIDDEN_LIBRARIES))
def test_rooms_below_do_not_load_the_frameworks_above(room: str) -> None:
    loaded = sorted(
        f"{name} imports {target}"
        for name, path in MODULES.items()
        if _room(name) == room
        for target in _imported(path, name)
        if target.split(".")[0] in FORBIDDEN_LIBRARIES[room]
    )
    assert not loaded, "\n".join(loaded)


def _cycle_from(start: str) -> list[str] | None:
    """A path start -> ... -> start through the import graph, if there is one."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        module, path = stack.pop()
        for target in sorted(GRAPH.get(module, ())):
            if target == start:
                return [*path, start]
            if target not in seen:
                seen.add(target)
                stack.append((target, [*path, target]))
    return None


def test_no_module_imports_itself_back() -> None:
    circles = {" -> ".join(cycle) for name in GRAPH if (cycle := _cycle_from(name))}
    assert not circles, "import circles:\n" + "\n".join(sorted(circles))


def test_the_graph_is_read() -> None:
    """The checks above would pass on an empty graph: make sure the source was read."""
    assert len(MODULES) > 100
    assert "states.engine.firing" in GRAPH["workflows.dispatch"] | GRAPH["states.timers"]


LONGEST_FUNCTION = 50  # lines: short enough to read at once (STYLE.md)


def test_no_function_is_longer_than_one_can_read_at_once() -> None:
    long = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                lines = (node.end_lineno or node.lineno) - first + 1
                if lines > LONGEST_FUNCTION:
                    long.append(f"{name}.{node.name}: {lines} lines")
    assert not long, "\n".join(long)


# ruff's markers for code it should not format, spelled apart so that this file is not one.
OPTING_OUT = ("fmt: " + "skip", "fmt: " + "off")


def test_ruff_format_owns_the_layout() -> None:
    """No code opts out of `ruff format` (its layout is the house's)."""
    opted_out = sorted(
        f"{path.relative_to(ROOT)}:{number}"
        for path in [*MODULES.values(), *ROOT.joinpath("tests").rglob("*.py")]
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(marker in line for marker in OPTING_OUT)
    )
    assert not opted_out, "\n".join(opted_out)
