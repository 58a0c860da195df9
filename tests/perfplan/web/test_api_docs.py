"""/api/docs, the JSON API's documentation, loads with no internet: every file it needs is
this app's own, under its own Content-Security-Policy, and in a real browser Swagger UI
renders the API's operations (it was a blank page: its files came from a CDN that the
policy blocks)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, ConsoleMessage, expect, sync_playwright

from perfplan.web.app import SECURITY_HEADERS
from tests.perfplan.web.conftest import LiveServer
from tests.perfplan.web.test_browser import ARGS, CHROMIUM, shot

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_every_file_of_the_docs_is_served_by_the_app(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == SECURITY_HEADERS["Content-Security-Policy"]
    assert "<script>" not in page.text  # no inline script: the policy would block it
    files = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(files) == 4
    for address in files:
        assert address.startswith("/"), address  # this origin, never a CDN
        served = client.get(address)
        assert served.status_code == 200, address
        assert len(served.content) > 100, address
    bundle = client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert bundle.headers["content-type"].startswith(("text/javascript", "application/javascript"))


def test_the_openapi_document_is_not_hidden_by_the_docs(client: TestClient) -> None:
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    assert "/api/docs" not in answer.json()["paths"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (Debian's chromium package)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.mark.browser
def test_the_docs_render_the_operations_in_a_browser_offline(
    browser: Browser, live_server: LiveServer
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=False)
    # Anything asked of another origin fails, as it would on a machine without internet.
    context.route(
        re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort("internetdisconnected")
    )
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: _note(problems, m))
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        page.goto(f"{live_server.url}/api/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("perfplan")
        operations = page.locator(".opblock")
        expect(operations.first).to_be_visible()
        assert operations.count() > 20
        expect(page.locator(".opblock-summary-path", has_text="/api/plans").first).to_be_visible()
        page.locator(".opblock-summary", has_text="/api/plans").first.click()
        expect(page.locator(".opblock-body").first).to_be_visible()
        shot(page, "api-docs")
    finally:
        context.close()
    assert not problems, problems


def _note(problems: list[str], message: ConsoleMessage) -> None:
    if message.type == "error":
        problems.append(message.text)
