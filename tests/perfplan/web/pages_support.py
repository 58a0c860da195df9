"""Helpers of the page tests: sign a persona in, read a page's CSRF token, post a form."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from models.db import session_scope
from models.tables import PLAN
from tests.perfplan.web.conftest import PASSWORD, World

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form token"
    return found.group(1)


def sign_in(client: TestClient, world: World, person: str) -> str:
    """Sign `person` in (a fresh session); returns the session's CSRF token."""
    world.set_password(person)
    client.cookies.clear()
    login = client.get("/login")
    answer = client.post(
        "/login",
        data={
            "person": person,
            "password": PASSWORD,
            "csrf_token": csrf_of(login.text),
            "next": "/plans",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/plans").text)


def plan_row(world: World, plan_id: int) -> dict[str, object]:
    with session_scope(world.engine) as session:
        return dict(session.execute(select(PLAN).where(PLAN.c.id == plan_id)).one()._mapping)


def post(
    client: TestClient, world: World, plan_id: int, what: str, csrf: str, **fields: str
) -> httpx.Response:
    """Post a plan-page form with the plan's current version, as the page would."""
    version = str(plan_row(world, plan_id)["version"])
    data = {"csrf_token": csrf, "version": version} | fields
    return client.post(f"/plans/{plan_id}/{what}", data=data, follow_redirects=False)


def sign_off(client: TestClient, world: World, plan_id: int) -> None:
    """Zhang, then Li and Wang sign; the last signature fires `agree`."""
    for person in ("zhang", "li", "wang"):
        csrf = sign_in(client, world, person)
        answer = post(client, world, plan_id, "sign", csrf, event="agree")
        assert answer.status_code == 303, answer.text


def start(client: TestClient, world: World, plan_id: int) -> str:
    """Signed off, the period begun, Li starts the plan; returns Li's CSRF token."""
    sign_off(client, world, plan_id)
    world.clock.advance(days=7)  # 2026-09-01, the first day of the period
    csrf = sign_in(client, world, "li")
    answer = post(client, world, plan_id, "fire", csrf, event="start")
    assert answer.status_code == 303, answer.text
    return csrf
