"""Where definitions come from: the built-in ones, an admin's directory, and the
database (the exact versions running plans are bound to)."""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from datetime import datetime
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from models.definitions import DefinitionVersion
from models.tables import DEFINITION_VERSION
from people import orgaudit
from people.orgaudit import Acting
from states.definitions.compiled import CompiledDefinition, compile_definition
from states.definitions.loader import parse_definition
from states.errors import DefinitionInvalid, DefinitionNotFound, Problem

BUILTIN_DIR = Path(__file__).parent / "builtin"
# A definition is named, and its name is a file name in a directory of definitions:
# nothing that could leave the directory (`/`, a backslash, `..`, a suffix).
SAFE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
NAME_RULE = "lower-case letters, digits, _ or -, starting with a letter, at most 64 characters"


class CatalogSettings(BaseSettings):
    """PERFPLAN_DEFINITIONS_DIR: an admin's own definitions, which win over built-ins."""

    model_config = SettingsConfigDict(env_prefix="PERFPLAN_")

    definitions_dir: Path | None = None


_BY_HASH: dict[str, CompiledDefinition] = {}


def search_path(extra: Path | None = None) -> list[Path]:
    """Directories searched for definitions, most specific first."""
    custom = extra or CatalogSettings().definitions_dir
    return [custom, BUILTIN_DIR] if custom else [BUILTIN_DIR]


def definition_files(directory: Path) -> list[Path]:
    return sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])


# Valid texts seen lately, by their SHA-256: parsing and checking a definition costs
# tens of milliseconds, and opening plans in bulk reads the same file each time.
_BY_TEXT: OrderedDict[tuple[str, bool], CompiledDefinition] = OrderedDict()
_TEXTS_KEPT = 64


def compile_text(text: str, *, source: str, installed: bool = False) -> CompiledDefinition:
    """Parse, check and compile; the compiled machine is shared by content hash. An
    `installed` text is a version read back from the database (see `parse_definition`)."""
    key = (hashlib.sha256(text.encode()).hexdigest(), installed)
    cached = _BY_TEXT.get(key)
    if cached is not None:
        _BY_TEXT.move_to_end(key)
        return cached
    compiled = compile_definition(parse_definition(text, source=source, installed=installed), text)
    compiled = _BY_HASH.setdefault(compiled.hash, compiled)
    _BY_TEXT[key] = compiled
    if len(_BY_TEXT) > _TEXTS_KEPT:
        _BY_TEXT.popitem(last=False)
    return compiled


def load_file(path: Path) -> CompiledDefinition:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionInvalid(str(path), [Problem("UNREADABLE", "$", str(exc))]) from exc
    return compile_text(text, source=str(path))


def find(name: str, extra: Path | None = None) -> CompiledDefinition:
    """The definition called `name`, from the admin's directory or the built-ins. Only a
    name is looked up: anything else (a path) is not found, and no file outside the
    directories is ever opened; a file whose own `name` differs is not that definition."""
    if SAFE_NAME.match(name):
        for directory in search_path(extra):
            for suffix in (".yaml", ".yml"):
                path = directory / f"{name}{suffix}"
                if path.is_file():
                    return named(load_file(path), name, path)
    known = sorted({p.stem for d in search_path(extra) if d.is_dir() for p in definition_files(d)})
    raise DefinitionNotFound(name[:80], known)


def named(compiled: CompiledDefinition, name: str, path: Path) -> CompiledDefinition:
    """`compiled`, read from `path`, if it names itself `name` (else NAME_MISMATCH)."""
    if compiled.name != name:
        raise DefinitionInvalid(
            str(path),
            [
                Problem(
                    "NAME_MISMATCH", "name", f"the file {path.name} names itself '{compiled.name}'"
                )
            ],
        )
    return compiled


def by_hash(session: Session, definition_hash: str) -> CompiledDefinition:
    """The exact definition version a plan is bound to (memory first, then the database)."""
    cached = _BY_HASH.get(definition_hash)
    if cached is not None:
        return cached
    row = session.execute(
        select(DefinitionVersion).where(DEFINITION_VERSION.c.hash == definition_hash)
    ).scalar_one_or_none()
    if row is None:
        raise DefinitionNotFound(f"#{definition_hash[:12]}", [])
    return compile_text(row.source, source=f"installed {row.name} v{row.version}", installed=True)


def _installed_hash(session: Session, compiled: CompiledDefinition) -> str | None:
    return session.execute(
        select(DEFINITION_VERSION.c.hash).where(
            DEFINITION_VERSION.c.name == compiled.name,
            DEFINITION_VERSION.c.version == compiled.version,
        )
    ).scalar_one_or_none()


def _refuse_reuse(session: Session, compiled: CompiledDefinition) -> bool:
    """True when this exact version is installed; raises if its number holds other content."""
    installed = _installed_hash(session, compiled)
    if installed is None:
        return False
    if installed != compiled.hash:
        raise DefinitionInvalid(
            compiled.name,
            [
                Problem(
                    "VERSION_REUSED",
                    "version",
                    f"'{compiled.name}' version {compiled.version} is already in use with "
                    "different content; raise `version` so running plans keep their rules",
                )
            ],
        )
    return True


def install(session: Session, compiled: CompiledDefinition, now: datetime, *, by: Acting) -> None:
    """Record this definition version in the database, once, and in the organisation
    chain; a reused version number with different content is refused so that versions
    keep meaning something."""
    if _refuse_reuse(session, compiled):
        return
    row = DefinitionVersion(
        name=compiled.name,
        version=compiled.version,
        hash=compiled.hash,
        source=compiled.source,
        installed_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # A concurrent writer installed it a moment ago: the same rule applies to theirs.
        _refuse_reuse(session, compiled)
        return
    orgaudit.append(
        session,
        kind="definition.installed",
        subject=f"definition {compiled.name} v{compiled.version}",
        by=by,
        now=now,
        detail=f"sha256 {compiled.hash}",
    )
