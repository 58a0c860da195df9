"""The console: each message printed as a readable block (for demos and trials)."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from notifications.channels.base import Channel, Clock, Options
from notifications.message import OutgoingMessage
from notifications.settings import NotificationSettings


class ConsoleOptions(Options):
    body: bool = True


class ConsoleChannel(Channel):
    kind = "console"
    options_model = ConsoleOptions
    uses_email = True

    def __init__(
        self, name: str, *, body: bool = True, stream: TextIO | None = None, clock: Clock
    ) -> None:
        super().__init__(name, clock=clock)
        self.body = body
        self.stream = stream

    @classmethod
    def from_options(
        cls, name: str, options: Any, settings: NotificationSettings, clock: Clock
    ) -> ConsoleChannel:
        assert isinstance(options, ConsoleOptions)
        return cls(name, body=options.body, clock=clock)

    def describe(self) -> dict[str, str]:
        return {**super().describe(), "target": "standard output"}

    def send(self, message: OutgoingMessage) -> None:
        stream = self.stream or sys.stdout
        to = (
            f"{message.recipient_name} <{message.address}>"
            if message.address
            else message.recipient_name
        )
        header = f"── notification {message.id} · {message.kind} · {message.plan_ref} ──"
        lines = [
            header,
            f"To:      {to} ({message.role}, {message.locale})",
            f"Subject: {message.subject}",
        ]
        if self.body:
            lines += ["", message.text.rstrip()]
        stream.write("\n".join(lines) + "\n\n")
        stream.flush()
