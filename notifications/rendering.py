"""Rendering: Jinja2 templates side by side per kind and locale, strict about
undefined variables, HTML autoescaped, with an admin override directory.

Layout: `templates/<kind>/{subject,body.txt,body.html}.<locale>.j2`, and
`templates/milestone_overdue/level<N>/...` per escalation level. A file of the
same relative name under PERFPLAN_TEMPLATES_DIR wins over the built-in one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    UndefinedError,
)

from notifications import formats
from notifications.errors import TemplateProblem
from notifications.kinds import check_context, template_folders
from notifications.message import Rendered
from notifications.settings import default_sender

BUILTIN = Path(__file__).parent / "templates"
LOCALES = ("en", "zh-CN")


def normalise_locale(locale: str) -> str:
    """`zh_CN`, `zh-cn`, `zh-Hans` -> `zh-CN`; `en-GB` -> `en-GB` (its fallback is `en`)."""
    text = locale.strip().replace("_", "-")
    language, _, region = text.partition("-")
    language = language.lower()
    if language == "zh" and region.lower() in ("", "cn", "hans", "sg"):
        return "zh-CN"
    return f"{language}-{region.upper()}" if region else language


def locale_candidates(locale: str, default: str) -> list[str]:
    """The locales to try, best first: the exact one, its language, then the default."""
    exact = normalise_locale(locale) if locale else default
    language = exact.partition("-")[0]
    ordered = [exact, language, "zh-CN" if language == "zh" else language, default]
    return list(dict.fromkeys(ordered))


def _autoescape(name: str | None) -> bool:
    return name is not None and ".html." in name


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


@dataclass(frozen=True)
class Renderer:
    """Renders a kind in a locale; built once per configuration and reused."""

    env: Environment
    base_url: str
    sender_name: str
    default_locale: str

    @classmethod
    def build(
        cls,
        *,
        overrides: Path | None = None,
        base_url: str = "http://localhost:8000",
        sender_name: str = "",
        default_locale: str = "en",
    ) -> Renderer:
        search = [FileSystemLoader(overrides)] if overrides else []
        env = Environment(
            loader=ChoiceLoader([*search, FileSystemLoader(BUILTIN)]),
            undefined=StrictUndefined,
            autoescape=_autoescape,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            # Templates are read once per process: without this, every message
            # would stat each template file again. A running `perfplan serve`
            # picks up edited templates when it restarts.
            auto_reload=False,
        )
        formats.install(env)
        return cls(env, base_url.rstrip("/"), sender_name, default_locale)

    def render(self, kind: str, locale: str, context: Mapping[str, Any]) -> Rendered:
        """The subject, text and HTML of `kind` for a reader of `locale`."""
        check_context(kind, context)
        folder, chosen = self._choose(kind, locale, context)
        full = {**context, **self._extras(chosen, context)}
        subject = self._part(f"{folder}/subject.{chosen}.j2", full)
        text = self._part(f"{folder}/body.txt.{chosen}.j2", full)
        html = self._part(f"{folder}/body.html.{chosen}.j2", full)
        # One rule for Chinese beside Latin text and figures, in every part of every
        # message, whatever a template (or an admin's override) writes around its values.
        return Rendered(
            subject=formats.cjk_spacing(" ".join(subject.split())),
            text=formats.cjk_spacing(_tidy_text(text)),
            html=formats.cjk_spacing_html(html.strip()) + "\n",
            locale=chosen,
        )

    def plan_url(self, plan_id: object) -> str:
        return f"{self.base_url}/plans/{plan_id}"

    def _choose(self, kind: str, locale: str, context: Mapping[str, Any]) -> tuple[str, str]:
        for folder in template_folders(kind, context):
            for candidate in locale_candidates(locale, self.default_locale):
                try:
                    self.env.get_template(f"{folder}/subject.{candidate}.j2")
                except TemplateNotFound:
                    continue
                return folder, candidate
        raise TemplateProblem(kind, f"no template for locale '{locale}' (built-in: en, zh-CN)")

    def _extras(self, locale: str, context: Mapping[str, Any]) -> dict[str, Any]:
        plan = context["plan"]
        plan_id = plan["id"] if isinstance(plan, Mapping) else getattr(plan, "id", "")
        return {
            "locale": locale,
            "plan_url": self.plan_url(plan_id),
            "plan_ref": f"PIP-{plan_id}",
            "sender": self.sender_name or default_sender(locale),
        }

    def _part(self, name: str, context: Mapping[str, Any]) -> str:
        try:
            return self.env.get_template(name).render(context)
        except TemplateNotFound as missing:
            raise TemplateProblem(name, "is missing (every part is needed per locale)") from missing
        except UndefinedError as undefined:
            raise TemplateProblem(name, f"uses a value it was not given: {undefined}") from None
        except TemplateError as broken:
            raise TemplateProblem(name, str(broken)) from None
        except (TypeError, ValueError, LookupError, AttributeError) as failed:
            # A filter given a value it cannot read: still this template's problem.
            raise TemplateProblem(name, f"{type(failed).__name__}: {failed}") from None
