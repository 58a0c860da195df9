"""The figures the docs give for settings are the code's: every default a page states for a
PERFPLAN_* variable (a settings table, "`PERFPLAN_X` seconds (60)", "`PERFPLAN_X`
(default 12)", "(default `~/.perfplan/prefect`)") is the default of that setting, and the
README and the docs point to no page that is not in the repository."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from models.db import DatabaseSettings
from notifications.settings import NotificationSettings
from perfplan.web.settings import WebSettings
from states.definitions.catalog import CatalogSettings
from tests.conftest import ROOT
from workflows.settings import WorkflowSettings

SETTINGS: list[type[BaseSettings]] = [
    DatabaseSettings,
    CatalogSettings,
    NotificationSettings,
    WorkflowSettings,
    WebSettings,
]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _defaults() -> dict[str, Any]:
    """Each variable's default, as the code declares it (a factory's value included)."""
    found: dict[str, Any] = {}
    for settings in SETTINGS:
        prefix = str(settings.model_config.get("env_prefix", ""))
        for name, field in settings.model_fields.items():
            factory = field.default_factory
            value = factory() if factory else field.default  # type: ignore[call-arg]
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            found[f"{prefix}{name}".upper()] = value
    return found


DEFAULTS = _defaults()


def _same(stated: str, declared: Any) -> bool:
    stated = stated.strip().strip("`")
    if isinstance(declared, bool):
        return stated.lower() == str(declared).lower()
    if isinstance(declared, int | float):
        return float(stated.replace(",", "")) == float(declared)
    if isinstance(declared, Path):
        return Path(stated).expanduser() == declared
    return stated == str(declared)


def _table_rows(text: str) -> list[tuple[str, str]]:
    """(variable, stated default) of each settings-table row: `PERFPLAN_A`, `_B` | `x`, `y`."""
    pairs = []
    for row in re.findall(r"^\| (`PERFPLAN_[^|]+) \| ([^|]+) \|", text, flags=re.M):
        names = re.findall(r"`(PERFPLAN_\w+|_\w+)`", row[0])
        values = [v.strip() for v in row[1].split(",")]
        if len(values) != len(names):
            continue
        first = names[0]
        for name, value in zip(names, values, strict=True):
            full = name if name.startswith("PERFPLAN_") else first.rsplit("_", 1)[0] + name
            if value.startswith("`"):  # a literal; "—" or words describe it instead
                pairs.append((full, value))
    return pairs


def _stated(page: Path) -> list[tuple[str, str]]:
    text = page.read_text(encoding="utf-8")
    prose = [
        *re.findall(r"`(PERFPLAN_\w+)` seconds \((\d+)\)", text),
        *re.findall(r"`(PERFPLAN_\w+)`\s*\(default ([\w.~/`-]+?)[);]", text),
    ]
    return [*_table_rows(text), *prose]


STATED = [(page.name, name, value) for page in PAGES for name, value in _stated(page)]


def test_the_docs_state_figures_this_test_reads() -> None:
    named = {name for _, name, _ in STATED}
    assert {"PERFPLAN_DISPATCH_EVERY", "PERFPLAN_DELIVER_EVERY", "PERFPLAN_MAX_ATTEMPTS"} <= named
    assert {"PERFPLAN_WEB_SESSION_HOURS", "PERFPLAN_PREFECT_HOME"} <= named


@pytest.mark.parametrize(("page", "name", "value"), STATED, ids=lambda v: str(v))
def test_a_stated_default_is_the_codes(page: str, name: str, value: str) -> None:
    assert name in DEFAULTS, f"{page}: {name} is no setting"
    assert _same(value, DEFAULTS[name]), f"{page}: {name} is {DEFAULTS[name]!r}, not {value}"


def test_the_sweep_is_hourly_as_the_docs_say() -> None:
    text = (ROOT / "docs" / "workflows.md").read_text(encoding="utf-8")
    assert "`PERFPLAN_SWEEP_CRON`, hourly by default" in text
    assert WorkflowSettings().sweep_cron == "0 * * * *"


def test_every_page_pointed_to_is_in_the_repository() -> None:
    """No `DOMAIN.md` or other page that only exists outside the project."""
    missing = []
    for page in PAGES:
        for target in re.findall(r"`((?:docs/)?[\w/-]+\.md)`", page.read_text(encoding="utf-8")):
            candidates = [ROOT / target, page.parent / target]
            if not any(candidate.is_file() for candidate in candidates):
                missing.append(f"{page.name}: {target}")
    assert not missing, "\n".join(missing)


def test_nothing_points_to_a_domain_page_outside_docs() -> None:
    pointing = [
        str(path.relative_to(ROOT))
        for folder in ("models", "people", "states", "views", "notifications", "workflows")
        for path in (ROOT / folder).rglob("*")
        if path.suffix in {".py", ".yaml"} and "DOMAIN.md" in path.read_text(encoding="utf-8")
    ]
    pointing += [
        str(path.relative_to(ROOT))
        for path in [*(ROOT / "perfplan").rglob("*.py"), *(ROOT / "docs").rglob("*.yaml")]
        if "DOMAIN.md" in path.read_text(encoding="utf-8")
    ]
    assert not pointing
