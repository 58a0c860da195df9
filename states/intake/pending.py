"""A file uploaded on the pages, kept from the preview its uploader reads to their
confirmation: only they may confirm it, and a day later it is forgotten."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlmodel import Session

from models.tables import PENDING_IMPORT
from people.errors import NotFound

KEPT_FOR = timedelta(days=1)


class PendingImportNotFound(NotFound):
    def __init__(self, upload_id: int) -> None:
        self.upload_id = upload_id
        super().__init__(
            f"no uploaded file {upload_id} waits for your confirmation: upload it again"
        )


def keep(session: Session, *, person_id: int, source: str, data: bytes, now: datetime) -> int:
    """Keep an upload for its confirmation (forgetting those older than `KEPT_FOR`)."""
    session.execute(delete(PENDING_IMPORT).where(PENDING_IMPORT.c.uploaded_at < now - KEPT_FOR))
    values = {"person_id": person_id, "source": source, "content": data, "uploaded_at": now}
    created = insert(PENDING_IMPORT).values(**values).returning(PENDING_IMPORT.c.id)
    return int(session.execute(created).scalar_one())


def pending(
    session: Session, *, upload_id: int, person_id: int, now: datetime
) -> tuple[str, bytes]:
    """The upload's name and bytes, if `person_id` uploaded it less than a day ago; for
    anyone else it does not exist."""
    query = select(PENDING_IMPORT.c.source, PENDING_IMPORT.c.content).where(
        PENDING_IMPORT.c.id == upload_id,
        PENDING_IMPORT.c.person_id == person_id,
        PENDING_IMPORT.c.uploaded_at >= now - KEPT_FOR,
    )
    row = session.execute(query).first()
    if row is None:
        raise PendingImportNotFound(upload_id)
    return str(row.source), bytes(row.content)


def forget(session: Session, *, upload_id: int) -> None:
    session.execute(delete(PENDING_IMPORT).where(PENDING_IMPORT.c.id == upload_id))
