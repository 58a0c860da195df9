"""The pages in a real browser: Playwright driving Debian's Chromium against the app
served by uvicorn. Li signs after Zhang and sees the plan agreed; Audrey verifies a
history; Zhang cannot open Liu's plan. Screenshots of the main pages are kept in
test-artifacts/screenshots/ (gitignored)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.perfplan.web.conftest import PASSWORD, LiveServer, World
from tests.perfplan.web.pages_support import start

# SQLite only: the page tests cover PostgreSQL; a browser adds nothing there.
pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (Debian's chromium package)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    opened = context.new_page()
    yield opened
    context.close()


def log_in(page: Page, server: LiveServer, world: World, person: str) -> None:
    world.set_password(person)
    page.context.clear_cookies()
    page.goto(f"{server.url}/login")
    page.fill("input[name=person]", person)
    page.fill("input[name=password]", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{server.url}/plans")


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_li_signs_after_zhang_and_sees_the_plan_agreed(
    page: Page, live_server: LiveServer, world: World
) -> None:
    plan = f"{live_server.url}/plans/{world.zhang_plan}"
    log_in(page, live_server, world, "zhang")
    shot(page, "my-plans-zhang-zh")
    page.goto(plan)
    page.click("button[data-sign=agree]")
    expect(page.locator("#notice")).to_be_visible()
    log_in(page, live_server, world, "li")
    page.goto(plan)
    expect(page.locator("#plan-state")).to_have_text("Drafted")
    shot(page, "plan-li-before-signing")
    page.fill("form.sign input[name=comment]", "Agreed in our 1:1")
    page.click("button[data-sign=agree]")
    expect(page.locator("#notice")).to_have_text("Your signature is recorded.")
    expect(page.locator("#plan-state")).to_have_text("Drafted")  # Wang has not signed yet
    log_in(page, live_server, world, "wang")
    page.goto(plan)
    page.click("button[data-sign=agree]")
    log_in(page, live_server, world, "li")
    page.goto(plan)
    expect(page.locator("#plan-state")).to_have_text("Agreed")
    expect(page.locator("button[data-event=start]")).to_be_visible()
    expect(page.locator("#verify-status")).to_contain_text("chain verified")
    shot(page, "plan-li-agreed")


def test_audrey_verifies_a_plans_history(page: Page, live_server: LiveServer, world: World) -> None:
    log_in(page, live_server, world, "audrey")
    page.goto(f"{live_server.url}/audit")
    page.fill("form.search input[name=plan]", str(world.zhang_plan))
    page.click("#search")
    expect(page.locator("table.history tbody tr").first).to_contain_text("create")
    page.click("#verify")
    expect(page.locator("#verify-result #verify-status")).to_contain_text("chain verified")
    shot(page, "audit-audrey")
    page.goto(f"{live_server.url}/plans/{world.zhang_plan}")
    expect(page.locator("#nothing-to-do")).to_have_text("You can read this plan but not change it.")
    expect(page.locator("#actions-now form")).to_have_count(0)


def test_zhang_cannot_open_liu_s_plan(page: Page, live_server: LiveServer, world: World) -> None:
    log_in(page, live_server, world, "zhang")
    answer = page.goto(f"{live_server.url}/plans/{world.liu_plan}")
    assert answer is not None and answer.status == 404
    expect(page.locator("p.error")).to_have_text("没有这个页面，或您无权查看。")
    assert "刘洋" not in page.content()


def test_screenshots_of_the_main_pages(
    page: Page, live_server: LiveServer, world: World, client: TestClient
) -> None:
    start(client, world, world.zhang_plan)  # signed off, begun on 2026-09-01: milestones run
    world.clock.advance(days=33)  # 2026-10-04: the training milestones are late
    log_in(page, live_server, world, "wang")
    page.goto(f"{live_server.url}/overdue")
    expect(page.locator("table.late-milestones tbody tr")).to_have_count(2)
    shot(page, "overdue-wang")
    page.goto(f"{live_server.url}/plans/{world.zhang_plan}")
    expect(page.locator("svg.timeline circle.late")).to_have_count(2)
    shot(page, "plan-wang-zh")
    log_in(page, live_server, world, "adam")
    page.goto(f"{live_server.url}/admin/definitions")
    page.fill("textarea[name=source]", "name: broken\nversion: 0\nstates: {}\n")
    page.click("#check-definition")
    expect(page.locator("table.problems tbody tr").first).to_be_visible()
    shot(page, "admin-adam-check")
    page.goto(f"{live_server.url}/admin/definitions/standard/1")
    shot(page, "admin-adam-definition")


def test_adam_imports_the_organisation_after_reading_the_preview(
    page: Page, live_server: LiveServer, world: World, tmp_path: Path
) -> None:
    example = Path(__file__).resolve().parents[3] / "docs" / "examples" / "zhang-organisation.csv"
    moved = example.read_text(encoding="utf-8").replace(",Sales East,li,", ",Sales East,chen,")
    hr_file = tmp_path / "hr.csv"
    hr_file.write_text(moved + "ines,Inês Ma,ines@example.com,zh-CN,Internal Audit,,\n")
    log_in(page, live_server, world, "adam")
    page.click("text=People")
    page.set_input_files("input[name=upload]", str(hr_file))
    page.click("#preview-import")
    row = page.locator('tr[data-change="manager:zhang"]')
    expect(row).to_contain_text("changed manager")
    expect(row).to_contain_text("li")
    expect(page.locator("#confirm-import")).to_have_text("Import 2 changes")
    shot(page, "import-adam-preview")
    page.click("#confirm-import")
    expect(page.locator("#notice")).to_have_text(
        "hr.csv: 2 changes imported, each recorded in the organisation's audit chain."
    )
    page.click("button:has-text('中文')")  # the same file again, in Chinese: nothing to change
    page.set_input_files("input[name=upload]", str(hr_file))
    page.click("#preview-import")
    expect(page.locator("#nothing")).to_contain_text("没有需要变更的内容")
    bad = tmp_path / "bad.csv"
    bad.write_text(moved.replace(",chen,", ",nobody,"))
    page.set_input_files("input[name=upload]", str(bad))
    page.click("#preview-import")
    expect(page.locator('tr[data-row="4"][data-column="manager"]')).to_contain_text("nobody")
    shot(page, "import-adam-problems-zh")
