"""The definitions people can pick from: what is available (files) and installed
(the database), one definition in full, a check of an uploaded text, and an
admin's install of a new version into PERFPLAN_DEFINITIONS_DIR."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlmodel import Session

from models.tables import DEFINITION_VERSION, PLAN
from people.orgaudit import Acting
from states.definitions import catalog
from states.definitions.announcements import announcement_of
from states.definitions.compiled import CompiledDefinition, compile_definition
from states.definitions.loader import parse_definition
from states.definitions.schema import TransitionSpec
from states.errors import DefinitionInvalid, DefinitionNotFound, NotConfigured, Problem

SAFE_NAME = catalog.SAFE_NAME


@dataclass
class Available:
    """One definition name: the version a new plan would get, and every installed one."""

    name: str
    title: dict[str, str] = field(default_factory=dict)
    version: int | None = None
    origin: str = ""  # custom (PERFPLAN_DEFINITIONS_DIR) or builtin
    installed: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _installed(session: Session) -> dict[str, list[int]]:
    rows = session.execute(
        select(DEFINITION_VERSION.c.name, DEFINITION_VERSION.c.version).order_by(
            DEFINITION_VERSION.c.name, DEFINITION_VERSION.c.version
        )
    )
    found: dict[str, list[int]] = {}
    for row in rows:
        found.setdefault(row.name, []).append(row.version)
    return found


@dataclass(frozen=True)
class DefinitionFile:
    name: str
    path: str
    compiled: CompiledDefinition | None
    problems: list[Problem] = field(default_factory=list)


def definition_files(extra: Path | None = None) -> list[DefinitionFile]:
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
                compiled = catalog.named(catalog.load_file(path), path.stem, path)
                found.append(DefinitionFile(path.stem, str(path), compiled))
            except DefinitionInvalid as invalid:
                found.append(DefinitionFile(path.stem, str(path), None, invalid.problems))
    return found


class InstalledVersion(NamedTuple):
    name: str
    version: int
    hash: str
    installed_at: datetime
    plans: int  # bound to it


def installed_versions(session: Session) -> list[InstalledVersion]:
    """Installed versions, newest first per name, with the number of plans bound to each."""
    bound = (
        select(func.count(PLAN.c.id))
        .where(PLAN.c.definition_hash == DEFINITION_VERSION.c.hash)
        .correlate(DEFINITION_VERSION)
        .scalar_subquery()
    )
    query = select(
        DEFINITION_VERSION.c.name,
        DEFINITION_VERSION.c.version,
        DEFINITION_VERSION.c.hash,
        DEFINITION_VERSION.c.installed_at,
        bound.label("plans"),
    ).order_by(DEFINITION_VERSION.c.name, DEFINITION_VERSION.c.version.desc())
    return [InstalledVersion(*row) for row in session.execute(query).tuples()]


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
    raise DefinitionInvalid(
        source,
        [
            Problem(
                "VERSION_REUSED",
                "version",
                f"'{compiled.name}' version {compiled.version} is already installed with different "
                "content; raise `version` so running plans keep their rules",
            )
        ],
    )


def _from_files(extra: Path | None) -> dict[str, Available]:
    """The first file of each name along the search path (as `catalog.find` picks it)."""
    found: dict[str, Available] = {}
    for file in definition_files(extra):
        origin = "builtin" if Path(file.path).parent == catalog.BUILTIN_DIR else "custom"
        entry = Available(name=file.name, origin=origin, problems=list(file.problems))
        if file.compiled is not None:
            entry.title, entry.version = dict(file.compiled.spec.title), file.compiled.version
        found[file.name] = entry
    return found


def list_definitions(session: Session, extra: Path | None = None) -> list[Available]:
    """Every definition available for new plans or installed for running ones, by name."""
    found = _from_files(extra)
    for name, versions in _installed(session).items():
        found.setdefault(name, Available(name=name)).installed = versions
    for entry in found.values():
        if not entry.title and entry.installed:
            entry.title = dict(definition(session, entry.name, entry.installed[-1]).spec.title)
    return [found[name] for name in sorted(found)]


def definition(
    session: Session, name: str, version: int | None = None, extra: Path | None = None
) -> CompiledDefinition:
    """The definition a new plan would get, or one exact version (a file's or an installed one)."""
    try:
        current: CompiledDefinition | None = catalog.find(name, extra)
    except DefinitionNotFound:
        current = None
    if current is not None and version in (None, current.version):
        return current
    query = select(DEFINITION_VERSION.c.source, DEFINITION_VERSION.c.version).where(
        DEFINITION_VERSION.c.name == name
    )
    if version is not None:
        query = query.where(DEFINITION_VERSION.c.version == version)
    row = session.execute(query.order_by(DEFINITION_VERSION.c.version.desc())).first()
    if row is None:
        known = sorted({a.name for a in list_definitions(session, extra)})
        wanted = name if version is None else f"{name} v{version}"
        raise DefinitionNotFound(wanted, known)
    source = f"installed {name} v{row.version}"
    return catalog.compile_text(row.source, source=source, installed=True)


def check(text: str, *, source: str) -> tuple[CompiledDefinition | None, list[Problem]]:
    """Every problem of a definition text, without installing it (nor keeping it in the
    process's shared cache: a check is not a reason to hold a machine in memory)."""
    try:
        return compile_definition(parse_definition(text, source=source), text), []
    except DefinitionInvalid as invalid:
        return None, invalid.problems


def _refuse_older(compiled: CompiledDefinition, target: Path) -> None:
    """A file already there keeps its place unless the new text raises its version."""
    if not target.is_file():
        return
    present = catalog.load_file(target)
    if present.hash == compiled.hash:
        return
    if present.version >= compiled.version:
        raise DefinitionInvalid(
            compiled.name,
            [
                Problem(
                    "VERSION_NOT_RAISED",
                    "version",
                    f"'{compiled.name}' version {present.version} is installed; "
                    f"raise `version` above {present.version} to replace it",
                )
            ],
        )


def _write_whole(target: Path, text: str) -> None:
    """Write next to the target, then rename: a reader never sees half a definition."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        Path(temporary).replace(target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def install(
    session: Session, *, text: str, now: datetime, by: Acting, directory: Path | None = None
) -> CompiledDefinition:
    """Check, record the version in the database and write the file new plans will use.
    Refuses a reused version number with other content, and a version not raised."""
    directory = directory or catalog.CatalogSettings().definitions_dir
    if directory is None:
        raise NotConfigured(
            "set PERFPLAN_DEFINITIONS_DIR to a directory for the organisation's own definitions"
        )
    compiled = catalog.compile_text(text, source="uploaded definition")
    if not SAFE_NAME.match(compiled.name):
        raise DefinitionInvalid(
            compiled.name,
            [
                Problem(
                    "BAD_NAME",
                    "name",
                    f"a definition's name is {catalog.NAME_RULE} (it becomes the file name)",
                )
            ],
        )
    target = directory / f"{compiled.name}.yaml"
    _refuse_older(compiled, target)
    catalog.install(session, compiled, now, by=by)
    directory.mkdir(parents=True, exist_ok=True)
    _write_whole(target, text)
    return compiled


def _described_transition(compiled: CompiledDefinition, spec: TransitionSpec) -> dict[str, Any]:
    """A transition as plain data, with what it announces (its own announcement or the
    compatible one), or no `announce` when it announces nothing."""
    described = spec.model_dump(mode="json", exclude={"announce"})
    announced = announcement_of(compiled.spec, spec)
    if announced is not None:
        described["announce"] = announced.model_dump(mode="json")
    return described


def describe(compiled: CompiledDefinition) -> dict[str, Any]:
    """A definition's states, transitions and chains as plain data."""
    spec = compiled.spec
    return {
        "name": compiled.name,
        "version": compiled.version,
        "hash": compiled.hash,
        "title": dict(spec.title),
        "description": spec.description,
        "initial": compiled.initial,
        "roles": {name: role.model_dump(mode="json") for name, role in spec.roles.items()},
        "states": {name: s.model_dump(mode="json") for name, s in spec.states.items()},
        "transitions": [_described_transition(compiled, t) for t in spec.transitions],
        "approval_chains": {n: c.model_dump(mode="json") for n, c in spec.approval_chains.items()},
        "source": compiled.source,
    }
