"""Settings of the HTTP front door (PERFPLAN_WEB_*)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    """How `perfplan web` listens and how its sessions behave."""

    model_config = SettingsConfigDict(env_prefix="PERFPLAN_WEB_")

    host: str = "127.0.0.1"
    port: int = 8000
    # Server processes. Each handles requests on its own core; on SQLite (WAL) they
    # read side by side and writes queue for the one write lock.
    workers: int = Field(default=1, ge=1)
    # How long a signed-in browser stays signed in without signing in again.
    session_hours: float = 12.0
    # Mark cookies Secure (HTTPS only). Unset: secure whenever the request came over
    # HTTPS (behind a proxy, run uvicorn with --proxy-headers so it knows).
    secure_cookies: bool | None = None
    # Carry out a change's effects (messages, reports) after the response, in this
    # process, as the CLI does; off when a served dispatcher does it.
    dispatch_after_commit: bool = True
    # One log line per request (ids only): "text", or "json" for a log collector.
    log_format: str = Field(default="text", pattern="^(text|json)$")
    # Log level of perfplan's own request and clockwork lines (INFO shows each request).
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
