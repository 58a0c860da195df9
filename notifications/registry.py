"""Channel kinds -> classes, imported only when a channel of that kind is used
(the webhook classes pull in httpx; a file outbox needs none of that)."""

from __future__ import annotations

from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING, cast

from notifications.errors import UnknownKind

if TYPE_CHECKING:
    from notifications.channels.base import Channel

_CHANNELS: dict[str, tuple[str, str]] = {
    "smtp": ("notifications.channels.email", "SmtpChannel"),
    "file": ("notifications.channels.outbox", "FileOutboxChannel"),
    "console": ("notifications.channels.console", "ConsoleChannel"),
    "webhook": ("notifications.channels.webhook", "WebhookChannel"),
    "slack": ("notifications.channels.chat", "SlackChannel"),
    "feishu": ("notifications.channels.chat", "FeishuChannel"),
    "dingtalk": ("notifications.channels.chat", "DingTalkChannel"),
    "wecom": ("notifications.channels.chat", "WeComChannel"),
}
_ALIASES = {"email": "smtp", "outbox": "file", "lark": "feishu", "wechat_work": "wecom"}

CHANNEL_KINDS = sorted(_CHANNELS)


def canonical_kind(kind: str) -> str:
    kind = _ALIASES.get(kind, kind)
    if kind not in _CHANNELS:
        raise UnknownKind("channel kind", kind, CHANNEL_KINDS)
    return kind


@cache  # asked for each message recorded
def channel_class(kind: str) -> type[Channel]:
    module, name = _CHANNELS[canonical_kind(kind)]
    return cast("type[Channel]", getattr(import_module(module), name))
