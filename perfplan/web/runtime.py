"""What every request shares: the database engine, the clock, and what runs after a
change has committed. Built once per app; tests pass their own clock and engine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import BackgroundTasks
from sqlalchemy import Engine
from sqlmodel import Session

from models import clock
from models.db import session_scope
from people import access
from people.access import Viewer
from perfplan.web.settings import WebSettings


def _dispatch(engine: Engine, plan_id: int, now: datetime) -> None:
    from workflows import dispatch  # late: the clockwork loads when a change has effects

    dispatch.after_commit(engine, plan_id, now)


@dataclass
class Runtime:
    engine: Engine
    settings: WebSettings = field(default_factory=WebSettings)
    now: Callable[[], datetime] = clock.now
    after_commit: Callable[[Engine, int, datetime], None] | None = _dispatch

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One database transaction: committed when the block succeeds, else rolled back."""
        with session_scope(self.engine) as session:
            yield session

    @contextmanager
    def plan_change(
        self, viewer: Viewer, plan_id: int, background: BackgroundTasks
    ) -> Iterator[tuple[Session, datetime]]:
        """A change of one plan by `viewer`, as every route and form makes it: refused
        unless they may act on the plan (404/403), made in one transaction, its effects
        carried out after the response — only when the transaction has committed."""
        now = self.now()
        with self.transaction() as session:
            access.check_plan(session, viewer, plan_id, "act")
            yield session, now
        background.add_task(self.changed, plan_id, now)

    def changed(self, plan_id: int, now: datetime) -> None:
        """Run after a committed change of `plan_id` (from a background task)."""
        if self.after_commit is not None and self.settings.dispatch_after_commit:
            self.after_commit(self.engine, plan_id, now)
