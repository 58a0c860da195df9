"""What the ledger's modules call its two tables (N, a message; A, an attempt to
send it) and the statuses a message row moves through (docs/notifications.md)."""

from __future__ import annotations

from models.tables import NOTIFICATION, NOTIFICATION_ATTEMPT

QUEUED, SENT, DEAD = "queued", "sent", "dead"
N, A = NOTIFICATION, NOTIFICATION_ATTEMPT
