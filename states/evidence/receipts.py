"""A signer's receipt: which digest they signed, and where their signature's record sits
in the plan's chain (its position and hash). Anyone holding it can later ask the chain
whether that record is still there, unchanged, binding the same digest."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from models.clock import utc

RECEIPT_FORMAT = "perfplan-receipt/1"
_FIELDS = ("plan_id", "seq", "record_hash", "content_digest", "person", "role", "event")


@dataclass(frozen=True)
class Receipt:
    """What a signer keeps: the digest signed, and the signature record's position and hash."""

    plan_id: int
    seq: int
    record_hash: str
    content_digest: str
    person: str
    role: str
    event: str
    signed_at: str  # ISO-8601, UTC

    @classmethod
    def of(cls, record: Any) -> Receipt:
        """The receipt of a signature's audit record (a `states.audit.Record` or a row)."""
        return cls(
            plan_id=record.plan_id,
            seq=record.seq,
            record_hash=record.hash,
            content_digest=record.content_digest,
            person=record.actor,
            role=record.role,
            event=record.event.removeprefix("sign:"),
            signed_at=_iso(record.at),
        )

    def as_json(self) -> dict[str, Any]:
        return {"format": RECEIPT_FORMAT, **asdict(self)}

    def text(self) -> str:
        return json.dumps(self.as_json(), indent=2, ensure_ascii=False) + "\n"


def _iso(value: datetime) -> str:
    return utc(value).isoformat()


def parse_receipt(text: str) -> Receipt | None:
    """The receipt a JSON text holds, or None when it is not one (then it may be a copy)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("format") != RECEIPT_FORMAT:
        return None
    values = {name: data.get(name) for name in (*_FIELDS, "signed_at")}
    if not isinstance(values["plan_id"], int) or not isinstance(values["seq"], int):
        return None
    if not all(isinstance(values[name], str) for name in values if name not in {"plan_id", "seq"}):
        return None
    return Receipt(**values)  # type: ignore[arg-type]
