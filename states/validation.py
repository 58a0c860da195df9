"""Structural checks of a definition (placeholder until the full checks land)."""

from __future__ import annotations

from pydantic import ValidationError

from states.errors import Problem
from states.schema import DefinitionSpec
from states.yamlsource import YamlDocument


def schema_problems(document: YamlDocument) -> tuple[DefinitionSpec | None, list[Problem]]:
    try:
        return DefinitionSpec.model_validate(document.data), []
    except ValidationError as exc:
        return None, [
            Problem("SCHEMA", ".".join(str(p) for p in err["loc"]) or "$", err["msg"])
            for err in exc.errors()
        ]


def check_structure(spec: DefinitionSpec, document: YamlDocument) -> list[Problem]:
    return []
