"""How values read in each language: dates, cadences, roles, outcomes, lists.

Installed as Jinja2 filters; each reads the template's `locale`. Any value may
also be a mapping of locale to text (as definitions write labels), which `tr`
resolves.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

# The words for values, in each language, are data (`templates/words.yaml`).
_WORDS: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parent / "templates" / "words.yaml").read_text(encoding="utf-8")
)
_WEEKDAYS: dict[str, list[str]] = _WORDS["weekdays"]
_MONTHS: list[str] = _WORDS["months"]
ROLES: dict[str, dict[str, str]] = _WORDS["roles"]
OUTCOMES: dict[str, dict[str, str]] = _WORDS["outcomes"]
FIELDS: dict[str, dict[str, str]] = _WORDS["fields"]
_CADENCE_UNITS: dict[str, dict[str, str]] = _WORDS["cadence_units"]
_EN_NUMBERS = ["", "one", "two", "three", "four"]
_ZH_NUMBERS = ["", "一", "两", "三", "四"]


def _lang(context: Context) -> str:
    return "zh" if str(context.get("locale", "en")).startswith("zh") else "en"


def as_date(value: date | datetime | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


@pass_context
def tr(context: Context, value: Any) -> Any:
    """A {locale: text} mapping in the reader's language (else English, else any)."""
    if not isinstance(value, Mapping):
        return value
    locale = str(context.get("locale", "en"))
    for key in (locale, locale.partition("-")[0], "zh-CN" if locale.startswith("zh") else "en"):
        if key in value:
            return value[key]
    return next(iter(value.values()), "")


@pass_context
def longdate(context: Context, value: date | datetime | str) -> str:
    """Friday 9 October 2026 / 2026 年 10 月 9 日（星期五）."""
    return _spelled_date(_lang(context), as_date(value), long=True)


@pass_context
def shortdate(context: Context, value: date | datetime | str) -> str:
    """9 Oct 2026 / 2026 年 10 月 9 日."""
    return _spelled_date(_lang(context), as_date(value), long=False)


def _spelled_date(lang: str, day: date, *, long: bool) -> str:
    """A day in the reader's language; `long` adds the weekday and spells out the month."""
    weekday = _WEEKDAYS[lang][day.weekday()]
    if lang == "zh":
        return f"{day.year} 年 {day.month} 月 {day.day} 日" + (f"（{weekday}）" if long else "")
    if long:
        return f"{weekday} {day.day} {_MONTHS[day.month - 1]} {day.year}"
    return f"{day.day} {_MONTHS[day.month - 1][:3]} {day.year}"


@pass_context
def cadence(context: Context, value: str) -> str:
    """P1W -> every week / 每周; P2W -> every two weeks / 每两周."""
    match = re.fullmatch(r"P(\d+)([DWM])", str(value).strip().upper())
    lang = _lang(context)
    if not match:
        return str(value)
    count, unit = int(match.group(1)), _CADENCE_UNITS[match.group(2)][lang]
    if lang == "zh":
        spoken = _ZH_NUMBERS[count] if count < len(_ZH_NUMBERS) else str(count)
        return f"每{unit}" if count == 1 else f"每{spoken}{'个' if unit == '月' else ''}{unit}"
    if count == 1:
        return f"every {unit}"
    spoken = _EN_NUMBERS[count] if count < len(_EN_NUMBERS) else str(count)
    return f"every {spoken} {unit}s"


def _label(table: Mapping[str, Mapping[str, str]]) -> Callable[[Context, str], str]:
    @pass_context
    def label(context: Context, key: str) -> str:
        entry = table.get(str(key))
        return entry[_lang(context)] if entry else str(key).replace("_", " ")

    return label


@pass_context
def business_days(context: Context, count: int) -> str:
    """3 business days / 3 个工作日."""
    if _lang(context) == "zh":
        return f"{count} 个工作日"
    return f"{count} business day{'' if count == 1 else 's'}"


@pass_context
def join_names(context: Context, names: Iterable[Any]) -> str:
    """A, B and C / A、B和C."""
    items = [str(tr(context, name)) for name in names]
    if len(items) < 2:
        return "".join(items)
    if _lang(context) == "zh":
        return "、".join(items[:-1]) + "和" + items[-1]
    return ", ".join(items[:-1]) + " and " + items[-1]


def number(value: float | int | str | None) -> str:
    """95.0 -> 95; 72.5 -> 72.5; None -> –."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    return f"{value:g}" if float(value) != int(value) else str(int(value))


@pass_context
def value_text(context: Context, value: Any) -> str:
    """A changed value as it reads: dates as dates, the rest as text."""
    if isinstance(value, date):
        return shortdate(context, value)
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return shortdate(context, value)
    return str(tr(context, value))


# Chinese copywriting (the "中文文案排版指北" guidelines): one half-width space between
# Chinese and Latin letters or digits, whichever side each stands on ("逾期 4 个工作日",
# "以 HR 业务伙伴身份", "张三 Zhang San 的计划", "2026 年 10 月 9 日"); none next to
# full-width punctuation ("张三 Zhang San，您好").
_CJK = "\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u3200-\u32ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_LATIN = "A-Za-z0-9"
_CJK_LATIN = re.compile(f"([{_CJK}])([{_LATIN}])")
_LATIN_CJK = re.compile(f"([{_LATIN}%])([{_CJK}])")
_CJK_CHAR = re.compile(f"[{_CJK}]")
_LATIN_CHAR = re.compile(f"[{_LATIN}%]")
# Tags that run inside a line of text: a space may be needed across them.
_INLINE = re.compile(r"</?(a|b|strong|em|i|span|code)\b", re.IGNORECASE)
_TAG = re.compile(r"(<[^>]*>)")


def cjk_spacing(text: str) -> str:
    """`text` with the rule applied: a space between Chinese and Latin letters or digits."""
    return _LATIN_CJK.sub(r"\1 \2", _CJK_LATIN.sub(r"\1 \2", text))


def _needs_space(before: str, after: str) -> bool:
    return bool(
        (_CJK_CHAR.fullmatch(before) and _LATIN_CHAR.match(after) and after != "%")
        or (_LATIN_CHAR.fullmatch(before) and _CJK_CHAR.match(after))
    )


def cjk_spacing_html(html: str) -> str:
    """The rule applied to the text of an HTML document, across inline tags (`逾期<strong>4
    个工作日</strong>` -> `逾期 <strong>4 个工作日</strong>`), never inside a tag."""
    parts, last = [], ""  # the last character of text on the current line
    for part in _TAG.split(html):
        if part.startswith("<"):
            parts.append(part)
            last = last if _INLINE.match(part) else ""
            continue
        if not part:
            continue
        spaced = cjk_spacing(part)
        if last and _needs_space(last, spaced[0]):
            spaced = " " + spaced
        parts.append(spaced)
        last = spaced[-1]
    return "".join(parts)


def install(env: Environment) -> None:
    env.filters.update(
        tr=tr,
        longdate=longdate,
        shortdate=shortdate,
        cadence=cadence,
        role=_label(ROLES),
        outcome=_label(OUTCOMES),
        field=_label(FIELDS),
        business_days=business_days,
        join_names=join_names,
        number=number,
        value=value_text,
        spaced=cjk_spacing,
    )
