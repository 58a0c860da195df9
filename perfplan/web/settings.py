"""Settings of the HTTP front door (PERFPLAN_WEB_*)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from people.throttle import Rule, Rules


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
    # Sign-in throttling (docs/access.md): attempts allowed per account name and per
    # client address within the window, then a lockout that doubles for each further
    # lockout in a row, up to the longest; a quiet day forgets the streak.
    signin_account_attempts: int = Field(default=5, ge=1)
    signin_address_attempts: int = Field(default=20, ge=1)
    signin_window_minutes: float = Field(default=15.0, gt=0)
    signin_lockout_minutes: float = Field(default=15.0, gt=0)
    signin_max_lockout_minutes: float = Field(default=240.0, gt=0)
    signin_forget_hours: float = Field(default=24.0, gt=0)

    def signin_rules(self) -> Rules:
        """The figures above, as the people room's throttle takes them."""

        def rule(attempts: int) -> Rule:
            return Rule(
                attempts=attempts,
                window=timedelta(minutes=self.signin_window_minutes),
                lockout=timedelta(minutes=self.signin_lockout_minutes),
                max_lockout=timedelta(
                    minutes=max(self.signin_max_lockout_minutes, self.signin_lockout_minutes)
                ),
            )

        return Rules(
            account=rule(self.signin_account_attempts),
            address=rule(self.signin_address_attempts),
            forget_after=timedelta(hours=self.signin_forget_hours),
        )
