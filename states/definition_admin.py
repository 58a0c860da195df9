"""What the admin's definitions page shows: the definition files on the search path,
the versions installed in the database with how many plans each one binds, and a
check of a candidate definition that says what installing it would do."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from models.tables import DEFINITION_VERSION, PLAN
from states import catalog
from states.compiled import CompiledDefinition
from states.errors import DefinitionInvalid, DefinitionNotFound, Problem


@dataclass(frozen=True)
class DefinitionFile:
    name: str
    path: str
    compiled: CompiledDefinition | None
    problems: list[Problem] = field(default_factory=list)


def definition_files(extra: Any = None) -> list[DefinitionFile]:
    """Every definition file that `find` would see, checked; the first of a name wins."""
    seen: set[str] = set()
    found = []
    for directory in catalog.search_path(extra):
        if not directory.is_dir():
            continue
        for path in catalog.definition_files(directory):
            if path.stem in seen:
                continue
            seen.add(path.stem)
            try:
                found.append(DefinitionFile(path.stem, str(path), catalog.load_file(path)))
            except DefinitionInvalid as invalid:
                found.append(DefinitionFile(path.stem, str(path), None, invalid.problems))
    return found


def installed_versions(session: Session) -> list[dict[str, Any]]:
    """Installed versions, newest first per name, with the number of plans bound to each."""
    bound = (
        select(func.count(PLAN.c.id))
        .where(PLAN.c.definition_hash == DEFINITION_VERSION.c.hash)
        .correlate(DEFINITION_VERSION).scalar_subquery()
    )  # fmt: skip
    query = select(
        DEFINITION_VERSION.c.name, DEFINITION_VERSION.c.version, DEFINITION_VERSION.c.hash,
        DEFINITION_VERSION.c.installed_at, bound.label("plans"),
    ).order_by(DEFINITION_VERSION.c.name, DEFINITION_VERSION.c.version.desc())  # fmt: skip
    return [dict(r._mapping) for r in session.execute(query)]


def installed(session: Session, name: str, version: int) -> CompiledDefinition:
    """One installed version, compiled (DefinitionNotFound when there is no such one)."""
    found = session.execute(
        select(DEFINITION_VERSION.c.hash).where(
            DEFINITION_VERSION.c.name == name, DEFINITION_VERSION.c.version == version
        )
    ).scalar()
    if found is None:
        known = session.execute(
            select(DEFINITION_VERSION.c.version).where(DEFINITION_VERSION.c.name == name)
        ).scalars()
        versions = [f"{name} v{v}" for v in known]
        raise DefinitionNotFound(f"{name} v{version}", versions)
    return catalog.by_hash(session, found)


@dataclass(frozen=True)
class Candidate:
    """A checked definition and what installing it would do: `new`, `installed` (the same
    content is there already: nothing to do) — a reused number is a problem instead."""

    compiled: CompiledDefinition
    outcome: str


def check_candidate(session: Session, *, text: str, source: str) -> Candidate:
    """Every problem of the text (DefinitionInvalid), including a version number already
    used with other content; else what installing it would do."""
    if not text.strip():
        raise DefinitionInvalid(source, [Problem("EMPTY", "$", "the definition is empty")])
    compiled = catalog.compile_text(text, source=source)
    existing = session.execute(
        select(DEFINITION_VERSION.c.hash).where(
            DEFINITION_VERSION.c.name == compiled.name,
            DEFINITION_VERSION.c.version == compiled.version,
        )
    ).scalar()
    if existing is None:
        return Candidate(compiled, "new")
    if existing == compiled.hash:
        return Candidate(compiled, "installed")
    raise DefinitionInvalid(source, [Problem(
        "VERSION_REUSED", "version",
        f"'{compiled.name}' version {compiled.version} is already installed with different "
        "content; raise `version` so running plans keep their rules")])  # fmt: skip
