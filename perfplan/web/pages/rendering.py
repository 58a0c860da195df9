"""Rendering the pages: one Jinja2 environment, the words of each locale, and the
locale a request is answered in (the `lang` cookie, else the person's own)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from people import access, identity
from perfplan.web.deps import LANG_COOKIE

HERE = Path(__file__).parent
LOCALES = ("en", "zh-CN")


@cache
def words(locale: str) -> dict[str, str]:
    """The catalog of one locale (loaded once per process)."""
    text = (HERE / "i18n" / f"{locale}.yaml").read_text(encoding="utf-8")
    return {str(k): str(v) for k, v in yaml.safe_load(text).items()}


def locale_of(request: Request, signed: identity.SignedIn | None = None) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LOCALES:
        return str(chosen)
    if signed is not None and signed.viewer.locale in LOCALES:
        return signed.viewer.locale
    accepted = request.headers.get("accept-language", "")
    return "zh-CN" if accepted.lower().startswith("zh") else "en"


class _Environment(Environment):
    """Looks a key up first in the plain dicts that the read models give: Jinja's own
    `row.title` tries the attribute first, and the exception it catches for every field
    of every row costs ~10 % of a list page."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


@cache
def environment() -> Environment:
    env = _Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # The templates ship with the code: compiled once, never checked for changes
        # (auto_reload stats each template's file on every render).
        auto_reload=False,
    )
    return env


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    signed: identity.SignedIn | None = None,
    status: int = 200,
) -> HTMLResponse:
    """A page in the request's locale; `t(key)` gives its words, `csrf` the form token."""
    locale = locale_of(request, signed)
    catalog = words(locale)

    def t(key: str, **values: Any) -> str:
        text = catalog.get(key) or words("en").get(key) or key
        return text.format(**values) if values else text

    page = (
        environment()
        .get_template(template)
        .render(
            request=request,
            t=t,
            locale=locale,
            other_locale="zh-CN" if locale == "en" else "en",
            viewer=signed.viewer if signed else None,
            may=(lambda right: access.may(signed.viewer, right)) if signed else (lambda _r: False),
            csrf=signed.csrf_token if signed else "",
            **(context or {}),
        )
    )
    return HTMLResponse(page, status_code=status)
