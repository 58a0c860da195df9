"""Property-based tests of the whole API from its own OpenAPI document (schemathesis):
no request, however odd, gets a server error or a status the document does not list,
and every answer matches its documented schema and content type.

SQLite only: the generated requests test the API's contract, not the database
(the route tests run on both). Bounded examples keep it under a minute; see the
environment switches below for a deeper run.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from models.db import make_engine
from perfplan.web.app import create_app
from perfplan.web.runtime import Runtime
from tests.perfplan.web.api_support import output_in_tmp
from tests.perfplan.web.conftest import World

__all__ = ["output_in_tmp"]

# PERFPLAN_SCHEMATHESIS_EXAMPLES=200 for a deeper hunt; the default keeps the run under a
# minute (explicit examples and 10 generated requests per operation, valid and invalid).
EXAMPLES = int(os.environ.get("PERFPLAN_SCHEMATHESIS_EXAMPLES", "10"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


class CurrentApp:
    """The ASGI app of the running test (its own database), behind one loaded schema.

    The OpenAPI document does not depend on the database, so it is loaded once, at
    import; each test points this at an app on its fresh database. (schemathesis'
    lazy fixture loader does not run on this pytest.)"""

    def __init__(self) -> None:
        self.app: Any = create_app(Runtime(engine=make_engine("sqlite://")))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


CURRENT = CurrentApp()
schema = schemathesis.openapi.from_asgi("/openapi.json", CURRENT)
# The coverage phase (every boundary and negative case of every parameter, other HTTP
# methods) doubles the run: PERFPLAN_SCHEMATHESIS_COVERAGE=1 turns it on for a deep hunt.
schema.config.phases.coverage.enabled = bool(os.environ.get("PERFPLAN_SCHEMATHESIS_COVERAGE"))
ASKERS = itertools.cycle(["wang", "audrey", "adam", "li"])
PLAN_IDS: list[int] = []


@schema.hook("map_path_parameters")
def real_plans_mostly(_context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """Two in three plan ids name a plan that exists, so routes get past the gate."""
    plan_id = (path_parameters or {}).get("plan_id")
    if isinstance(plan_id, int) and plan_id % 3 and PLAN_IDS:
        path_parameters = {**(path_parameters or {}), "plan_id": PLAN_IDS[plan_id % 2]}
    return path_parameters


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only, here: this overrides the both-databases fixture of tests/conftest.py."""
    return f"sqlite:///{tmp_path / 'perfplan.db'}"


@pytest.fixture
def api_world(world: World, runtime: Runtime) -> World:
    """The web world, served by the app the loaded schema calls."""
    CURRENT.app = create_app(runtime)
    PLAN_IDS[:] = [world.zhang_plan, world.liu_plan]
    return world


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_the_api_keeps_its_documented_contract(case: Any, api_world: World) -> None:
    # Each example asks as the next of HR, an auditor and an admin: between them they hold
    # every standing right, so each route is seen both refusing and answering.
    person = next(ASKERS)
    case.call_and_validate(headers=api_world.headers(person), checks=CHECKS)
