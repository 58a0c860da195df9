"""Real servers on loopback for the channels: an SMTP server (aiosmtpd) and an
HTTP server (http.server in a thread), both recording exactly what arrived,
and both told how to answer; and the configuration the tests send with."""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.smtp import Envelope, Session
from sqlalchemy import Engine, select

from models.clock import FrozenClock
from models.db import session_scope
from models.tables import NOTIFICATION, NOTIFICATION_ATTEMPT
from notifications.channels.base import Channel
from notifications.config import NotificationConfig
from notifications.kinds import dedup_key
from notifications.ledger.delivery import DeliveryPolicy, DeliveryReport, deliver_due
from notifications.ledger.recording import Queued, enqueue
from notifications.message import Recipient
from notifications.rendering import Renderer
from notifications.routing import parse_routing
from notifications.samples import sample_context
from notifications.settings import NotificationSettings

BASE_URL = "https://perfplan.example.com"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# SMTP -------------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    connection: int

    @property
    def email(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def body(self, subtype: str) -> str:
        part = self.email.get_body(preferencelist=(subtype,))
        assert part is not None
        return str(part.get_content())


@dataclass
class Inbox:
    """The SMTP server's side: what arrived, and how to answer RCPT TO."""

    messages: list[Received] = field(default_factory=list)
    # address -> the reply to RCPT TO, e.g. "550 5.1.1 No such user" or "451 4.3.0 Try later"
    refuse: dict[str, str] = field(default_factory=dict)
    connections: set[int] = field(default_factory=set)

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.connections.add(id(session))
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        self.messages.append(
            Received(str(envelope.mail_from), list(envelope.rcpt_tos), content, id(session))
        )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.rcpt_tos]


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: Inbox


def self_signed(directory: Path) -> tuple[Path, Path]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    start = datetime(2020, 1, 1, tzinfo=UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=365 * 30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "smtp.crt", directory / "smtp.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@dataclass
class TlsSmtpServer(SmtpServer):
    ca_file: Path = Path()
    logins: list[str] = field(default_factory=list)


# HTTP -------------------------------------------------------------------------


@dataclass
class Request:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Reply:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering, to let a client time out


class HttpServer:
    """Records every POST; answers with the scripted replies in order, then `default`."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.replies: deque[Reply] = deque()
        self.default = Reply()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                parts = urlsplit(self.path)
                recorder.requests.append(
                    Request(
                        parts.path,
                        parse_qs(parts.query),
                        dict(self.headers),
                        self.rfile.read(length),
                    )
                )
                reply = recorder.replies.popleft() if recorder.replies else recorder.default
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body.encode("utf-8")
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def answer(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# People and configuration --------------------------------------------------------


def make_config(
    tmp_path: Path, routing_yaml: str | None = None, **settings: Any
) -> NotificationConfig:
    values: dict[str, Any] = {
        "base_url": BASE_URL,
        "outbox_dir": tmp_path / "outbox",
        "smtp_from": "hr@example.com",
        "notify_config": None,
        "templates_dir": None,
        **settings,
    }
    config = NotificationConfig.load(NotificationSettings(**values))
    if routing_yaml is not None:
        config = NotificationConfig(
            settings=config.settings,
            routing=parse_routing(routing_yaml, source="test routing"),
            renderer=config.renderer,
        )
    return config


def smtp_routing(server: SmtpServer, **extra: Any) -> str:
    options = ", ".join(f"{k}: {v}" for k, v in extra.items())
    more = f", {options}" if options else ""
    return (
        "channels:\n"
        f"  email: {{kind: smtp, host: 127.0.0.1, port: {server.port}, security: none{more}}}\n"
        "default: [email]\n"
    )


def enqueue_sample(
    engine: Engine,
    config: NotificationConfig,
    *,
    kind: str,
    recipient: Recipient,
    plan_id: int,
    now: datetime,
    subject: str = "",
    level: int | None = None,
    due: str | None = None,
) -> list[Queued]:
    """Record `kind` for `recipient` with a sample context of Zhang's plan (id replaced)."""
    context = sample_context(kind, role=recipient.role, level=level or 1)
    context["plan"] = {**context["plan"], "id": plan_id}
    key = dedup_key(plan_id=plan_id, kind=kind, subject=subject, level=level, due=due)
    with session_scope(engine) as session:
        return enqueue(
            session,
            config=config,
            kind=kind,
            plan_id=plan_id,
            recipient=recipient,
            context=context,
            dedup_key=key,
            now=now,
        )


class Record(Protocol):
    """`enqueue_sample` for Zhang's plan at the frozen clock's time (the `record` fixture)."""

    def __call__(
        self,
        config: NotificationConfig,
        *,
        kind: str,
        recipient: Recipient,
        subject: str = "",
        level: int | None = None,
        due: str | None = None,
    ) -> list[Queued]: ...


def ledger_rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [
            dict(r._mapping)
            for r in connection.execute(select(NOTIFICATION).order_by(NOTIFICATION.c.id))
        ]


def attempt_rows(engine: Engine, notification_id: int) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(NOTIFICATION_ATTEMPT)
            .where(NOTIFICATION_ATTEMPT.c.notification_id == notification_id)
            .order_by(NOTIFICATION_ATTEMPT.c.id)
        )
        return [dict(r._mapping) for r in rows]


# Delivery ---------------------------------------------------------------------

POLICY = DeliveryPolicy(max_attempts=4, lease_seconds=300, batch_size=5)
# As make_config's: messages are rendered when they are sent.
RENDERER = Renderer.build(base_url=BASE_URL)


def deliver(
    engine: Engine,
    channels: dict[str, Channel],
    clock: FrozenClock,
    policy: DeliveryPolicy = POLICY,
) -> object:
    return deliver_through(engine, channels, RENDERER, clock, policy=policy, seed=1)


def deliver_configured(
    engine: Engine,
    config: NotificationConfig,
    clock: FrozenClock,
    *,
    policy: DeliveryPolicy,
    seed: int,
) -> DeliveryReport:
    """What is due, through `config`'s channels and renderer."""
    return deliver_through(
        engine, config.channels(clock), config.renderer, clock, policy=policy, seed=seed
    )


def deliver_through(
    engine: Engine,
    channels: Mapping[str, Channel],
    renderer: Renderer,
    clock: FrozenClock,
    *,
    policy: DeliveryPolicy,
    seed: int,
) -> DeliveryReport:
    """`deliver_due` at the clock's time, its jitter drawn from a seeded generator."""
    return deliver_due(
        engine,
        channels=channels,
        renderer=renderer,
        now=clock(),
        policy=policy,
        rng=random.Random(seed),
    )


# Several workers, one database ---------------------------------------------------


@dataclass
class Shared:
    url: str
    plan_id: int
    people: dict[str, Recipient]


def together(workers: Sequence[threading.Thread]) -> None:
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert not worker.is_alive()
