"""Turn a definition file into a checked `DefinitionSpec`, or say all that is wrong with it."""

from __future__ import annotations

from states.definitions.messages import schema_problems
from states.definitions.rules import check_structure
from states.definitions.schema import DefinitionSpec
from states.definitions.yamlsource import load_yaml
from states.errors import DefinitionInvalid


def parse_definition(text: str, *, source: str, installed: bool = False) -> DefinitionSpec:
    """The definition in `text`; raises DefinitionInvalid listing every problem of the file.
    An `installed` text (a version read back from the database) is not held to the rules
    that came after it was installed (`rules.LATER_RULES`)."""
    document, problems = load_yaml(text)
    if problems:
        raise DefinitionInvalid(source, problems)
    spec, problems = schema_problems(document)
    if spec is None:
        raise DefinitionInvalid(source, problems)
    problems = check_structure(spec, document, installed=installed)
    if problems:
        raise DefinitionInvalid(source, problems)
    return spec
