"""Safe YAML loading that remembers where each value came from.

(Placeholder until the full loader lands: safe_load, no line numbers.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from states.errors import Problem


@dataclass
class YamlDocument:
    data: Any
    lines: dict[tuple[str | int, ...], int] = field(default_factory=dict)

    def line(self, path: tuple[str | int, ...]) -> int | None:
        return self.lines.get(path)


def load_yaml(text: str) -> tuple[YamlDocument, list[Problem]]:
    try:
        return YamlDocument(yaml.safe_load(text)), []
    except yaml.YAMLError as exc:
        return YamlDocument(None), [Problem("YAML_SYNTAX", "$", str(exc))]
