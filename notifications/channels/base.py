"""What every channel is: a name, `send(message)`, and a batch of sends that
stops knocking once the channel itself is down; how a channel is built from its
options in the routing file and the PERFPLAN_* settings; the channels that send
a batch at once (`BatchChannel`); and the helpers their settings share (secrets
from the environment, masked URLs)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar, dataclass_transform
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError

from models.clock import now as wall_clock
from notifications.errors import ConfigurationError, DeliveryError
from notifications.message import OutgoingMessage
from notifications.settings import NotificationSettings

Clock = Callable[[], datetime]
# Asked before each message of a batch is sent: does this sender still hold it (its
# lease renewed if need be)? One it does not hold is skipped: another sender has it.
Held = Callable[[OutgoingMessage], bool]


def always_held(message: OutgoingMessage) -> bool:
    """For a batch nobody else can take (a preview, a test, one message sent by hand)."""
    return True


class Options(BaseModel):
    """A channel's options in the routing file; unknown keys are mistakes."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass_transform(kw_only_default=True, eq_default=False, field_specifiers=(field,))
@dataclass(eq=False, repr=False)
class Channel:
    """One way of delivering a message. Subclasses implement `send`, and may
    override `send_batch` to reuse one connection for a whole batch.

    Every subclass is made a dataclass (keyword-only; compared by identity; no repr,
    which would show its secrets) whose fields are what it needs to send;
    `from_options` fills them from the routing file's options of the same names and,
    where those are empty, from `settings_for_empty`."""

    kind: ClassVar[str]
    options_model: ClassVar[type[Options]] = Options
    # Without a handle for the channel, a person's address is their email (chat robots,
    # which mention handles, say False; see `ledger.recording._address`).
    uses_email: ClassVar[bool] = True
    # The PERFPLAN_* setting a field takes when its option is empty (or not an option).
    settings_for_empty: ClassVar[Mapping[str, str]] = {}

    name: str
    clock: Clock = field(default=wall_clock, kw_only=True)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclass(eq=False, repr=False, kw_only=True)(cls)

    @classmethod
    def from_options(
        cls, name: str, options: Options, settings: NotificationSettings, clock: Clock
    ) -> Channel:
        return cls(name, clock=clock, **cls.arguments(name, options, settings))

    @classmethod
    def arguments(
        cls, name: str, options: Options, settings: NotificationSettings
    ) -> dict[str, Any]:
        """The fields `from_options` gives: each option named as a field, an empty one
        (or a field without an option) from its setting in `settings_for_empty`.
        A channel that reads more (secrets from the environment) extends this."""
        taken = type(options).model_fields
        given = {f.name: getattr(options, f.name) for f in fields(cls) if f.name in taken}
        empty = {
            field_name: given.get(field_name) or getattr(settings, setting)
            for field_name, setting in cls.settings_for_empty.items()
        }
        return given | empty

    @classmethod
    def check_options(cls, name: str, raw: Mapping[str, Any]) -> Options:
        try:
            return cls.options_model.model_validate(dict(raw))
        except ValidationError as invalid:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in error['loc']) or 'options'}: {error['msg']}"
                for error in invalid.errors()
            )
            raise ConfigurationError(f"channel '{name}' ({cls.kind}): {problems}") from None

    def send(self, message: OutgoingMessage) -> None:
        raise NotImplementedError

    def send_batch(
        self, messages: Sequence[OutgoingMessage], held: Held = always_held
    ) -> list[DeliveryError | None]:
        """Send each message that is still `held`; None for a success, the error otherwise."""
        return until_down(messages, self._try_send, held)

    def _try_send(self, message: OutgoingMessage) -> DeliveryError | None:
        try:
            self.send(message)
        except DeliveryError as error:
            return error
        return None

    def describe(self) -> dict[str, str]:
        """What `perfplan notify channels` shows: no secret, ever."""
        return {"name": self.name, "kind": self.kind}

    def close(self) -> None:
        """Release what the channel holds between batches (nothing by default)."""


class BatchChannel(Channel):
    """A channel that sends a batch at once (one connection, one client, one flush to
    disk): subclasses implement `send_batch`, and one message is a batch of one."""

    def send(self, message: OutgoingMessage) -> None:
        (error,) = self.send_batch([message])
        if error is not None:
            raise error

    def send_batch(
        self, messages: Sequence[OutgoingMessage], held: Held = always_held
    ) -> list[DeliveryError | None]:
        raise NotImplementedError


def until_down(
    messages: Sequence[OutgoingMessage],
    send_one: Callable[[OutgoingMessage], DeliveryError | None],
    held: Held = always_held,
) -> list[DeliveryError | None]:
    """`send_one` each message still `held` (None: sent), until an error says the
    channel itself is down: the messages after it are not attempted."""
    results: list[DeliveryError | None] = []
    down: DeliveryError | None = None
    for message in messages:
        if down is not None:
            results.append(not_attempted(down))
            continue
        if not held(message):
            results.append(lease_lost())
            continue
        error = send_one(message)
        results.append(error)
        down = error if error is not None and error.channel_down else None
    return results


def not_attempted(cause: DeliveryError) -> DeliveryError:
    """For the messages after a channel went down: left for a later try, whatever the
    cause was, without using up an attempt."""
    return DeliveryError(
        f"not attempted: the channel was down earlier in this batch ({cause})",
        permanent=False,
        channel_down=True,
        code=f"not attempted ({cause.code})",
        attempted=False,
    )


def lease_lost() -> DeliveryError:
    """For a message this sender no longer holds: not sent, so that it is never sent twice."""
    return DeliveryError(
        "not sent: this sender's lease on it could not be renewed (another sender may hold it)",
        code="lease lost",
        attempted=False,
    )


def env_secret(channel: str, variable: str, *, required: bool = True) -> str:
    """A secret from the environment; the routing file only names the variable."""
    value = os.environ.get(variable, "")
    if required and not value:
        raise ConfigurationError(
            f"channel '{channel}': the environment variable {variable} is not set"
        )
    return value


def default_env(channel: str, suffix: str) -> str:
    """PERFPLAN_<CHANNEL>_<SUFFIX>, e.g. PERFPLAN_HR_DINGTALK_URL for channel hr-dingtalk."""
    stem = "".join(ch if ch.isalnum() else "_" for ch in channel.upper())
    return f"PERFPLAN_{stem}_{suffix}"


def mask_url(url: str) -> str:
    """Scheme and host only: webhook paths and queries carry tokens."""
    if not url:
        return "(not set)"
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}/***"
