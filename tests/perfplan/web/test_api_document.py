"""The OpenAPI document: every API route tagged, summarised, and listing its refusals."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.perfplan.web.conftest import World


def _operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    document = client.get("/openapi.json").json()
    return [
        (path, method, op)
        for path, ops in document["paths"].items()
        if path.startswith("/api")
        for method, op in ops.items()
    ]


def test_every_route_is_documented_with_its_refusals(client: TestClient, world: World) -> None:
    operations = _operations(client)
    # 29, GET /api/status, the organisation chain, and the signed copies, a copy and receipts
    assert len(operations) == 34
    for path, method, op in operations:
        where = f"{method.upper()} {path}"
        assert op.get("tags") and op.get("summary"), where
        if path != "/api/health":
            assert "401" in op["responses"], where
            assert op["security"] == [{"HTTPBearer": []}], where
        for status, answer in op["responses"].items():
            if status.startswith("4"):
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, where
    assert "HTTPValidationError" not in client.get("/openapi.json").json()["components"]["schemas"]


def test_health_needs_no_token(client: TestClient) -> None:
    assert client.get("/api/health").json() == {"status": "ok"}


def test_an_unknown_api_path_answers_in_the_error_body(client: TestClient, world: World) -> None:
    answer = client.get("/api/nothing-here", headers=world.headers("li"))
    assert answer.status_code == 404
    assert answer.json() == {
        "detail": "Not Found",
        "error": "HTTPException",
        "field": None,
        "problems": [],
    }


def test_the_calendar_feed_is_a_route_outside_the_api_document(client: TestClient) -> None:
    """`/calendar/{token}.ics` is read by calendar applications, with its token as the
    only key (no bearer token): served, and kept out of the API's document."""
    answer = client.get("/calendar/no-such-token.ics")
    assert (answer.status_code, answer.text) == (404, "no such calendar feed")
    assert not any("calendar" in p for p in client.get("/openapi.json").json()["paths"])
