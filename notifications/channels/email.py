"""Email over SMTP: STARTTLS or SSL, credentials from the environment,
multipart text + HTML, one connection per batch.

SMTP 5xx replies to a message are permanent (dead letter); 4xx replies,
timeouts and lost connections are temporary. Failing to connect, to start
TLS or to log in is temporary too: the server or its settings can be fixed,
and the messages wait for it instead of piling up as dead letters.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, SecretStr

from notifications.channels import mime
from notifications.channels.base import (
    BatchChannel,
    Held,
    Options,
    always_held,
    env_secret,
    lease_lost,
    not_attempted,
)
from notifications.errors import DeliveryError
from notifications.message import OutgoingMessage
from notifications.settings import NotificationSettings, SmtpSecurity, default_sender

_NO_PASSWORD = SecretStr("")
# The code of a timeout: the server accepted and then stalled.
TIMEOUT = "timeout"
_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"\\]+@[^@\s<>()\[\],;:\"\\]+$")


def valid_address(address: str) -> bool:
    return bool(_EMAIL.match(address)) and not address.endswith(".")


def build_email(
    message: OutgoingMessage,
    *,
    sender: str,
    sender_name: str,
    sent_at: datetime,
    readable: bool = False,
) -> bytes:
    """The MIME message, ready to send: text and HTML alternatives in UTF-8,
    with the ledger's Message-ID so that a repeated copy is recognisably the
    same message. CRLF, encoded words and base64 for SMTP; `readable` (for
    files a person opens) keeps headers and bodies as plain UTF-8 (RFC 6532)
    with LF line ends.
    """
    if not valid_address(message.address):
        raise DeliveryError(
            f"notification {message.id}: no valid email address",
            permanent=True,
            code="no address",
        )
    linesep = "\n" if readable else "\r\n"
    name = sender_name or default_sender(message.locale)
    headers = [
        ("From", mime.address(name, sender, linesep, raw=readable)),
        ("To", mime.address(message.recipient_name, message.address, linesep, raw=readable)),
        ("Subject", mime.encoded_header(message.subject, linesep, raw=readable)),
        ("Date", format_datetime(sent_at)),
        ("Message-ID", message.message_id),
        ("Content-Language", message.locale),
        # RFC 3834: an automatic message; asks auto-responders (out of office) to stay quiet.
        ("Auto-Submitted", "auto-generated"),
        ("X-Auto-Response-Suppress", "All"),
        ("X-Perfplan-Notification", str(message.id)),
        ("X-Perfplan-Kind", message.kind),
    ]
    if message.plan_ref:
        headers.append(("X-Perfplan-Plan", message.plan_ref))
    return mime.multipart_alternative(
        headers, message.text, message.html, readable=readable, calendar=message.calendar
    )


def _reply_error(code: int, reply: bytes | str, *, stage: str) -> DeliveryError:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return DeliveryError(
        f"SMTP {code} at {stage}: {text}".strip(), permanent=code >= 500, code=f"SMTP {code}"
    )


def classify(error: Exception, *, stage: str) -> DeliveryError:
    """An smtplib or socket error as a DeliveryError (permanent only for 5xx replies)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(error.recipients.values()), (450, b"recipient refused"))
        return _reply_error(code, reply, stage="RCPT")
    # smtplib reports a reply that never came as a lost connection; its cause says so.
    if isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError):
        return DeliveryError(f"SMTP {stage} timed out", channel_down=True, code=TIMEOUT)
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return DeliveryError(
            f"SMTP connection lost at {stage}", channel_down=True, code="disconnected"
        )
    if isinstance(error, smtplib.SMTPResponseException):
        failed = _reply_error(error.smtp_code, error.smtp_error, stage=stage)
        # 421: the server is closing the connection; the others may still be sent after reconnecting
        failed.channel_down = error.smtp_code == 421
        return failed
    name = type(error).__name__
    return DeliveryError(f"SMTP {stage} failed: {name}", channel_down=True, code=name)


class SmtpOptions(Options):
    """Overrides of the PERFPLAN_SMTP_* settings for one channel (never the password)."""

    host: str | None = None
    port: int | None = None
    security: SmtpSecurity | None = None
    username: str | None = None
    password_env: str | None = None
    sender: str | None = Field(default=None, alias="from")
    sender_name: str | None = None
    timeout: float | None = Field(default=None, gt=0)


class SmtpChannel(BatchChannel):
    kind = "smtp"
    options_model = SmtpOptions
    settings_for_empty: ClassVar[Mapping[str, str]] = {
        "host": "smtp_host",
        "port": "smtp_port",
        "security": "smtp_security",
        "sender": "smtp_from",
        "sender_name": "smtp_from_name",
        "timeout": "smtp_timeout",
        "ca_file": "smtp_ca_file",
    }

    host: str
    port: int = 587
    security: SmtpSecurity = "starttls"
    username: str = ""
    password: SecretStr = _NO_PASSWORD
    sender: str = "perfplan@localhost"
    sender_name: str = ""
    timeout: float = 30.0
    ca_file: Path | None = None

    @classmethod
    def arguments(
        cls, name: str, options: Options, settings: NotificationSettings
    ) -> dict[str, Any]:
        """Without a host anywhere, this machine's; an empty `username` means no login
        (not PERFPLAN_SMTP_USERNAME's); the password from `password_env` if named."""
        assert isinstance(options, SmtpOptions)
        arguments = super().arguments(name, options, settings)
        username = settings.smtp_username if options.username is None else options.username
        password = settings.smtp_password
        if options.password_env:
            password = SecretStr(env_secret(name, options.password_env))
        return arguments | {
            "host": arguments["host"] or "localhost",
            "username": username,
            "password": password,
        }

    def describe(self) -> dict[str, str]:
        return {
            **super().describe(),
            "target": f"{self.host}:{self.port} ({self.security})",
            "from": self.sender,
            "credentials": (
                f"user {self.username}, password "
                + ("set" if self.password.get_secret_value() else "NOT SET")
            )
            if self.username
            else "none",
        }

    def send_batch(
        self, messages: Sequence[OutgoingMessage], held: Held = always_held
    ) -> list[DeliveryError | None]:
        """All messages over one connection, each only while this sender still holds it.

        A connection lost midway is opened again, once per batch. A timeout (a server
        that accepted and then stalled) ends the batch: the messages after it are left
        for a later try instead of each waiting out the timeout again.
        """
        if not messages:
            return []
        batch = _Connection(self)
        try:
            return [batch.send(message, held) for message in messages]
        finally:
            batch.close()

    def _open(self) -> tuple[smtplib.SMTP | None, DeliveryError | None]:
        stage = "connect"
        try:
            context = ssl.create_default_context(cafile=self.ca_file)
            if self.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                if self.security == "starttls":
                    stage = "STARTTLS"
                    smtp.starttls(context=context)
            if self.username:
                stage = "login"
                smtp.login(self.username, self.password.get_secret_value())
        except (smtplib.SMTPException, OSError) as error:
            failed = classify(error, stage=stage)
            failed.permanent, failed.channel_down = False, True
            return None, failed
        return smtp, None

    def _send_one(self, smtp: smtplib.SMTP, message: OutgoingMessage) -> DeliveryError | None:
        try:
            email = build_email(
                message, sender=self.sender, sender_name=self.sender_name, sent_at=self.clock()
            )
            smtp.sendmail(self.sender, [message.address], email)
        except DeliveryError as error:
            return error
        except (smtplib.SMTPException, OSError) as error:
            return classify(error, stage="send")
        return None


class _Connection:
    """One batch's SMTP connection: opened at the first message, reopened once after a
    lost connection, and given up for the rest of the batch once the channel is down."""

    def __init__(self, channel: SmtpChannel) -> None:
        self.channel = channel
        self.smtp: smtplib.SMTP | None = None
        self.down: DeliveryError | None = None
        self.opened = 0

    def send(self, message: OutgoingMessage, held: Held) -> DeliveryError | None:
        if self.down is not None:
            return not_attempted(self.down)
        if not held(message):
            return lease_lost()
        if self.smtp is None:
            self.opened += 1
            self.smtp, self.down = self.channel._open()
            if self.smtp is None:
                return self.down
        error = self.channel._send_one(self.smtp, message)
        if error is not None and error.channel_down:
            stalled = error.code == TIMEOUT
            _quit(self.smtp, wait=not stalled)
            self.smtp = None
            if stalled or self.opened > 1:
                self.down = error
        return error

    def close(self) -> None:
        if self.smtp is not None:
            _quit(self.smtp)


def _quit(smtp: smtplib.SMTP, *, wait: bool = True) -> None:
    """QUIT politely, unless the server stalled: then waiting for its reply would
    cost another timeout; the connection is just closed."""
    if not wait:
        smtp.close()
        return
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
