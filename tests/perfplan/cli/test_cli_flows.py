"""`perfplan sweep` and `perfplan dispatch` as cron runs them: each delivers what waits
in the ledger even when it has nothing of its own to do."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from models.db import make_engine
from models.tables import NOTIFICATION
from notifications.message import Recipient
from tests.conftest import Cli
from tests.notifications.support import enqueue_sample, make_config
from tests.perfplan.cli.conftest import zhangs_plan
from workflows import messages

QUEUED_AT = datetime(2026, 8, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def outbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("PERFPLAN_OUTBOX_DIR", str(tmp_path / "outbox"))
    messages.config.cache_clear()
    yield tmp_path / "outbox"
    messages.config.cache_clear()


def _queue_one(db_url: str, tmp_path: Path, plan_id: int) -> int:
    """A message recorded after the change that would have sent it (a retry, say)."""
    engine = make_engine(db_url)
    try:
        (queued,) = enqueue_sample(
            engine,
            make_config(tmp_path),
            kind="progress_report_due",
            recipient=Recipient(person_id=1, role="employee", email="zhang@example.com"),
            plan_id=plan_id,
            now=QUEUED_AT,
        )
        return queued.id
    finally:
        engine.dispose()


def _status(db_url: str, notification_id: int) -> str:
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            return str(
                connection.execute(
                    select(NOTIFICATION.c.status).where(NOTIFICATION.c.id == notification_id)
                ).scalar_one()
            )
    finally:
        engine.dispose()


@pytest.mark.parametrize("command", ["sweep", "dispatch"])
def test_a_run_with_nothing_of_its_own_to_do_still_delivers_what_is_queued(
    initialised: Cli, outbox: Path, db_url: str, tmp_path: Path, command: str
) -> None:
    plan_id = zhangs_plan(initialised)
    waiting = _queue_one(db_url, tmp_path, plan_id)
    assert _status(db_url, waiting) == "queued"

    ran = initialised(command, "--as-of", "2026-08-25T12:05", "--json")

    assert ran.code == 0, ran.err
    assert ran.json()["delivered"]["sent"] == 1
    assert _status(db_url, waiting) == "sent"
    assert any(path.name.startswith(f"{waiting:08d}-") for path in outbox.iterdir())
    said = initialised(command, "--as-of", "2026-08-25T12:06")
    assert said.code == 0 and "0 message(s) sent" in said.out
