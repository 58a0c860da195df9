"""What every request shares: the database engine, the clock, and what runs after a
change has committed. Built once per app; tests pass their own clock and engine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from models import clock
from models.db import session_scope
from perfplan.web.settings import WebSettings


def _dispatch(engine: Engine, plan_id: int, now: datetime) -> None:
    """A change's outbox rows carried out after the response (embedded mode). A crash
    here leaves them for `perfplan dispatch` or the served dispatcher."""
    from workflows import dispatch, messages
    from workflows.settings import WorkflowSettings

    if WorkflowSettings().mode == "served":
        from workflows.serve import trigger_dispatch

        trigger_dispatch(plan_id)
        return
    dispatch.dispatch_pending(engine, now=now, plan_id=plan_id)
    messages.deliver(engine, now=now)


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

    def changed(self, plan_id: int, now: datetime) -> None:
        """Run after a committed change of `plan_id` (from a background task)."""
        if self.after_commit is not None and self.settings.dispatch_after_commit:
            self.after_commit(self.engine, plan_id, now)
