"""Every message kind renders in both languages for every role it addresses,
strictly (no undefined variable), with HTML escaped, and admins' overrides
win file by file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from jinja2 import BaseLoader, Environment

from notifications.errors import TemplateProblem, UnknownKind
from notifications.kinds import KINDS, dedup_key
from notifications.rendering import BUILTIN, Renderer, locale_candidates, normalise_locale
from notifications.samples import PREVIEW_ROLES, SIGN_OFF, sample_context

LOCALES = ("en", "zh-CN")
CASES = [
    (kind, role, level)
    for kind, roles in PREVIEW_ROLES.items()
    for role in roles
    for level in ((1, 2, 3) if kind == "milestone_overdue" else (1,))
]
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer.build(base_url="https://perfplan.example.com")


def test_every_kind_has_an_audience_and_every_part_in_both_locales() -> None:
    assert set(PREVIEW_ROLES) == set(KINDS)
    folders = [kind for kind in KINDS if kind != "milestone_overdue"]
    folders += [f"milestone_overdue/level{n}" for n in (1, 2, 3)]
    for folder in folders:
        for part in ("subject", "body.txt", "body.html"):
            for locale in LOCALES:
                assert (BUILTIN / folder / f"{part}.{locale}.j2").is_file(), (folder, part, locale)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("kind", "role", "level"), CASES)
def test_template_renders_completely(
    renderer: Renderer, kind: str, role: str, level: int, locale: str
) -> None:
    rendered = renderer.render(kind, locale, sample_context(kind, role=role, level=level))
    assert rendered.locale == locale
    assert rendered.subject and "\n" not in rendered.subject
    assert "PIP-1" in rendered.subject
    for body in (rendered.text, rendered.html):
        assert "https://perfplan.example.com/plans/1" in body
        assert "{{" not in body and "{%" not in body
    assert rendered.html.startswith("<!DOCTYPE html>")
    assert f'<html lang="{locale}">' in rendered.html
    chinese = bool(
        CJK.search(
            rendered.text.replace("张三", "")
            .replace("王芳", "")
            .replace("孙浩", "")
            .replace("陈静", "")
        )
    )
    assert chinese == (locale == "zh-CN"), "the body is in the reader's language"


def test_zhang_reads_chinese_and_li_reads_english(renderer: Renderer) -> None:
    zhang = renderer.render("milestone_due_soon", "zh-CN", sample_context("milestone_due_soon"))
    li = renderer.render(
        "milestone_due_soon", "en", sample_context("milestone_due_soon", role="manager")
    )
    assert (
        zhang.subject
        == "里程碑将于 2026 年 10 月 9 日到期：First analysis report approved（PIP-1）"
    )
    assert "张三 Zhang San，您好" in zhang.text
    assert "2026 年 10 月 9 日（星期五）" in zhang.text
    assert "请尽早告知 Li Wei" in zhang.text
    assert li.subject.startswith("张三 Zhang San's milestone due 9 Oct 2026")
    assert "Dear Li Wei," in li.text
    assert "due in 3 business days, on Friday 9 October 2026" in li.text


def test_each_escalation_level_has_its_own_wording(renderer: Renderer) -> None:
    subjects = {
        level: renderer.render(
            "milestone_overdue",
            "en",
            sample_context("milestone_overdue", role=role, level=level),
        ).subject
        for level, role in ((1, "manager"), (2, "department_head"), (3, "hr"))
    }
    assert subjects[1].startswith("Overdue milestone in 张三 Zhang San's plan")
    assert subjects[2].startswith("Escalation: a milestone in 张三 Zhang San's improvement plan")
    assert "4 business days overdue" in subjects[2]
    assert subjects[3].startswith("HR review needed")
    assert "8 business days overdue" in subjects[3]


def test_a_ladder_longer_than_the_templates_uses_the_highest_level(renderer: Renderer) -> None:
    context = sample_context("milestone_overdue", role="hr", level=3)
    context["level"] = 5
    rendered = renderer.render("milestone_overdue", "en", context)
    assert rendered.subject.startswith("HR review needed")


def test_a_missing_variable_is_an_error_not_a_blank(renderer: Renderer) -> None:
    context = sample_context("milestone_due_soon")
    del context["milestone"]["title"]
    with pytest.raises(TemplateProblem, match=r"milestone_due_soon/subject\.en\.j2.*title"):
        renderer.render("milestone_due_soon", "en", context)


def test_a_missing_context_key_is_named_before_rendering(renderer: Renderer) -> None:
    context = sample_context("coaching_session_due")
    del context["coaching"]
    with pytest.raises(TemplateProblem, match="lacks coaching"):
        renderer.render("coaching_session_due", "en", context)


def test_unknown_kind_lists_the_known_ones(renderer: Renderer) -> None:
    with pytest.raises(UnknownKind, match="milestone_overdue"):
        renderer.render("milestone_missed", "en", {})


def test_html_is_escaped_and_text_is_not(renderer: Renderer) -> None:
    context = sample_context("plan_started")
    context["plan"]["title"] = 'Q4 <script>alert("x")</script> & co'
    context["goals"][0]["title"] = "<b>contracts</b>"
    rendered = renderer.render("plan_started", "en", context)
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert "&lt;b&gt;contracts&lt;/b&gt;" in rendered.html
    assert 'Q4 <script>alert("x")</script> & co' in rendered.text


def test_override_directory_wins_file_by_file(tmp_path: Path) -> None:
    folder = tmp_path / "milestone_due_soon"
    folder.mkdir()
    (folder / "subject.en.j2").write_text(
        "[HR] {{ milestone.title }} due {{ milestone.due | shortdate }}", encoding="utf-8"
    )
    renderer = Renderer.build(overrides=tmp_path)
    english = renderer.render("milestone_due_soon", "en", sample_context("milestone_due_soon"))
    chinese = renderer.render("milestone_due_soon", "zh-CN", sample_context("milestone_due_soon"))
    assert english.subject == "[HR] First analysis report approved due 9 Oct 2026"
    assert "A milestone of your plan" in english.text  # the built-in body is still used
    assert chinese.subject.startswith("里程碑将于")  # only the English subject was overridden


def test_an_override_can_change_the_shared_footer(tmp_path: Path) -> None:
    (tmp_path / "_layout").mkdir()
    (tmp_path / "_layout" / "footer.txt.en.j2").write_text(
        "-- \nAcme People Team · {{ plan_ref }}\n", encoding="utf-8"
    )
    renderer = Renderer.build(overrides=tmp_path)
    rendered = renderer.render("plan_agreed", "en", sample_context("plan_agreed"))
    assert rendered.text.rstrip().endswith("Acme People Team · PIP-1")


def test_a_broken_override_is_reported_with_its_name(tmp_path: Path) -> None:
    (tmp_path / "plan_agreed").mkdir()
    (tmp_path / "plan_agreed" / "subject.en.j2").write_text("{{ plan.nope }}", encoding="utf-8")
    renderer = Renderer.build(overrides=tmp_path)
    with pytest.raises(TemplateProblem, match=r"plan_agreed/subject\.en\.j2"):
        renderer.render("plan_agreed", "en", sample_context("plan_agreed"))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("zh_CN", "zh-CN"),
        ("zh-cn", "zh-CN"),
        ("zh", "zh-CN"),
        ("zh-Hans", "zh-CN"),
        ("en-gb", "en-GB"),
        ("EN", "en"),
    ],
)
def test_locales_are_normalised(given: str, expected: str) -> None:
    assert normalise_locale(given) == expected


def test_unknown_locale_falls_back_to_language_then_default(renderer: Renderer) -> None:
    assert locale_candidates("en-GB", "en") == ["en-GB", "en"]
    assert locale_candidates("fr", "en") == ["fr", "en"]
    for locale, expected in (("en-GB", "en"), ("fr-FR", "en"), ("zh_CN", "zh-CN")):
        rendered = renderer.render("plan_agreed", locale, sample_context("plan_agreed"))
        assert rendered.locale == expected


def test_dedup_key_names_plan_kind_subject_level_and_date() -> None:
    key = dedup_key(
        plan_id=7,
        kind="milestone_overdue",
        subject="milestone:report_1",
        level=2,
        due="2026-10-09",
    )
    assert key == "plan:7|milestone_overdue|milestone:report_1|level:2|due:2026-10-09"
    assert key != dedup_key(
        plan_id=7,
        kind="milestone_overdue",
        subject="milestone:report_1",
        level=3,
        due="2026-10-09",
    )
    with pytest.raises(UnknownKind):
        dedup_key(plan_id=7, kind="nope")


# --- one rule for Chinese beside Latin text and figures -----------------------------------

_HAN = "\u3400-\u4dbf\u4e00-\u9fff"
UNSPACED = re.compile(f"[{_HAN}][A-Za-z0-9]|[A-Za-z0-9%][{_HAN}]")
_INLINE_TAG = re.compile(r"</?(a|b|strong|em|i|span|code)\b[^>]*>", re.IGNORECASE)


def _visible(html: str) -> str:
    """The text a reader sees: inline tags run on, any other tag breaks the line."""
    return unescape(re.sub(r"<[^>]*>", "\n", _INLINE_TAG.sub("", html)))


class _Recording(BaseLoader):
    """Passes every lookup on, and remembers which templates were read."""

    def __init__(self, inner: BaseLoader) -> None:
        self.inner, self.read = inner, set[str]()

    def get_source(self, environment: Environment, template: str) -> Any:
        found = self.inner.get_source(environment, template)
        self.read.add(template)
        return found


def _every_reader() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Zhang's plan as every kind says it to every reader, and each variant of wording a
    context chooses (a request to re-confirm, an adjustment its reader proposed)."""
    for kind, role, level in CASES:
        yield kind, role, sample_context(kind, role=role, level=level)
    for role in PREVIEW_ROLES["signature_requested"]:
        context = sample_context("signature_requested", role=role)
        context["signature"]["purpose"] = "reconfirm"
        yield "signature_requested", role, context
    context = sample_context("adjustment_proposed", role="employee")
    context["adjustment"]["proposed_by_role"] = "employee"
    yield "adjustment_proposed", "employee", context


@pytest.mark.parametrize("locale", LOCALES)
def test_every_template_puts_one_space_between_chinese_and_latin_or_digits(locale: str) -> None:
    renderer = Renderer.build(base_url="https://perfplan.example.com")
    recording = _Recording(renderer.env.loader)  # type: ignore[arg-type]
    renderer.env.loader = recording
    for kind, role, context in _every_reader():
        rendered = renderer.render(kind, locale, context)
        for part, text in (
            ("subject", rendered.subject),
            ("text", rendered.text),
            ("html", _visible(rendered.html)),
        ):
            assert not UNSPACED.findall(text), (kind, role, part, UNSPACED.findall(text))
            # The definition's label of an event is a name, never part of a sentence.
            assert SIGN_OFF["en"] not in text and SIGN_OFF["zh-CN"] not in text, (kind, part)
    names = {p.relative_to(BUILTIN).as_posix() for p in BUILTIN.rglob("*.j2")}
    other = "zh-CN" if locale == "en" else "en"
    assert names - recording.read == {n for n in names if n.endswith(f".{other}.j2")}
