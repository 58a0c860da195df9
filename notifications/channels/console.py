"""The console: each message printed as a readable block (for demos and trials)."""

from __future__ import annotations

import sys
from typing import TextIO

from notifications.channels.base import Channel, Options
from notifications.message import OutgoingMessage


class ConsoleOptions(Options):
    body: bool = True


class ConsoleChannel(Channel):
    kind = "console"
    options_model = ConsoleOptions

    body: bool = True
    stream: TextIO | None = None

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
