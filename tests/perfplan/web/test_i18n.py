"""The pages' words: both catalogs have the same keys, every key a template uses is in
both, every key built from a value (`t('choice.' ~ outcome)`) exists for each value it
can take, and every placeholder of a sentence is the same in both languages."""

from __future__ import annotations

import re
import string
from typing import get_args

from people import orgaudit
from perfplan.web.pages.plans import ADJUSTABLE, NOTICES
from perfplan.web.pages.rendering import HERE, LOCALES, words
from states.definitions import catalog
from states.engine.registry import ACTIVITIES
from states.intake.people import LABELS
from states.plans.document import EvidenceDoc, GoalDoc, ResourceDoc
from views.status import RUN_KINDS

TEMPLATES = sorted((HERE / "templates").glob("*.j2"))
LITERAL_KEY = re.compile(r"""\bt\(\s*'([a-z0-9_.]+)'\s*[,)]""")
BUILT_KEY = re.compile(r"""\bt\(\s*'([a-z0-9_.]+)'\s*~""")
# The plan lists name their words by the list shown: t(kind ~ '.title').
LIST_KEY = re.compile(r"""\bt\(\s*kind\s*~\s*'([a-z0-9_.]+)'\s*\)""")
LISTS = ("mine", "team", "all")


def template_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in TEMPLATES)


def test_both_catalogs_have_the_same_keys() -> None:
    english, chinese = set(words("en")), set(words("zh-CN"))
    assert english - chinese == set(), "missing in zh-CN.yaml"
    assert chinese - english == set(), "missing in en.yaml"
    assert LOCALES == ("en", "zh-CN")


def test_every_key_a_template_uses_is_in_both_catalogs() -> None:
    used = set(LITERAL_KEY.findall(template_text()))
    assert len(used) > 150  # the pattern finds the keys (a broken one would find none)
    for locale in LOCALES:
        missing = used - set(words(locale))
        assert not missing, f"{locale} lacks {sorted(missing)}"


def test_every_word_of_every_plan_list_is_in_both_catalogs() -> None:
    suffixes = set(LIST_KEY.findall(template_text()))
    assert suffixes == {".title", ".intro", ".none"}
    for locale in LOCALES:
        missing = [k + s for k in LISTS for s in suffixes if k + s not in words(locale)]
        assert not missing, f"{locale} lacks {missing}"


def _values_of(field: object) -> list[str]:
    return list(get_args(field))


def built_keys() -> dict[str, list[str]]:
    """Each prefix a template completes with a value, and every value it may take."""
    definitions = [catalog.load_file(p) for p in catalog.definition_files(catalog.BUILTIN_DIR)]
    inputs = [i for d in definitions for spec in d.spec.transitions for i in spec.inputs.values()]
    outcomes = sorted({choice for wanted in inputs for choice in wanted.choices or []})
    return {
        "activity.": [*ACTIVITIES],
        "adjustment.": ["proposed", "confirmed"],
        "choice.": outcomes,
        "direction.": _values_of(GoalDoc.model_fields["direction"].annotation),
        "evidence.": _values_of(EvidenceDoc.model_fields["kind"].annotation),
        "field.": [f for fields in ADJUSTABLE.values() for f in fields],
        "plan.": list(ADJUSTABLE),
        "resource.": _values_of(ResourceDoc.model_fields["status"].annotation),
        "audit.kind_": ["transition", "signature", "record"],
        "notice.": list(NOTICES),
        "admin.run.": list(RUN_KINDS),
        "audit.org_kind.": list(orgaudit.KINDS),
        "import.kind.": list(LABELS),
    }


def test_every_key_built_from_a_value_exists_for_each_value() -> None:
    prefixes = set(BUILT_KEY.findall(template_text()))
    known = built_keys()
    assert prefixes <= set(known), f"templates build keys from {sorted(prefixes - set(known))}"
    assert "successful" in known["choice."] and "kpi" in known["evidence."]
    for locale in LOCALES:
        catalog_words = words(locale)
        missing = [
            p + v for p, values in known.items() for v in values if p + v not in catalog_words
        ]
        assert not missing, f"{locale} lacks {missing}"


def test_placeholders_match_between_the_languages() -> None:
    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    english, chinese = words("en"), words("zh-CN")
    different = {
        k: (english[k], chinese[k]) for k in english if fields(english[k]) != fields(chinese[k])
    }
    assert not different
