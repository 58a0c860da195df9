"""The effects a change starts once it commits: which ones (the definition's and the
engine's own), and one outbox row for each, which the clockwork carries out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from models.tables import OUTBOX
from states.definitions.compiled import CompiledDefinition
from states.definitions.schema import Effect

_WRITE_OUTBOX = insert(OUTBOX)


def implied_flows(
    definition: CompiledDefinition, state: str, named: Sequence[str] = ()
) -> tuple[Effect, ...]:
    """The effects a plan entering `state` starts: those the definition names, then
    the engine's own: timers are rescheduled after every change of state, and
    the signers of a chain that now waits are asked to sign."""
    flows = [Effect(name) for name in dict.fromkeys(named)]
    if any(t.approval for t in definition.transitions_from(state)):
        flows.append(Effect.REQUEST_SIGNATURES)
    flows.append(Effect.SCHEDULE_FOLLOWUPS)
    return tuple(dict.fromkeys(flows))


def write_outbox(
    session: Session,
    plan_id: int,
    seq: int,
    flows: tuple[Effect, ...],
    payload: dict[str, Any],
    now: datetime,
) -> None:
    """One row per effect, keyed by plan, audit sequence and effect: unique per effect."""
    if not flows:
        return
    session.connection().execute(
        _WRITE_OUTBOX,
        [
            {
                "key": f"plan:{plan_id}:seq:{seq}:{flow}",
                "plan_id": plan_id,
                "flow": flow.value,
                "payload": {"plan_id": plan_id, "seq": seq, **payload},
                "created_at": now,
                "status": "pending",
                "attempts": 0,
                "last_error": "",
            }
            for flow in flows
        ],
    )
