"""Signed copies through the doors: the employee, the manager and HR download the copy of
what they signed from the plan page and the API; for anyone else it does not exist."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient

from models.db import session_scope
from states.evidence.checks import check_receipt
from states.evidence.documents import carried_content
from states.evidence.receipts import parse_receipt
from tests.perfplan.web.api_support import call, ok, sign_off
from tests.perfplan.web.conftest import World
from tests.perfplan.web.pages_support import sign_in


def test_each_keeper_downloads_the_signed_copy_from_the_api(
    client: TestClient, world: World
) -> None:
    plan = world.zhang_plan
    answers = [
        ok(client, world, who, "POST", f"/api/plans/{plan}/signatures", json={})
        for who in ("zhang", "li", "wang")
    ]
    assert [a["copy_number"] for a in answers] == [None, None, 1]
    assert answers[0]["receipt"]["person"] == "zhang" and answers[0]["receipt"]["seq"] == 2

    for keeper in ("zhang", "li", "wang"):
        (listed,) = ok(client, world, keeper, "GET", f"/api/plans/{plan}/copies")
        assert listed["signers"] == ["zhang", "li", "wang"]
        assert {a["receipt"]["content_digest"] for a in answers} == {listed["content_digest"]}
        for fmt in ("pdf", "html"):
            got = call(client, world, keeper, "GET", listed[fmt])
            assert got.status_code == 200
            assert got.headers["content-type"].startswith(
                "application/pdf" if fmt == "pdf" else "text/html"
            )
            assert "attachment" in got.headers["content-disposition"]
            assert hashlib.sha256(got.content).hexdigest() == listed[f"{fmt}_sha256"]
            digest = hashlib.sha256(str(carried_content(got.content)).encode()).hexdigest()
            assert digest == listed["content_digest"]


@pytest.mark.parametrize("stranger", ["sun", "chen", "zhao", "liu", "qian", "audrey", "adam"])
def test_anyone_else_finds_no_copy_at_all(client: TestClient, world: World, stranger: str) -> None:
    sign_off(client, world)
    plan = world.zhang_plan
    for url in (f"/api/plans/{plan}/copies", f"/api/plans/{plan}/copies/1.pdf"):
        assert call(client, world, stranger, "GET", url).status_code == 404, url
    missing = call(client, world, "wang", "GET", f"/api/plans/{plan}/copies/2.pdf")
    assert missing.status_code == 404


def test_the_plan_page_offers_the_copy_to_its_keepers_only(
    client: TestClient, world: World
) -> None:
    sign_off(client, world)
    plan = world.zhang_plan
    sign_in(client, world, "zhang")
    page = client.get(f"/plans/{plan}").text
    assert f'href="/plans/{plan}/copies/1.pdf"' in page
    pdf = client.get(f"/plans/{plan}/copies/1.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")

    sign_in(client, world, "audrey")  # reads the plan, keeps no copy
    page = client.get(f"/plans/{plan}").text
    assert "/copies/1.pdf" not in page
    assert client.get(f"/plans/{plan}/copies/1.pdf").status_code == 404
    for bad in ("1.exe", "01234567.pdf", "一.pdf"):
        assert client.get(f"/plans/{plan}/copies/{bad}").status_code == 404


def test_each_signer_gets_their_own_receipts_and_they_hold(
    client: TestClient, world: World
) -> None:
    sign_off(client, world)
    plan = world.zhang_plan
    (zhangs,) = ok(client, world, "zhang", "GET", f"/api/plans/{plan}/receipts")
    assert (zhangs["person"], zhangs["seq"], zhangs["event"]) == ("zhang", 2, "agree")
    assert ok(client, world, "audrey", "GET", f"/api/plans/{plan}/receipts") == []
    assert call(client, world, "liu", "GET", f"/api/plans/{plan}/receipts").status_code == 404

    sign_in(client, world, "li")
    page = client.get(f"/plans/{plan}").text
    assert f'href="/plans/{plan}/receipts/3.json"' in page
    assert f"/plans/{plan}/receipts/2.json" not in page  # Zhang's, not Li's
    assert client.get(f"/plans/{plan}/receipts/2.json").status_code == 404
    kept = client.get(f"/plans/{plan}/receipts/3.json")
    assert kept.status_code == 200
    receipt = parse_receipt(kept.text)
    assert receipt is not None
    with session_scope(world.engine) as session:
        finding = check_receipt(session, receipt)
    assert finding.ok, finding.sentence
