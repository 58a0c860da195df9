"""What every hash chain shares: the link hash over a record's fields in a fixed order,
instants written one way, the hash before the first record, and the statements that
make a chain's table append-only.

The plan chains (`states.audit`) and the organisation chain (`people.orgaudit`) both
seal their records here, so one way of hashing is proven once for both.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from models.clock import utc

GENESIS_HASH = "0" * 64


def instant_text(value: datetime) -> str:
    """An instant as hashed: always UTC, as stored, so a record written with a
    Beijing-time `now` hashes the same when it is read back."""
    return utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def seal(ordered: Sequence[Any]) -> str:
    """SHA-256 over the fields, in the order given, as compact canonical JSON."""
    encoded = json.dumps(list(ordered), ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


def link_problem(row: Any, expected_seq: int, prev_hash: str, recomputed: str) -> str | None:
    """What is wrong with one record of a chain, read after `prev_hash` where `expected_seq`
    was due and hashing to `recomputed`; None when the link holds. Both chains say it so."""
    if row.seq != expected_seq:
        return f"sequence jumps from {expected_seq - 1} to {row.seq}: a record is missing"
    if row.prev_hash != prev_hash:
        return "previous-hash does not match the record before it: the chain was cut or reordered"
    if recomputed != row.hash:
        return "content does not match its hash: the record was altered after it was written"
    return None


def broken_link(chain: str, seq: int, record_id: int | None, problem: str) -> str:
    """A chain's broken link as both chains tell it: the chain, the record (its id and
    position, or only the position where no record is), and what is wrong."""
    where = f"record #{record_id} (seq {seq})" if record_id else f"seq {seq}"
    return f"{chain}, {where}: {problem}"


def append_only_sql(table: str) -> dict[str, list[str]]:
    """The triggers, per dialect, that refuse UPDATE and DELETE (and TRUNCATE) on `table`."""
    sqlite = [
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table}
       BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END"""
        for verb in ("UPDATE", "DELETE")
    ]
    postgres = [
        f"""CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
       BEGIN
         RAISE EXCEPTION '{table} is append-only: % refused', TG_OP;
       END $$ LANGUAGE plpgsql""",
        f"""CREATE OR REPLACE TRIGGER {table}_append_only
       BEFORE UPDATE OR DELETE OR TRUNCATE ON {table}
       FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()""",
    ]
    return {"sqlite": sqlite, "postgresql": postgres}
