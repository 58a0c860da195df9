"""A real PostgreSQL for the tests: started if it is not running, one fresh
database per test (copied from a migrated template), all dropped at the end."""

from __future__ import annotations

import os
import queue
import subprocess
import threading
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from models.db import make_engine
from models.migrate import upgrade

ADMIN_URL = os.environ.get(
    "PERFPLAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _ready() -> bool:
    try:
        with psycopg.connect(_dsn(ADMIN_URL), connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def ensure_running() -> None:
    """Start the machine's PostgreSQL cluster when it is not up (as CI may find it)."""
    if _ready():
        return
    versions = sorted(Path("/etc/postgresql").glob("*")) if Path("/etc/postgresql").is_dir() else []
    if versions:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1].name, "main", "start"],
            check=False,
            capture_output=True,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _ready():
            return
        time.sleep(0.5)
    raise RuntimeError(f"PostgreSQL is not reachable at {ADMIN_URL} and could not be started")


class PostgresFactory:
    """Hands out fresh databases named perfplan_test_<run>_<n>, copies of a migrated template."""

    def __init__(self) -> None:
        ensure_running()
        self.run = uuid.uuid4().hex[:8]
        self.admin = psycopg.connect(_dsn(ADMIN_URL), autocommit=True)
        self.template = f"perfplan_test_{self.run}_template"
        self.created: list[str] = []
        self.dropping: queue.Queue[str | None] = queue.Queue()
        self.dropper = threading.Thread(target=self._drop_all, daemon=True)
        self.dropper.start()
        self.admin.execute(f'CREATE DATABASE "{self.template}"')
        engine = make_engine(self.url(self.template))
        try:
            upgrade(engine)
        finally:
            engine.dispose()

    def url(self, database: str) -> str:
        return make_url(ADMIN_URL).set(database=database).render_as_string(hide_password=False)

    def empty(self) -> str:
        name = f"perfplan_test_{self.run}_{len(self.created)}"
        self.admin.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        self._unsynced(name)
        return self.url(name)

    def fresh(self) -> str:
        name = f"perfplan_test_{self.run}_{len(self.created)}"
        self.admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.created.append(name)
        self._unsynced(name)
        return self.url(name)

    def _unsynced(self, name: str) -> None:
        """A commit does not wait for the disk (a crash may lose the last ones; a test
        database never outlives the run): what is committed and seen stays the same."""
        self.admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')

    def drop(self, url: str) -> None:
        name = make_url(url).database
        self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop_later(self, url: str) -> None:
        """Dropped by a thread of its own (2-10 s each under load, mostly the disk): the
        next test need not wait; `close` waits for every drop."""
        self.dropping.put(make_url(url).database)

    def _drop_all(self) -> None:
        with psycopg.connect(_dsn(ADMIN_URL), autocommit=True) as admin:
            while (name := self.dropping.get()) is not None:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        self.dropping.put(None)
        self.dropper.join()
        for name in [*self.created, self.template]:
            self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.close()
