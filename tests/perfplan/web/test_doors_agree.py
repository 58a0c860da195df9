"""The command line, the API and the pages read one schema with one set of bounds: fed the
same generated inputs (numbers written every way a person might, days, texts up to and
past their limits, NUL characters), all three accept the same ones and refuse the same
ones, each refusal naming the field. Before, the CLI read `20260901` and `2026-W36-1` as
days, the pages read `1,000` as 1 and a coaching talk of 10²³ minutes, and the API
refused all of them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from states.plans.bounds import COACHING_MINUTES, TEXT_LIMIT
from tests.conftest import Cli, cli_runner
from tests.perfplan.web.conftest import World
from tests.perfplan.web.pages_support import post, sign_in, start

EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**17), max_value=10**17).map(str),
    st.sampled_from(
        ["1,000", "1_000", " 70 ", "7e1", "0x10", "١٢", "１２", "nan", "-inf", "Infinity", ""]
    ),
    st.text(max_size=6),
)
days = st.one_of(
    st.dates().map(str),
    st.sampled_from(["20260901", "2026-W36-1", "2026-9-1", "0", "２０２６-09-01", "2026-02-30"]),
    st.text(max_size=12),
)
texts = st.one_of(
    st.text(max_size=40),
    st.integers(min_value=TEXT_LIMIT - 2, max_value=TEXT_LIMIT + 2).map(lambda n: "x" * n),
    st.sampled_from(["\x00", "a\x00b", "[bold]x[/]", "  "]),
)
minutes = st.one_of(
    st.integers(min_value=-5, max_value=COACHING_MINUTES + 5).map(str),
    st.sampled_from([str(10**23), "15.5", "1e2", "", " 30 ", "٣٠"]),
)


@dataclass
class Doors:
    client: TestClient
    world: World
    cli: Cli

    def api(self, who: str, path: str, body: dict[str, Any]) -> bool:
        """The JSON body as a client would send it (numbers as numbers where they are)."""
        answer = self.client.post(
            f"/api/plans/{self.world.zhang_plan}/{path}",
            content=json.dumps(body),
            headers={**self.world.headers(who), "Content-Type": "application/json"},
        )
        assert answer.status_code < 500, (answer.status_code, answer.text)
        return answer.status_code < 300

    def page(self, who: str, form: str, fields: dict[str, str]) -> bool:
        csrf = sign_in(self.client, self.world, who)
        answer = post(self.client, self.world, self.world.zhang_plan, form, csrf, **fields)
        assert answer.status_code == 303 or 400 <= answer.status_code < 500, answer.status_code
        return answer.status_code == 303

    def command(self, *args: str) -> bool:
        moment = self.world.clock().isoformat()
        result = self.cli(*args, "--now", moment)
        return result.code == 0  # a refusal is a sentence: the runner fails on a traceback


@pytest.fixture
def doors(
    client: TestClient,
    world: World,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Doors:
    start(client, world, world.zhang_plan)
    monkeypatch.setenv("PERFPLAN_DATABASE_URL", db_url)
    monkeypatch.delenv("PERFPLAN_NOW", raising=False)
    return Doors(client, world, cli_runner(capsys))


def _as_json(text: str) -> Any:
    """A number a JSON client would send as a number; anything else as the text typed."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _agree(said: dict[str, bool], given_: dict[str, str]) -> None:
    assert len(set(said.values())) == 1, f"the doors disagree on {given_!r}: {said}"


@EXAMPLES
@given(value=numbers, day=days, note=texts)
def test_a_measurement_is_read_alike_at_every_door(
    doors: Doors, value: str, day: str, note: str
) -> None:
    plan = str(doors.world.zhang_plan)
    body = {"goal": "contracts", "value": _as_json(value), "note": note}
    if day.strip():  # a blank field on the page, no --on on the command line: today
        body["measured_on"] = day
    said = {
        "api": doors.api("li", "measurements", body),
        "page": doors.page(
            "li", "measure", {"goal": "contracts", "value": value, "measured_on": day, "note": note}
        ),
        "cli": doors.command(
            "plan", "measure", plan, "contracts", value, "--as", "li", "--on", day, "--note", note
        ),
    }
    _agree(said, {"value": value, "day": day, "note": note})


@EXAMPLES
@given(summary=texts, blockers=texts)
def test_a_progress_report_is_read_alike_at_every_door(
    doors: Doors, summary: str, blockers: str
) -> None:
    plan = str(doors.world.zhang_plan)
    fields = {"summary": summary, "blockers": blockers}
    said = {
        "api": doors.api("zhang", "progress-reports", dict(fields)),
        "page": doors.page("zhang", "progress", fields),
        "cli": doors.command(
            "plan",
            "report-progress",
            plan,
            "--as",
            "zhang",
            "--summary",
            summary,
            "--blockers",
            blockers,
        ),
    }
    _agree(said, fields)


@EXAMPLES
@given(length=minutes, notes=texts.filter(lambda t: t.strip() != ""))
def test_a_coaching_talk_is_read_alike_at_every_door(doors: Doors, length: str, notes: str) -> None:
    plan = str(doors.world.zhang_plan)
    body = {"notes": notes} | ({"minutes": _as_json(length)} if length.strip() else {})
    said = {
        "api": doors.api("li", "coaching-sessions", body),
        "page": doors.page("li", "coaching", {"notes": notes, "minutes": length}),
        "cli": doors.command(
            "plan", "coach", plan, "--as", "li", "--notes", notes, "--minutes", length
        ),
    }
    _agree(said, {"minutes": length, "notes": notes})
