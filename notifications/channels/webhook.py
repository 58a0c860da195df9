"""A generic JSON webhook: one POST per message, signed with HMAC-SHA256 when a
secret is set, with an Idempotency-Key so that a receiver can drop a repeat.

2xx is delivered; 408, 425, 429 and 5xx are temporary (Retry-After is
honoured); any other status is permanent. Timeouts and refused connections
are temporary and stop the rest of the batch on this channel.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import httpx

from notifications.channels.base import (
    BatchChannel,
    Held,
    Options,
    always_held,
    default_env,
    env_secret,
    mask_url,
    until_down,
)
from notifications.errors import DeliveryError
from notifications.message import OutgoingMessage
from notifications.settings import NotificationSettings

TEMPORARY_STATUSES = {408, 425, 429}
USER_AGENT = "perfplan-notifications/1"


def retry_after(response: httpx.Response, now_timestamp: float) -> float | None:
    """Seconds the server asks us to wait (Retry-After: seconds or an HTTP date)."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now_timestamp)
    except (TypeError, ValueError):
        return None


class WebhookOptions(Options):
    url_env: str | None = None
    secret_env: str | None = None
    # full: the whole text body; summary: subject, plan reference and link only.
    detail: str = "full"
    timeout: float | None = None


class WebhookChannel(BatchChannel):
    """POSTs JSON; subclasses change the payload, the URL and how a reply reads."""

    kind = "webhook"
    options_model = WebhookOptions
    settings_for_empty: ClassVar[Mapping[str, str]] = {"timeout": "webhook_timeout"}
    default_detail = "full"

    url: str
    secret: str = ""
    # Empty: the kind's `default_detail`.
    detail: str = ""
    timeout: float = 10.0
    transport: httpx.BaseTransport | None = None

    def __post_init__(self) -> None:
        self.detail = self.detail or self.default_detail

    @classmethod
    def arguments(
        cls, name: str, options: Options, settings: NotificationSettings
    ) -> dict[str, Any]:
        """The URL and the secret from the environment (the variables the options name,
        else PERFPLAN_<NAME>_URL and _SECRET); `detail` only where the options give it."""
        assert isinstance(options, WebhookOptions)
        url = env_secret(name, options.url_env or default_env(name, "URL"))
        secret_var = options.secret_env or default_env(name, "SECRET")
        secret = env_secret(name, secret_var, required=options.secret_env is not None)
        return super().arguments(name, options, settings) | {
            "url": url,
            "secret": secret,
            "detail": options.detail if "detail" in options.model_fields_set else "",
        }

    def describe(self) -> dict[str, str]:
        return {
            **super().describe(),
            "target": mask_url(self.url),
            "secret": "set" if self.secret else "none",
            "detail": self.detail,
        }

    # What subclasses change ------------------------------------------------

    def payload(self, message: OutgoingMessage) -> dict[str, Any]:
        return {
            "id": message.id,
            "kind": message.kind,
            "plan_id": message.plan_id,
            "plan_ref": message.plan_ref,
            "message_id": message.message_id,
            "dedup_key": message.dedup_key,
            "recipient": {
                "person_id": message.person_id,
                "role": message.role,
                "name": message.recipient_name,
                "address": message.address,
                "locale": message.locale,
            },
            "subject": message.subject,
            "text": self.body(message),
            "html": message.html if self.detail == "full" else "",
            "link": message.link,
            "created_at": message.created_at.isoformat(),
        }

    def target_url(self) -> str:
        return self.url

    def headers(self, body: bytes, message: OutgoingMessage) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Idempotency-Key": message.message_id,
        }
        if self.secret:
            timestamp = str(int(self.clock().timestamp()))
            signed = timestamp.encode() + b"." + body
            digest = hmac.new(self.secret.encode(), signed, hashlib.sha256).hexdigest()
            headers["X-Perfplan-Timestamp"] = timestamp
            headers["X-Perfplan-Signature"] = f"sha256={digest}"
        return headers

    def check_reply(self, response: httpx.Response) -> None:
        """A 2xx reply may still carry an error (the chat platforms do)."""

    # Shared ----------------------------------------------------------------

    def body(self, message: OutgoingMessage) -> str:
        """The message text as this channel's detail setting allows."""
        if self.detail == "full":
            return message.text
        return f"{message.subject}\n{message.plan_ref} {message.link}".strip()

    def send_batch(
        self, messages: Sequence[OutgoingMessage], held: Held = always_held
    ) -> list[DeliveryError | None]:
        """One HTTP client for the batch; a POST each, until the receiver is down."""
        with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
            return until_down(messages, lambda message: self._post(client, message), held)

    def _post(self, client: httpx.Client, message: OutgoingMessage) -> DeliveryError | None:
        body = json.dumps(self.payload(message), ensure_ascii=False).encode("utf-8")
        try:
            response = client.post(
                self.target_url(), content=body, headers=self.headers(body, message)
            )
        except httpx.TimeoutException:
            return DeliveryError(f"{self.kind}: timed out", channel_down=True, code="timeout")
        except httpx.HTTPError as error:
            name = type(error).__name__
            return DeliveryError(f"{self.kind}: {name}", channel_down=True, code=name)
        try:
            self._check_status(response)
            self.check_reply(response)
        except DeliveryError as error:
            return error
        return None

    def _check_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        reason = f"{self.kind}: HTTP {status} {response.text[:200]}".strip()
        if status >= 500 or status in TEMPORARY_STATUSES:
            wait = retry_after(response, self.clock().timestamp())
            raise DeliveryError(
                reason, retry_after=wait, channel_down=status in (429, 503), code=f"HTTP {status}"
            )
        raise DeliveryError(reason, permanent=True, code=f"HTTP {status}")
