"""Recording what the clockwork did (`models.clockwork`): a sweep, a delivery that had
work, a verification of every chain — so that `perfplan status`, the admin page and
`/metrics` can say when each last ran and what it found."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Engine, insert

from models import clock
from models.db import session_scope
from models.tables import CLOCKWORK_RUN

log = logging.getLogger("perfplan.clockwork")


def record_run(
    engine: Engine,
    *,
    kind: str,
    started_at: datetime,
    as_of: datetime,
    figures: Mapping[str, object],
    ok: bool = True,
) -> None:
    """One row for the run that has just finished (now, by the clock), in a transaction
    of its own; and one log line (figures only: no names, no addresses)."""
    finished_at = clock.now()
    with session_scope(engine) as session:
        session.execute(
            insert(CLOCKWORK_RUN).values(
                kind=kind,
                started_at=started_at,
                finished_at=finished_at,
                as_of=as_of,
                ok=ok,
                figures=dict(figures),
            )
        )
    seconds = (finished_at - started_at).total_seconds()
    log.info("%s run: ok=%s %.3f s %s", kind, ok, seconds, dict(figures))
