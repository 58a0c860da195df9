"""What can go wrong in the voice room.

    NotificationsError
     ├── ConfigurationError        the routing file or a channel's settings are wrong
     ├── UnknownKind               no such message kind (or channel kind)
     ├── TemplateProblem           a template is missing or uses a variable it was not given
     ├── DeliveryError             a channel could not deliver one message
     │     permanent=True          never retried: dead letter (SMTP 5xx, webhook 4xx, no address)
     │     permanent=False         retried with backoff (timeouts, 5xx, SMTP 4xx)
     ├── NotificationNotFound      no ledger row with that id
     └── NotRetryable              only dead letters can be re-queued

The front door maps these to exit codes in one place (`perfplan.errors`).
Messages name ids, kinds and channels, never a person's name or address.
"""

from __future__ import annotations


class NotificationsError(Exception):
    """Base of the voice room's errors; `str()` is a sentence a person can act on."""


class ConfigurationError(NotificationsError):
    def __init__(self, message: str, *, source: str = "") -> None:
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)


class UnknownKind(NotificationsError):
    def __init__(self, what: str, name: str, known: list[str]) -> None:
        self.name = name
        super().__init__(f"unknown {what} '{name}'; known: {', '.join(known)}")


class TemplateProblem(NotificationsError):
    def __init__(self, template: str, reason: str) -> None:
        self.template = template
        self.reason = reason
        super().__init__(f"template {template}: {reason}")


class DeliveryError(NotificationsError):
    """A channel could not deliver a message.

    `permanent` errors go to the dead letters at once; the others are retried.
    `retry_after` (seconds) is the server's own wish (HTTP Retry-After), if any.
    `channel_down` says the channel itself is unreachable, so the rest of a
    batch on it is deferred without trying each message. `code` is a short
    reason that is safe to log ("SMTP 550", "HTTP 404", "timeout"): the
    message itself may quote a server's reply, which can name an address.
    `attempted=False`: the message was not tried at all (its channel was down
    earlier in the batch, or its sender no longer holds it); it uses up no
    attempt and is left for a later try.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        channel_down: bool = False,
        code: str = "",
        attempted: bool = True,
    ) -> None:
        self.permanent = permanent
        self.retry_after = retry_after
        self.channel_down = channel_down
        self.attempted = attempted
        self.code = code or ("permanent" if permanent else "temporary")
        super().__init__(message)


class NotificationNotFound(NotificationsError):
    def __init__(self, notification_id: int) -> None:
        self.notification_id = notification_id
        super().__init__(f"no notification with id {notification_id}")


class NotRetryable(NotificationsError):
    def __init__(self, notification_id: int, status: str) -> None:
        self.notification_id = notification_id
        self.status = status
        super().__init__(
            f"notification {notification_id} is {status}: only dead letters can be re-queued "
            "(see `perfplan notify failed`)"
        )
