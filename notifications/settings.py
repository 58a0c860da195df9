"""The voice room's settings, from PERFPLAN_* environment variables, and the
sender's name in each language when no setting gives one.

Secrets (the SMTP password, webhook URLs with tokens, signing secrets) come
only from the environment; the routing file names the variables, never the
values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.db import output_folder

SmtpSecurity = Literal["starttls", "ssl", "none"]

# Delivery's defaults (`NotificationSettings`, `ledger.delivery.DeliveryPolicy`).
MAX_ATTEMPTS = 32
BACKOFF_BASE = 60.0
BACKOFF_CAP = 2 * 3600.0
LEASE_SECONDS = 300.0
BATCH_SIZE = 100

# Who signs a message, and whose name its email comes from, when no setting says.
_DEFAULT_SENDER = {"en": "Human Resources", "zh-CN": "人力资源部"}


def default_sender(locale: str) -> str:
    """The sender's name in a reader's language (English for a language without one)."""
    return _DEFAULT_SENDER.get(locale, _DEFAULT_SENDER["en"])


class NotificationSettings(BaseSettings):
    """Every knob of notifications; the defaults suit a laptop (file outbox, no SMTP)."""

    model_config = SettingsConfigDict(env_prefix="PERFPLAN_", extra="ignore")

    # Where plan links point: {base_url}/plans/{id}.
    base_url: str = "http://localhost:8000"
    # The organisation that signs the messages (`default_sender` if empty).
    sender_name: str = ""
    default_locale: str = "en"
    # Admin overrides: a file here wins over the built-in template of the same name.
    templates_dir: Path | None = None
    # Routing (YAML, docs/notifications.md); without it every message goes to the outbox.
    notify_config: Path | None = None
    # The file outbox: by default the database's own, `<database>-out/outbox`
    # (./perfplan-out/outbox for ./perfplan.db), so two databases never share one.
    outbox_dir: Path = Field(default_factory=lambda: output_folder() / "outbox")

    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: SmtpSecurity = "starttls"
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_from: str = "perfplan@localhost"
    smtp_from_name: str = ""
    smtp_timeout: float = Field(default=30.0, gt=0)
    # A CA bundle for an SMTP server with a private certificate authority.
    smtp_ca_file: Path | None = None

    webhook_timeout: float = Field(default=10.0, gt=0)

    # Delivery: attempts before a dead letter, backoff base and cap (seconds),
    # how long a sender owns the messages it claimed, and how many per batch.
    # The defaults keep trying for more than a day (25 to 50 hours): an outage of a
    # working day loses no message (docs/notifications.md has the schedule).
    max_attempts: int = Field(default=MAX_ATTEMPTS, ge=1)
    backoff_base: float = Field(default=BACKOFF_BASE, gt=0)
    backoff_cap: float = Field(default=BACKOFF_CAP, gt=0)
    lease_seconds: float = Field(default=LEASE_SECONDS, gt=0)
    batch_size: int = Field(default=BATCH_SIZE, ge=1)
