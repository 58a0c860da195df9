"""Who is asking: API tokens (hashed, revocable, expiring), passwords, sessions, CSRF."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from models.db import session_scope
from models.tables import API_TOKEN, WEB_SESSION
from people import identity
from people.errors import SignInLocked, Unauthenticated
from perfplan.errors import exit_code, http_status
from perfplan.web.app import create_app
from perfplan.web.deps import SESSION_COOKIE
from perfplan.web.runtime import Runtime
from perfplan.web.settings import WebSettings
from tests.perfplan.web.conftest import PASSWORD, TESTER, World

pytestmark = pytest.mark.both_databases


def test_a_token_is_stored_only_as_its_digest(world: World) -> None:
    with session_scope(world.engine) as session:
        stored = set(session.execute(select(API_TOKEN.c.token_hash)).scalars())
    assert world.tokens["li"] not in stored
    assert identity.digest(world.tokens["li"]) in stored


def test_me_names_the_tokens_owner(client: TestClient, world: World) -> None:
    answer = client.get("/api/me", headers=world.headers("wang"))
    assert answer.status_code == 200
    assert answer.json()["key"] == "wang"
    assert answer.json()["standing_roles"][0]["role"] == "hr"


def test_no_token_or_a_wrong_one_is_401(client: TestClient, world: World) -> None:
    assert client.get("/api/me").status_code == 401
    wrong = client.get("/api/me", headers={"Authorization": "Bearer pp_not-a-token"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == "Bearer"
    assert wrong.json()["error"] == "Unauthenticated"


def test_a_revoked_token_stops_working_at_once(client: TestClient, world: World) -> None:
    with session_scope(world.engine) as session:
        token_id = identity.list_tokens(session, person="li")[0].id
        identity.revoke_token(session, token_id=token_id, now=world.clock(), by=TESTER)
    assert client.get("/api/me", headers=world.headers("li")).status_code == 401
    assert client.get("/api/me", headers=world.headers("zhang")).status_code == 200


def test_an_expired_token_is_refused(client: TestClient, world: World) -> None:
    with session_scope(world.engine) as session:
        issued = identity.create_token(
            session,
            person="li",
            name="short",
            now=world.clock(),
            by=TESTER,
            expires_at=world.clock() + timedelta(hours=1),
        )
    headers = {"Authorization": f"Bearer {issued.token}"}
    assert client.get("/api/me", headers=headers).status_code == 200
    world.clock.advance(hours=2)
    answer = client.get("/api/me", headers=headers)
    assert answer.status_code == 401
    assert "expired" in answer.json()["detail"]


def _login_form(client: TestClient) -> str:
    page = client.get("/login")
    return page.text.split('name="csrf_token" value="')[1].split('"')[0]


def test_sign_in_opens_a_session_and_sign_out_ends_it(client: TestClient, world: World) -> None:
    world.set_password("li")
    csrf = _login_form(client)
    answer = client.post(
        "/login",
        data={"person": "li", "password": PASSWORD, "csrf_token": csrf, "next": "/plans"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    cookie = answer.cookies[SESSION_COOKIE]
    with session_scope(world.engine) as session:
        signed = identity.session_viewer(session, cookie=cookie, now=world.clock())
    assert signed.viewer.key == "li"
    out = client.post("/logout", data={"csrf_token": signed.csrf_token}, follow_redirects=False)
    assert out.status_code == 303
    with session_scope(world.engine) as session:
        revoked = session.execute(select(WEB_SESSION.c.revoked_at)).scalar()
    assert revoked is not None


def test_a_wrong_password_and_an_unknown_person_read_the_same(
    client: TestClient, world: World
) -> None:
    world.set_password("li")
    answers = []
    for person, password in [("li", "wrong password!"), ("nobody", PASSWORD)]:
        csrf = _login_form(client)
        answers.append(
            client.post("/login", data={"person": person, "password": password, "csrf_token": csrf})
        )
    assert [a.status_code for a in answers] == [401, 401]
    assert all("Unknown user name or wrong password" in a.text for a in answers)
    assert SESSION_COOKIE not in client.cookies


def test_a_login_without_its_form_token_is_refused(client: TestClient, world: World) -> None:
    world.set_password("li")
    client.get("/login")
    form = {"person": "li", "password": PASSWORD, "csrf_token": "forged"}
    answer = client.post("/login", data=form, follow_redirects=False)
    assert answer.status_code == 400
    assert SESSION_COOKIE not in answer.cookies


def test_a_form_without_the_sessions_csrf_token_changes_nothing(
    client: TestClient, world: World
) -> None:
    world.set_password("li")
    csrf = _login_form(client)
    client.post("/login", data={"person": "li", "password": PASSWORD, "csrf_token": csrf})
    answer = client.post("/logout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert answer.status_code == 403
    with session_scope(world.engine) as session:
        assert session.execute(select(WEB_SESSION.c.revoked_at)).scalar() is None


def test_pages_send_strangers_to_the_login_page(client: TestClient) -> None:
    answer = client.get("/plans/1", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/plans/1"


def test_login_never_redirects_to_another_site(client: TestClient, world: World) -> None:
    world.set_password("li")
    for target in ["https://evil.example/", "//evil.example/", "/plans/1"]:
        csrf = _login_form(client)
        answer = client.post(
            "/login",
            data={"person": "li", "password": PASSWORD, "csrf_token": csrf, "next": target},
            follow_redirects=False,
        )
        assert answer.headers["location"] == (target if target == "/plans/1" else "/plans")


def test_a_new_password_signs_out_other_browsers(client: TestClient, world: World) -> None:
    world.set_password("li")
    csrf = _login_form(client)
    answer = client.post(
        "/login",
        data={"person": "li", "password": PASSWORD, "csrf_token": csrf},
        follow_redirects=False,
    )
    cookie = answer.cookies[SESSION_COOKIE]
    world.set_password("li", "another long password")
    with session_scope(world.engine) as session:
        try:
            identity.session_viewer(session, cookie=cookie, now=world.clock())
        except Unauthenticated:
            return
    raise AssertionError("the old session still works")


def _sign_in_as(client: TestClient, person: str, password: str) -> Any:
    data = {"person": person, "password": password, "csrf_token": _login_form(client)}
    return client.post("/login", data=data, follow_redirects=False)


def test_wrong_passwords_lock_the_page_with_429_and_say_when_to_try_again(
    client: TestClient, world: World
) -> None:
    world.set_password("li")
    answers = [_sign_in_as(client, "li", "wrong password!") for _ in range(40)]
    assert [a.status_code for a in answers[:4]] == [401] * 4
    assert {a.status_code for a in answers[4:]} == {429}
    assert answers[4].headers["Retry-After"] == "900"  # 15 minutes, by the frozen clock
    assert "Try again after 2026-08-25 09:15 UTC (in 15 min)" in answers[4].text
    right = _sign_in_as(client, "li", PASSWORD)
    assert right.status_code == 429
    assert SESSION_COOKIE not in right.cookies
    world.clock.advance(minutes=10)
    assert _sign_in_as(client, "li", PASSWORD).headers["Retry-After"] == "300"
    world.clock.advance(minutes=5)
    assert _sign_in_as(client, "li", PASSWORD).status_code == 303


def test_a_locked_unknown_name_reads_as_a_locked_real_one(client: TestClient, world: World) -> None:
    world.set_password("li")
    pages = {}
    for person in ("li", "nobody"):
        for _ in range(5):
            answer = _sign_in_as(client, person, "wrong password!")
        pages[person] = (answer.status_code, answer.headers["Retry-After"], answer.text)
    assert pages["li"][:2] == pages["nobody"][:2] == (429, "900")
    # The same page, but for the name typed and the form's fresh token.
    li, nobody = (re.sub(r'value="[^"]*"', "", pages[p][2]) for p in ("li", "nobody"))
    assert li == nobody


def test_the_throttles_figures_are_settings(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERFPLAN_WEB_SIGNIN_ACCOUNT_ATTEMPTS", "2")
    monkeypatch.setenv("PERFPLAN_WEB_SIGNIN_LOCKOUT_MINUTES", "1")
    settings = WebSettings()
    rules = settings.signin_rules()
    assert (rules.account.attempts, rules.account.lockout) == (2, timedelta(minutes=1))
    assert (rules.address.attempts, rules.account.max_lockout) == (20, timedelta(hours=4))
    world.set_password("li")
    runtime = Runtime(engine=world.engine, settings=settings, now=world.clock)
    with TestClient(create_app(runtime)) as client:
        answers = [_sign_in_as(client, "li", "wrong password!") for _ in range(3)]
        assert [a.status_code for a in answers] == [401, 429, 429]
        assert answers[1].headers["Retry-After"] == "60"


def test_a_lockout_is_429_and_exit_4_wherever_it_is_raised() -> None:
    locked = SignInLocked(datetime(2026, 8, 25, 9, 15, tzinfo=UTC), 900)
    assert (http_status(locked), exit_code(locked)) == (429, 4)
    assert (
        str(locked) == "too many failed sign-ins: try again after 2026-08-25 09:15 UTC (in 15 min)"
    )
