"""What a transition announces, and to whom, is data in the definition: its own `announce`,
else the announcement perfplan made before definitions said it, which keeps installed
definitions announcing as they did and the built-ins at the same version."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from models.db import session_scope
from models.definitions import DefinitionVersion
from states.definitions import catalog, library
from states.definitions.compiled import CompiledDefinition, compile_definition
from states.definitions.loader import parse_definition
from states.definitions.schema import Announcement
from tests.states.definitions.support import SHIPPED, STANDARD, TINY, problems_of

# The built-ins' content hashes on main before announcements were data: the plans bound
# to them must find them unchanged.
HASH_ON_MAIN = {
    "standard": "22c90088b2ac2083e11a92927471bf75c7deb253f9d9366a053081ce4441e3c0",
    "probation": "debf947161819044e502ff3bad89f128e6afc42fd7c2ab39e40cc1dd548bb6d9",
}
EVERYONE = ["employee", "manager", "hr"]
STATES = """\
states:
  open: {label: {en: Open, zh-CN: 进行中}, initial: true}
  closed: {label: {en: Closed, zh-CN: 已结束}, final: true}
transitions:
"""


def without_announce_lines(text: str) -> str:
    return re.sub(r"(?m)^ *announce:.*\n", "", text)


def compiled(text: str, *, installed: bool = False) -> CompiledDefinition:
    return compile_definition(parse_definition(text, source="t.yaml", installed=installed), text)


def tiny(transition: str, roles: str = "") -> str:
    return TINY + roles + STATES + transition


@pytest.mark.parametrize("name", sorted(HASH_ON_MAIN))
def test_a_builtin_keeps_its_hash_with_its_announcements_written_out(name: str) -> None:
    text = (SHIPPED / f"{name}.yaml").read_text(encoding="utf-8")
    assert re.search(r"(?m)^ *announce: \{message", text)

    written_out = compiled(text)
    as_installed = compiled(without_announce_lines(text), installed=True)

    assert written_out.hash == as_installed.hash == HASH_ON_MAIN[name]


def test_the_builtins_announce_what_perfplan_announced_before() -> None:
    standard = compiled(STANDARD)
    before = compiled(without_announce_lines(STANDARD))

    assert {t: (a.message, a.to) for t, a in standard.announcements.items()} == {
        "agree": ("plan_agreed", EVERYONE),
        "start": ("plan_started", [*EVERYONE, "mentor"]),
        "adjust": ("adjustment_proposed", EVERYONE),
        "reconfirm": ("adjustment_reconfirmed", EVERYONE),
        "evaluate": ("evaluation_ready", EVERYONE),
    }
    assert before.announcements == standard.announcements
    probation = catalog.find("probation")
    assert probation.announcement("review_midpoint") is None
    assert probation.announcement("confirm") == Announcement(
        message="evaluation_ready", to=EVERYONE
    )
    assert probation.announcement("no_such_event") is None


def test_renamed_events_announce_what_their_definition_says() -> None:
    text = STANDARD.replace("trigger: agree", "trigger: consent").replace(
        "message: plan_agreed, to: [employee, manager, hr]", "message: plan_agreed, to: [hr]"
    )

    renamed = compiled(text)

    assert renamed.announcement("consent") == Announcement(message="plan_agreed", to=["hr"])
    assert renamed.announcement("agree") is None
    assert renamed.hash != HASH_ON_MAIN["standard"]


def test_an_announcement_other_than_the_compatible_one_is_another_version() -> None:
    plain = STANDARD.replace(
        "    announce: {message: plan_agreed, to: [employee, manager, hr]}\n", ""
    )
    narrower = STANDARD.replace(
        "message: plan_agreed, to: [employee, manager, hr]", "message: plan_agreed, to: [hr]"
    )
    reordered = STANDARD.replace(
        "message: plan_agreed, to: [employee, manager, hr]",
        "message: plan_agreed, to: [hr, manager, employee]",
    )

    assert compiled(plain).hash == HASH_ON_MAIN["standard"]
    assert compiled(narrower).hash != HASH_ON_MAIN["standard"]
    assert compiled(reordered).hash != HASH_ON_MAIN["standard"]


def test_the_compatible_announcement_leaves_out_roles_the_definition_lacks() -> None:
    employee = "  employee: {label: {en: Employee, zh-CN: 员工}}\n"
    start = (
        "  - {trigger: start, source: open, dest: closed, roles: [manager], flows: [announce]}\n"
    )

    assert compiled(tiny(start, employee)).announcement("start") == Announcement(
        message="plan_started", to=["employee", "manager"]
    )
    # A definition with none of the roles it went to has nothing to announce.
    no_one = tiny(start).replace("manager", "coach")
    assert [p.code for p in problems_of(no_one)] == ["NOTHING_TO_ANNOUNCE"]


def test_evaluation_ready_goes_with_the_evaluation_report() -> None:
    announced = "    announce: {message: evaluation_ready, to: [manager]}\n"
    text = tiny(
        "  - trigger: close\n    source: open\n    dest: closed\n    roles: [manager]\n"
        "    flows: [announce]\n" + announced
    )

    [problem] = problems_of(text)

    assert (problem.code, problem.path) == ("ANNOUNCE_WITHOUT_EFFECT", "transitions[0].announce")
    assert "evaluation_report" in problem.message
    with_report = text.replace("flows: [announce]", "flows: [evaluation_report]")
    assert compiled(with_report).announcement("close") == Announcement(
        message="evaluation_ready", to=["manager"]
    )


def test_announcing_nothing_on_purpose_is_written_null() -> None:
    close = "  - trigger: close\n    source: open\n    dest: closed\n    roles: [manager]\n"
    silent = tiny(close + "    flows: [announce]\n    announce: null\n")

    assert compiled(silent).announcement("close") is None
    assert (
        compiled(silent).hash
        == compiled(tiny(close + "    flows: [announce]\n"), installed=True).hash
    )
    [problem] = problems_of(tiny(close + "    flows: [announce]\n"))
    assert problem.code == "NOTHING_TO_ANNOUNCE"
    assert "plan_agreed" in problem.message  # the messages there are


def test_an_installed_version_loads_though_a_later_rule_would_refuse_it(engine: Engine) -> None:
    """Probation v1 as installed before announcements were data: three transitions list the
    announce effect and announce nothing, which a new definition may not do."""
    text = without_announce_lines((SHIPPED / "probation.yaml").read_text(encoding="utf-8"))
    assert "NOTHING_TO_ANNOUNCE" in {p.code for p in problems_of(text)}
    with session_scope(engine) as session:
        session.add(
            DefinitionVersion(
                name="probation",
                version=1,
                hash=HASH_ON_MAIN["probation"],
                source=text,
                installed_at=datetime(2026, 1, 5, tzinfo=UTC),
            )
        )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(catalog, "_BY_HASH", {})
        patch.setattr(catalog, "_BY_TEXT", type(catalog._BY_TEXT)())
        with session_scope(engine) as session:
            installed = catalog.by_hash(session, HASH_ON_MAIN["probation"])

    assert installed.hash == HASH_ON_MAIN["probation"]
    assert installed.announcement("start") == Announcement(
        message="plan_started", to=[*EVERYONE, "mentor"]
    )


def test_a_definition_shows_what_each_transition_announces() -> None:
    described = library.describe(compiled(without_announce_lines(STANDARD)))

    announced = {t["trigger"]: t.get("announce") for t in described["transitions"]}
    assert announced["agree"] == {"message": "plan_agreed", "to": EVERYONE}
    assert announced["evaluate"] == {"message": "evaluation_ready", "to": EVERYONE}
    probation = library.describe(catalog.find("probation"))
    assert "announce" not in probation["transitions"][2]  # review_midpoint
