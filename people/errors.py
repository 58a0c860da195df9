"""What can go wrong when asking who someone is and what they may see or do.

    PeopleError
     ├── NotFound
     │    ├── PersonNotFound
     │    └── PlanNotFound      no such plan, or none this person may see (the same answer)
     ├── InvalidInput          a person, role or credential given is malformed
     ├── Unauthenticated       no valid token, password or session
     │    └── SignInLocked     too many failed sign-ins: not even checked until `until`
     └── Forbidden             the person's role may not do this (at all)

These are the refusals every room above shares: the rules (`states.errors`) raise the
same classes, and the front door maps them to exit codes and HTTP statuses.
"""

from __future__ import annotations

from datetime import datetime


class PeopleError(Exception):
    """Base of the people room's errors; `str()` is a sentence a person can act on."""


class NotFound(PeopleError):
    pass


class PersonNotFound(NotFound):
    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"no person with key '{key}'")


class PlanNotFound(NotFound):
    def __init__(self, plan_id: int) -> None:
        self.plan_id = plan_id
        super().__init__(f"no plan with id {plan_id}")


class InvalidInput(PeopleError):
    def __init__(self, message: str, *, field: str = "") -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class Unauthenticated(PeopleError):
    """Who is asking could not be proven (unknown, revoked or expired credentials)."""


class SignInLocked(Unauthenticated):
    """Too many failed sign-ins for this account or from this address; the same for a
    name nobody has, so it tells nothing about who exists."""

    def __init__(self, until: datetime, retry_after: int) -> None:
        self.until = until
        self.retry_after = retry_after  # seconds
        super().__init__(
            f"too many failed sign-ins: try again after {until:%Y-%m-%d %H:%M} UTC "
            f"(in {-(-retry_after // 60)} min)"
        )


class Forbidden(PeopleError):
    def __init__(self, message: str, *, plan_id: int, event: str, actor: str) -> None:
        self.plan_id = plan_id
        self.event = event
        self.actor = actor
        super().__init__(message)
