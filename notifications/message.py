"""The values that travel through the room: who a message is for, what it says,
and the envelope a channel is handed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Recipient:
    """A person on a plan, in the role the message addresses them in.

    Callers (the flows) look people up and pass them in; this room never reads
    the people tables. `channels` are the person's own preferred channels, if
    any; `handles` are per-channel handles such as a chat user id to mention.
    """

    person_id: int
    role: str
    name: str = ""
    email: str = ""
    locale: str = "en"
    key: str = ""
    channels: tuple[str, ...] = ()
    handles: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Rendered:
    """A message in one language: subject line, plain text and HTML bodies."""

    subject: str
    text: str
    html: str
    locale: str = ""


@dataclass(frozen=True)
class OutgoingMessage:
    """One ledger row as a channel sees it."""

    id: int
    kind: str
    channel: str
    plan_id: int | None
    person_id: int
    role: str
    locale: str
    address: str
    recipient_name: str
    subject: str
    text: str
    html: str
    link: str
    message_id: str
    dedup_key: str
    created_at: datetime
    attempt: int = 1
    calendar: str = ""  # an iCalendar invitation to attach (text/calendar), or ""

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> OutgoingMessage:
        return cls(
            id=row["id"],
            kind=row["kind"],
            channel=row["channel"],
            plan_id=row["plan_id"],
            person_id=row["person_id"],
            role=row["role"],
            locale=row["locale"],
            address=row["address"],
            recipient_name=row["recipient_name"],
            subject=row["subject"],
            text=row["body_text"],
            html=row["body_html"],
            link=row["link"],
            message_id=row["message_id"],
            dedup_key=row["dedup_key"],
            created_at=row["created_at"],
            attempt=row["attempts"],
            calendar=row.get("calendar") or "",
        )

    @property
    def plan_ref(self) -> str:
        return f"PIP-{self.plan_id}" if self.plan_id is not None else ""
