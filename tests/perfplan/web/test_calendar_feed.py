"""The private calendar feed: its owner reads the events of their plans; a revoked or
unknown token answers 404; one person's token never shows another's plan."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from icalendar import Calendar

from models.db import session_scope
from people import feeds
from people.access import load_viewer
from tests.perfplan.web.conftest import World
from tests.perfplan.web.pages_support import sign_in


def _token(world: World, person: str) -> str:
    with session_scope(world.engine) as session:
        viewer = load_viewer(session, key=person)
        return feeds.create(session, person_id=viewer.id, now=world.clock())


def feed_plans(client: TestClient, token: str) -> set[int]:
    """The plan ids whose events the feed holds (from the events' UIDs)."""
    answer = client.get(f"/calendar/{token}.ics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(answer.content)
    assert str(calendar["METHOD"]) == "PUBLISH"
    return {
        int(str(e["UID"]).removeprefix("perfplan-plan").partition("-")[0])
        for e in calendar.walk("VEVENT")
    }


def test_the_owner_reads_their_plans_and_a_stranger_never_does(
    client: TestClient, world: World
) -> None:
    zhang, liu = _token(world, "zhang"), _token(world, "liu")
    assert feed_plans(client, zhang) == {world.zhang_plan}
    assert feed_plans(client, liu) == {world.liu_plan}
    answer = client.get(f"/calendar/{zhang}.ics")
    assert "Milestone due" not in answer.text  # Zhang reads Chinese
    assert "里程碑截止" in str(Calendar.from_ical(answer.content).walk("VEVENT")[0]["SUMMARY"])


def test_a_revoked_renewed_or_unknown_token_opens_nothing(client: TestClient, world: World) -> None:
    first = _token(world, "li")
    second = _token(world, "li")  # a new address ends the old one
    assert client.get(f"/calendar/{first}.ics").status_code == 404
    assert feed_plans(client, second) == {world.zhang_plan}
    with session_scope(world.engine) as session:
        viewer = load_viewer(session, key="li")
        assert feeds.revoke(session, person_id=viewer.id, now=world.clock()) == 1
    assert client.get(f"/calendar/{second}.ics").status_code == 404
    assert client.get("/calendar/not-a-token.ics").status_code == 404
    assert client.get(f"/calendar/{'x' * 500}.ics").status_code == 404


def test_a_person_makes_and_revokes_their_feed_on_their_page(
    client: TestClient, world: World
) -> None:
    csrf = sign_in(client, world, "li")
    page = client.get("/calendar")
    assert page.status_code == 200 and 'id="feed-none"' in page.text
    made = client.post("/calendar/new", data={"csrf_token": csrf})
    found = re.search(r'<code id="feed-url">[^<]*/calendar/([^<.]+)\.ics</code>', made.text)
    assert made.status_code == 200 and found, made.text
    token = found.group(1)
    assert feed_plans(client, token) == {world.zhang_plan}
    assert 'id="feed-url"' not in client.get("/calendar").text  # shown once
    assert client.post("/calendar/revoke", data={"csrf_token": "forged"}).status_code == 403
    assert feed_plans(client, token) == {world.zhang_plan}  # a forged form changes nothing
    revoked = client.post("/calendar/revoke", data={"csrf_token": csrf})
    assert 'id="feed-revoked"' in revoked.text
    assert client.get(f"/calendar/{token}.ics").status_code == 404
    client.cookies.clear()
    assert client.get("/calendar", follow_redirects=False).status_code in (303, 401)
