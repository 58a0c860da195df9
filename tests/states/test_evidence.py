"""The evidence the rules keep: a signed copy sealed only for content its signatures bind,
a receipt naming its signature's record, checkpoints of every chain's head."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text, update

from models.clock import FrozenClock
from models.db import session_scope
from models.tables import AUDIT, GOAL, SIGNED_COPY
from states.errors import NotAllowedNow
from states.evidence.checkpoints import (
    chain_heads,
    load_private_key,
    make_checkpoint,
    make_key_pair,
    read_checkpoint,
    verify_against,
)
from tests.conftest import unprotect_audit
from tests.states.engine.support import audit_rows, footprint, sign


def test_a_receipt_names_the_signatures_record_as_the_chain_holds_it(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    signed = sign(engine, zhang_plan, "zhang", clock())

    record = audit_rows(engine, zhang_plan)[-1]
    assert signed.receipt is not None
    assert (signed.receipt.seq, signed.receipt.record_hash) == (record.seq, record.hash)
    assert signed.receipt.content_digest == record.content_digest
    assert (signed.receipt.person, signed.receipt.role, signed.receipt.event) == (
        "zhang",
        "employee",
        "agree",
    )


def test_no_copy_is_sealed_for_content_changed_behind_the_signatures_back(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    sign(engine, zhang_plan, "zhang", clock())
    sign(engine, zhang_plan, "li", clock())
    with session_scope(engine) as session:  # a direct edit, not through perfplan
        session.execute(update(GOAL).where(GOAL.c.plan_id == zhang_plan).values(target=1))

    with pytest.raises(NotAllowedNow, match="no longer hashes to the digest its signatures bind"):
        sign(engine, zhang_plan, "wang", clock())

    assert footprint(engine, zhang_plan).state == "drafted"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(SIGNED_COPY)).scalar() == 0


def test_a_checkpoint_sees_each_head_and_then_the_cut(
    engine: Engine, zhang_plan: int, clock: FrozenClock, tmp_path: Path
) -> None:
    for who in ("zhang", "li", "wang"):
        sign(engine, zhang_plan, who, clock())
    make_key_pair(tmp_path / "k")
    key = load_private_key(tmp_path / "k")
    with session_scope(engine) as session:
        heads = chain_heads(session)
        document = make_checkpoint(session, key, clock())
    (tmp_path / "cp.json").write_text(json.dumps(document))
    checkpoint = read_checkpoint(tmp_path / "cp.json")
    last = audit_rows(engine, zhang_plan)[-1]
    assert heads == {zhang_plan: (5, last.hash)} == checkpoint.heads

    unprotect_audit(engine)
    with engine.begin() as conn:
        conn.execute(
            text("DELETE FROM audit_record WHERE plan_id = :p AND seq = 5"), {"p": zhang_plan}
        )
    with session_scope(engine) as session:
        (cut,) = verify_against(session, checkpoint)
        assert session.execute(select(func.max(AUDIT.c.seq))).scalar() == 4
    assert (cut.plan_id, cut.seq) == (zhang_plan, 5)
    assert "which now is gone" in cut.problem
