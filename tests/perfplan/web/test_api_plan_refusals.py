"""`POST /api/plans` refuses what a plan document may not do (issue 13, holes found):
change people or departments that exist (403), open a plan for an employee of a
department the opener's HR role does not cover (403, whatever role the document gives
them), name a definition by a path or quote a definition file (422), create a person
under the automation's key (422), or name people who cannot complete a chain (422).
Nothing is stored by a refusal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from models.db import session_scope
from models.tables import DEPARTMENT, PERSON, PLAN
from states.plans.opening import read_document_file
from tests.conftest import ZHANG_FILE
from tests.perfplan.web.api_support import call, output_in_tmp
from tests.perfplan.web.conftest import World, liu_document

__all__ = ["output_in_tmp"]


def _zhang() -> dict[str, Any]:
    return read_document_file(ZHANG_FILE).model_dump(mode="json")


def _stored(world: World) -> tuple[Any, ...]:
    with session_scope(world.engine) as session:
        plans = session.execute(select(func.count()).select_from(PLAN)).scalar_one()
        people = session.execute(select(PERSON).order_by(PERSON.c.id)).all()
        departments = session.execute(select(DEPARTMENT).order_by(DEPARTMENT.c.id)).all()
    return plans, [tuple(p) for p in people], [tuple(d) for d in departments]


def _refused(client: TestClient, world: World, who: str, document: Any, status: int) -> Any:
    before = _stored(world)
    answer = call(client, world, who, "POST", "/api/plans", json=document)
    assert answer.status_code == status, answer.text
    assert _stored(world) == before
    return answer.json()


def test_a_document_that_changes_a_manager_is_forbidden(client: TestClient, world: World) -> None:
    document = _zhang()
    for listed in document["people"]:
        if listed["key"] == "li":
            listed["manager"] = "wang"

    body = _refused(client, world, "wang", document, 403)

    assert body["error"] == "DocumentForbidden"
    assert body["problems"] == [
        "people.li.manager: Li Wei already exists with manager sun; "
        "a plan document does not change existing people"
    ]


def test_hr_cannot_make_someone_head_of_another_department(
    client: TestClient, world: World
) -> None:
    """The hole as found: Wang (HR of Sales East) names Li head of Technical Support, who
    would then read and sign its plans."""
    document = _zhang()
    document["departments"] = [{"name": "Technical Support", "head": "li"}]

    body = _refused(client, world, "wang", document, 403)

    assert body["problems"] == [
        "departments.Technical Support.head: Technical Support already exists with no head; "
        "a plan document does not change existing departments"
    ]


def test_hr_of_sales_east_cannot_open_a_plan_for_technical_support(
    client: TestClient, world: World, zhang_doc: Any
) -> None:
    liu = liu_document(zhang_doc).model_dump(mode="json")
    liu["roles"]["hr"] = "wang"  # Wang names herself Liu's HR partner

    body = _refused(client, world, "wang", liu, 403)

    assert body["problems"] == [
        "roles.employee: liu is in Technical Support; wang is HR for Sales East only, "
        "and opens plans for its employees"
    ]
    zhang = _zhang()
    zhang["roles"]["hr"] = "qian"
    assert "zhang is in Sales East" in _refused(client, world, "qian", zhang, 403)["problems"][0]


def test_a_definition_is_a_name_and_no_file_is_quoted(
    client: TestClient, world: World, tmp_path: Path
) -> None:
    (tmp_path / "evil.yaml").write_text("name: evil\nversion: 1\nsecret: TOP-SECRET\n")
    for named in (str(tmp_path / "evil"), "../../evil", "evil.yaml", "a\\b"):
        document = _zhang() | {"definition": named}

        body = _refused(client, world, "wang", document, 422)

        assert "TOP-SECRET" not in str(body)
        assert body["problems"][0].startswith(f"definition: '{named}' is not the name of a")


def test_no_one_is_created_under_the_automations_key(client: TestClient, world: World) -> None:
    document = _zhang()
    document["people"].append({"key": "system", "name": "Mallory", "email": "m@example.com"})
    document["roles"]["mentor"] = "system"

    body = _refused(client, world, "wang", document, 422)

    assert "people.6.key: 'system' is reserved for perfplan's own automation" in str(body)
    assert "roles.mentor.0: 'system' is reserved" in str(body)


def test_a_manager_who_is_also_the_hr_partner_is_refused(client: TestClient, world: World) -> None:
    document = _zhang()
    document["roles"]["manager"] = "wang"

    body = _refused(client, world, "wang", document, 422)

    assert body["problems"] == [
        "roles: wang is both manager and hr; 'agree' needs two different signers"
    ]
