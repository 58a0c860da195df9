"""Safe YAML loading that remembers the line of every key and item, for problems a person can find.

Booleans and integers follow YAML 1.2: only `true`/`false` are booleans (`yes`, `no`, `on`,
`off` stay text), `010` is ten and `10:30` is text; dates stay dates, for plan documents.
Duplicate keys, aliases that loop or explode, and syntax errors become `Problem`s, never
exceptions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from states.errors import Problem

Path = tuple[str | int, ...]

# Far above any real definition or plan document; stops "billion laughs" alias bombs.
MAX_NODES = 100_000

_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_MERGE = "tag:yaml.org,2002:merge"
_PLAIN_COLLECTIONS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


# libyaml's parser when PyYAML has it (the wheels do): ten times the speed of the pure
# Python one, with the same nodes, marks and resolvers.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Yaml12Loader(_SafeLoader):  # type: ignore[valid-type,misc]
    """SafeLoader with YAML 1.2 core booleans and integers."""


def _construct_int(loader: yaml.SafeLoader, node: ScalarNode) -> int:
    text = str(loader.construct_scalar(node)).lower()
    sign, digits = (-1, text[1:]) if text.startswith("-") else (1, text.lstrip("+"))
    for prefix, base in (("0o", 8), ("0x", 16)):
        if digits.startswith(prefix):
            return sign * int(digits[2:], base)
    return sign * int(digits, 10)


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [
        (tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _INT, "tag:yaml.org,2002:value")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Yaml12Loader.add_implicit_resolver(
    _INT, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), [*"-+0123456789"]
)
_Yaml12Loader.add_constructor(_INT, _construct_int)


def dotted(path: Path) -> str:
    """`("transitions", 2, "dest")` as `transitions[2].dest`; the document itself is `$`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _KEY.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text or "$"


@dataclass
class YamlDocument:
    """The loaded data, and the line (1-based) of every mapping key and sequence item."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int | None:
        """The line of `path`, or of its nearest ancestor that the file spells out."""
        for end in range(len(path), -1, -1):
            found = self.lines.get(path[:end])
            if found is not None:
                return found
        return None

    def problem(self, code: str, path: Path, message: str) -> Problem:
        """A problem at `path`, on the line the file has it (or its nearest ancestor)."""
        return Problem(code, dotted(path), message, self.line(path))


def in_file_order(problems: Iterable[Problem]) -> list[Problem]:
    """Sorted by line, problems without one last; the sort is stable within a line."""
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0))


class _Abort(Exception):
    """The document cannot be built any further (too large)."""


@dataclass
class _Builder:
    """Builds plain dicts, lists and scalars from composed nodes, recording lines on the way."""

    loader: _Yaml12Loader
    lines: dict[Path, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    active: set[int] = field(default_factory=set)
    built: set[int] = field(default_factory=set)  # collections built: met again, an alias
    aliased: bool = False
    budget: int = MAX_NODES

    def problem(self, code: str, path: Path, node: Node, message: str) -> None:
        self.problems.append(Problem(code, dotted(path), message, _line(node)))

    def build(self, node: Node, path: Path) -> Any:
        self.lines.setdefault(path, _line(node))
        self.budget -= 1
        if self.budget < 0:
            self.problem("YAML_TOO_LARGE", path, node, self.too_large())
            raise _Abort
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        if id(node) in self.active:
            message = (
                f"the alias at {dotted(path)} refers to a mapping or list that contains it, "
                "so it never ends; remove the alias"
            )
            self.problems.append(Problem("YAML_RECURSIVE", dotted(path), message, self.lines[path]))
            return None
        if node.tag not in _PLAIN_COLLECTIONS:
            self.problem("YAML_SYNTAX", path, node, f"the tag '{node.tag}' is not supported here")
            return None
        self.aliased = self.aliased or id(node) in self.built
        self.built.add(id(node))
        self.active.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self.mapping(node, path)
            return self.items(node, path) if isinstance(node, SequenceNode) else None
        finally:
            self.active.discard(id(node))

    def too_large(self) -> str:
        if self.aliased:
            return f"the document expands to more than {MAX_NODES:,} values; check its aliases"
        return f"the document holds more than {MAX_NODES:,} values, more than a plan or definition"

    def scalar(self, node: ScalarNode, path: Path) -> Any:
        try:
            return self.loader.construct_object(node)
        # A constructor fed an explicit tag or a malformed date may raise anything.
        except Exception as exc:
            self.problem("YAML_SYNTAX", path, node, f"cannot read {node.value!r}: {_reason(exc)}")
            return None

    def items(self, node: SequenceNode, path: Path) -> list[Any]:
        return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]

    def mapping(self, node: MappingNode, path: Path) -> dict[Any, Any]:
        merged: dict[Any, Any] = {}
        own: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                self.merge(value_node, path, merged)
                continue
            key = self.key(key_node, path)
            if key is None:
                continue
            if key in own:
                self.duplicate(key, key_node, path, first_line[key])
                continue
            first_line[key] = _line(key_node)
            self.lines[(*path, key)] = first_line[key]
            own[key] = self.build(value_node, (*path, key))
        return {**merged, **own}

    def key(self, node: Node, path: Path) -> str | int | None:
        if not isinstance(node, ScalarNode):
            self.problem("BAD_KEY", path, node, f"a key must be a name, not {_shown(node)}")
            return None
        known_problems = len(self.problems)
        value = self.scalar(node, path)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return value
        if len(self.problems) == known_problems:
            message = (
                f"a key must be a name, but '{node.value}' reads as {_as_yaml(value)}; quote it"
            )
            self.problem("BAD_KEY", path, node, message)
        return None

    def duplicate(self, key: str | int, node: Node, path: Path, first: int) -> None:
        message = (
            f"'{key}' appears twice in the same mapping (first on line {first}); "
            "keep one of them: YAML would silently use only the last"
        )
        self.problem("DUPLICATE_KEY", (*path, key), node, message)

    def merge(self, node: Node, path: Path, into: dict[Any, Any]) -> None:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        for source in sources:
            if not isinstance(source, MappingNode):
                self.problem("YAML_SYNTAX", path, node, "'<<' must be followed by a mapping alias")
                continue
            built = self.build(source, path)
            # Earlier sources win, and the mapping's own keys win over all of them.
            for key, value in (built if isinstance(built, dict) else {}).items():
                into.setdefault(key, value)


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _reason(exc: Exception) -> str:
    problem = getattr(exc, "problem", None)
    return str(problem or exc).strip() or type(exc).__name__


def _as_yaml(value: Any) -> str:
    if value is None:
        return "null (nothing)"
    return str(value).lower() if isinstance(value, bool) else repr(value)


def _shown(node: Node) -> str:
    return "a mapping" if isinstance(node, MappingNode) else "a list"


def _syntax_problem(text: str, exc: yaml.YAMLError) -> Problem:
    if isinstance(exc, yaml.reader.ReaderError):
        at = text.count("\n", 0, exc.position) + 1
        message = f"the control character #x{exc.character:02x} cannot appear in YAML; remove it"
        return Problem("YAML_SYNTAX", "$", message, at)
    mark = getattr(exc, "problem_mark", None)
    line: int | None = mark.line + 1 if mark is not None else None
    reason = _reason(exc)
    context = getattr(exc, "context", None)
    if context:
        reason = f"{context}, {reason}"
    if "'\\t'" in reason:
        hint = "indent with spaces, never tabs"
    else:
        hint = "check the indentation, colons and quotes" + (f" around line {line}" if line else "")
    return Problem("YAML_SYNTAX", "$", f"this is not valid YAML: {reason}; {hint}", line)


def _not_a_mapping(data: Any) -> Problem:
    if data is None:
        found = "empty"
    else:
        found = "a list" if isinstance(data, list) else f"the single value {data!r}"
    return Problem(
        "NOT_A_MAPPING",
        "$",
        f"the document is {found}; it must be a mapping of `key: value` lines, "
        "such as `name: ...` on the first line",
        1,
    )


def load_yaml(text: str) -> tuple[YamlDocument, list[Problem]]:
    """The document in `text` and every problem found reading it (none means usable data)."""
    try:
        loader = _Yaml12Loader(text)
    except yaml.YAMLError as exc:
        return YamlDocument(None), [_syntax_problem(text, exc)]
    builder = _Builder(loader)
    try:
        root = loader.get_single_node()
        data = builder.build(root, ()) if root is not None else None
    except yaml.YAMLError as exc:
        return YamlDocument(None), [_syntax_problem(text, exc)]
    except RecursionError:
        message = "the document is nested too deeply to read; flatten it"
        return YamlDocument(None), [Problem("YAML_TOO_LARGE", "$", message)]
    except _Abort:
        return YamlDocument(None, builder.lines), builder.problems
    finally:
        loader.dispose()
    problems = builder.problems
    if not problems and not isinstance(data, dict):
        problems = [_not_a_mapping(data)]
    return YamlDocument(data, builder.lines), problems
