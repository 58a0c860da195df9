"""The delivery ledger: every notification is a row before it is sent, and every
attempt to send it is a row too (`notifications.ledger` writes them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class Notification(SQLModel, table=True):
    """One message to one person through one channel.

    Recorded with its template `context` (JSON); rendered when a sender first
    claims it, and the rendered `subject` and bodies are stored here before
    the first attempt to send it (`rendered_at`), so the row holds exactly what
    was sent, and a repeat sends the same text.

    `dedup_key` is unique: the same reminder, asked for twice, is one row.
    `status` is queued, sent or dead (a dead letter). A sender owns a queued row
    while `claimed_until` lies ahead; `next_attempt_at` holds back a retry.
    `message_id` is generated once, so a repeat after a crash carries the same
    Message-ID as the first copy.
    """

    __table_args__ = (Index("ix_notification_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(unique=True)
    plan_id: int | None = Field(default=None, foreign_key="plan.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str
    kind: str = Field(index=True)
    channel: str
    locale: str
    address: str = ""
    recipient_name: str = ""
    subject: str
    body_text: str = Field(sa_column=Column(Text, nullable=False))
    body_html: str = Field(sa_column=Column(Text, nullable=False))
    context: str | None = Field(default=None, sa_column=Column(Text))
    rendered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    link: str = ""
    # An iCalendar invitation (text/calendar) sent with the message, in its reader's
    # language, made when the message is recorded ("" for none).
    calendar: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    message_id: str = Field(unique=True)
    status: str = "queued"  # queued | sent | dead
    attempts: int = 0
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    claimed_by: str = ""
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    dead_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class NotificationAttempt(SQLModel, table=True):
    """One try at sending a notification: written when it is claimed, settled after.

    status: sending (under way, or its sender died), sent, temporary, permanent,
    interrupted (the lease ran out before the result was recorded: the message
    may have been delivered, and is sent again).
    """

    __tablename__ = "notification_attempt"

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(foreign_key="notification.id", index=True)
    number: int
    claimed_by: str
    started_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    status: str = "sending"
    error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
