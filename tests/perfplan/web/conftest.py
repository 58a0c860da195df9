"""The web's world: Zhang's plan and a second plan in another department, the
standing roles, personal tokens, an in-process client and a live server.

Personas beyond docs/examples/zhang.yaml:
  Liu Yang (刘洋), Technical Support, on a plan of her own, managed by Zhao;
  Qian (钱) from HR, covering Technical Support; Audrey the auditor; Adam the admin.
Wang from HR covers Sales East.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from models.clock import FrozenClock
from models.db import create_schema, make_engine, session_scope
from people import access, identity
from people.directory import add_person
from people.orgaudit import Acting
from perfplan.web.app import create_app
from perfplan.web.runtime import Runtime
from perfplan.web.settings import WebSettings
from states.plans.document import PlanDocument
from states.plans.opening import create_plan, read_document_file
from tests.conftest import DRAFTING_DAY, ZHANG_FILE

PASSWORD = "correct horse battery"
HERE = Path(__file__).resolve().parent

# Who sets the test world up, as the organisation chain records it.
TESTER = Acting("tester", "cli")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The web's tests run on SQLite: the services under the routes and pages run on both
    databases in their own tests. Those marked `both_databases` — where the database
    itself decides (the access policy's SQL, tokens, PostgreSQL's own refusals) — run on
    PostgreSQL too. PERFPLAN_TEST_WEB_ON_POSTGRES=1 runs every web test on both."""
    if os.environ.get("PERFPLAN_TEST_WEB_ON_POSTGRES") == "1":
        return
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("db_url") == "postgresql"
        ours = HERE in Path(str(item.path)).parents
        if ours and on_postgres and not item.get_closest_marker("both_databases"):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real Argon2id with small costs: the tests sign in often."""
    monkeypatch.setattr(
        identity, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


def liu_document(zhang_doc: PlanDocument) -> PlanDocument:
    """Liu's plan: Zhang's goals, another employee, department, manager and HR partner."""
    data = zhang_doc.model_dump()
    return PlanDocument.model_validate(
        data
        | {
            "title": "Liu Yang — ticket response times",
            "departments": [{"name": "Technical Support", "head": None}],
            "people": [
                {
                    "key": "liu",
                    "name": "刘洋 Liu Yang",
                    "email": "liu.yang@example.com",
                    "locale": "zh-CN",
                    "department": "Technical Support",
                    "manager": "zhao",
                },
                {
                    "key": "zhao",
                    "name": "赵磊 Zhao Lei",
                    "email": "zhao.lei@example.com",
                    "locale": "zh-CN",
                    "department": "Technical Support",
                },
                {
                    "key": "qian",
                    "name": "钱敏 Qian Min",
                    "email": "qian.min@example.com",
                    "locale": "zh-CN",
                    "department": "HR",
                },
            ],
            "roles": {"employee": ["liu"], "manager": ["zhao"], "hr": ["qian"]},
            "actions": [
                a | {"executor": "liu", "supporter": None, "collaborators": []}
                for a in data["actions"]
            ],
        }
    )


@dataclass
class World:
    """Both plans, and a token per persona (`headers("li")` for the API)."""

    engine: Engine
    clock: FrozenClock
    zhang_plan: int
    liu_plan: int
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, person: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[person]}"}

    def set_password(self, person: str, password: str = PASSWORD) -> None:
        with session_scope(self.engine) as session:
            identity.set_password(
                session, person=person, password=password, now=self.clock(), by=TESTER
            )

    @property
    def today(self) -> date:
        return self.clock().date()


PERSONAS = ("zhang", "li", "wang", "sun", "chen", "zhao", "liu", "qian", "audrey", "adam")


def build_world(engine: Engine, zhang_doc: PlanDocument, clock: FrozenClock) -> World:
    with session_scope(engine) as session:
        zhang = create_plan(session=session, document=zhang_doc, actor="wang", now=clock())
        liu_doc = liu_document(zhang_doc)
        liu = create_plan(session=session, document=liu_doc, actor="qian", now=clock())
        add_person(
            session,
            key="audrey",
            name="Audrey Lin",
            email="audrey@example.com",
            now=clock(),
            by=TESTER,
            department="Internal Audit",
        )
        add_person(
            session,
            key="adam",
            name="Adam Xu",
            email="adam@example.com",
            now=clock(),
            by=TESTER,
            department="IT",
        )
        for person, role, department in [
            ("wang", "hr", "Sales East"),
            ("qian", "hr", "Technical Support"),
            ("audrey", "auditor", None),
            ("adam", "admin", None),
        ]:
            access.grant(
                session, person=person, role=role, department=department, now=clock(), by=TESTER
            )
        tokens = {
            p: identity.create_token(session, person=p, name="test", now=clock(), by=TESTER).token
            for p in PERSONAS
        }
    return World(engine, clock, zhang, liu, tokens)


# The SQLite world is built once per test process and copied into each test's database
# (1.3 s of setup per web test otherwise): the copy's rows, ids and token digests are the
# template's, so the tokens it handed out sign in.
_SQLITE_WORLD: dict[str, tuple[Path, World]] = {}


def _sqlite_world_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, World]:
    if "world" not in _SQLITE_WORLD:
        file = tmp_path_factory.mktemp("world-template") / "world.db"
        engine = make_engine(f"sqlite:///{file}")
        create_schema(engine)
        template = build_world(engine, read_document_file(ZHANG_FILE), FrozenClock(DRAFTING_DAY))
        engine.dispose()
        _SQLITE_WORLD["world"] = (file, template)
    return _SQLITE_WORLD["world"]


@pytest.fixture
def world(
    engine: Engine,
    zhang_doc: PlanDocument,
    clock: FrozenClock,
    tmp_path_factory: pytest.TempPathFactory,
) -> World:
    standard = clock() == DRAFTING_DAY and zhang_doc == read_document_file(ZHANG_FILE)
    if engine.dialect.name != "sqlite" or not standard:
        return build_world(engine, zhang_doc, clock)
    file, template = _sqlite_world_template(tmp_path_factory)
    engine.dispose()
    with sqlite3.connect(file) as source, engine.connect() as connection:
        target = connection.connection.driver_connection
        assert isinstance(target, sqlite3.Connection)
        source.backup(target)
    engine.dispose()
    return World(engine, clock, template.zhang_plan, template.liu_plan, dict(template.tokens))


@pytest.fixture
def runtime(world: World) -> Runtime:
    """The app's runtime on the test database and frozen clock; effects after commit
    are carried out in-process, as `perfplan web` does."""
    return Runtime(engine=world.engine, settings=WebSettings(), now=world.clock)


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), raise_server_exceptions=True) as test_client:
        yield test_client


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    runtime: Runtime


@pytest.fixture
def live_server(runtime: Runtime) -> Iterator[LiveServer]:
    """The app served by uvicorn on a free loopback port, in a thread (for the browser)."""
    port = free_port()
    config = uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/api/health", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    yield LiveServer(url, runtime)
    server.should_exit = True
    thread.join(timeout=10)
