"""Chat incoming webhooks: Slack, Feishu/Lark, DingTalk and WeCom (企业微信).

A chat robot posts into a group, so these channels send a summary by default
(subject, plan reference, link); `detail: full` sends the whole text. Feishu
and DingTalk robots may require a signature: set the channel's secret.
Their replies are HTTP 200 with an error code in the body, read here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any, ClassVar
from urllib.parse import quote_plus

import httpx

from notifications.channels.webhook import WebhookChannel
from notifications.errors import DeliveryError
from notifications.message import OutgoingMessage


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk: Base64(HMAC-SHA256(key=secret, msg="{timestamp}\\n{secret}")), URL-encoded."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu/Lark: Base64(HMAC-SHA256(key="{timestamp}\\n{secret}", msg=empty))."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def _reply_json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _coded_failure(
    kind: str, code: object, text: object, temporary: frozenset[int]
) -> DeliveryError:
    permanent = not (isinstance(code, int) and code in temporary)
    return DeliveryError(
        f"{kind}: error {code} {text}".strip(), permanent=permanent, code=f"{kind} {code}"
    )


class _ChatChannel(WebhookChannel):
    default_detail = "summary"
    uses_email = False

    def mention(self, message: OutgoingMessage) -> str:
        return message.address


class _CodedReplyChannel(_ChatChannel):
    """A robot that answers HTTP 200 with an error code in its JSON body; the codes in
    `temporary_codes` are retried, any other code but 0 is permanent."""

    temporary_codes: ClassVar[frozenset[int]] = frozenset()

    def reply_error(self, data: dict[str, Any]) -> tuple[object, object]:
        """The reply's code and text (DingTalk's and WeCom's names)."""
        return data.get("errcode", 0), data.get("errmsg", "")

    def check_reply(self, response: httpx.Response) -> None:
        code, text = self.reply_error(_reply_json(response))
        if code not in (0, None):
            raise _coded_failure(self.kind, code, text, self.temporary_codes)


class SlackChannel(_ChatChannel):
    """Slack incoming webhook: Block Kit with a plain-text fallback."""

    kind = "slack"

    @staticmethod
    def escape(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def payload(self, message: OutgoingMessage) -> dict[str, Any]:
        body = self.escape(message.text if self.detail == "full" else message.subject)
        if self.mention(message):
            body = f"<@{self.mention(message)}> {body}"
        return {
            "text": f"{message.subject} ({message.plan_ref}) {message.link}",
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": message.subject[:150]}},
                {"type": "section", "text": {"type": "mrkdwn", "text": body[:3000]}},
                {
                    "type": "context",
                    "elements": [
                        {"type": "mrkdwn", "text": f"<{message.link}|{message.plan_ref}>"}
                    ],
                },
            ],
        }


class FeishuChannel(_CodedReplyChannel):
    """Feishu/Lark custom robot: a rich-text ("post") message, signed if a secret is set."""

    kind = "feishu"
    # 11232: frequency limited; 9499: busy. The rest (bad signature, keyword, IP) are permanent.
    temporary_codes: ClassVar[frozenset[int]] = frozenset({11232, 9499})

    def payload(self, message: OutgoingMessage) -> dict[str, Any]:
        lines = self.body(message).splitlines() if self.detail == "full" else []
        content: list[list[dict[str, str]]] = [
            [{"tag": "text", "text": line}] for line in lines if line.strip()
        ]
        content.append(
            [{"tag": "a", "text": message.plan_ref or message.link, "href": message.link}]
        )
        if self.mention(message):
            content.append([{"tag": "at", "user_id": self.mention(message)}])
        language = "zh_cn" if message.locale.startswith("zh") else "en_us"
        payload: dict[str, Any] = {
            "msg_type": "post",
            "content": {"post": {language: {"title": message.subject, "content": content}}},
        }
        if self.secret:
            timestamp = int(self.clock().timestamp())
            payload["timestamp"] = str(timestamp)
            payload["sign"] = feishu_sign(self.secret, timestamp)
        return payload

    def reply_error(self, data: dict[str, Any]) -> tuple[object, object]:
        code = data.get("code", data.get("StatusCode", 0))
        return code, data.get("msg", data.get("StatusMessage", ""))


def _markdown_lines(text: str) -> str:
    # Both platforms' Markdown need a hard break ("  \n") to keep single line breaks.
    return "  \n".join(line for line in text.splitlines())


class DingTalkChannel(_CodedReplyChannel):
    """DingTalk custom robot: Markdown, signed in the URL if a secret is set."""

    kind = "dingtalk"
    # 130101: sending too fast; -1: system busy.
    temporary_codes: ClassVar[frozenset[int]] = frozenset({130101, -1})

    def target_url(self) -> str:
        if not self.secret:
            return self.url
        timestamp = int(self.clock().timestamp() * 1000)
        joiner = "&" if "?" in self.url else "?"
        return (
            f"{self.url}{joiner}timestamp={timestamp}&sign={dingtalk_sign(self.secret, timestamp)}"
        )

    def payload(self, message: OutgoingMessage) -> dict[str, Any]:
        handle = self.mention(message)
        text = f"#### {message.subject}\n\n{_markdown_lines(self.body(message))}"
        text += f"\n\n[{message.plan_ref or message.link}]({message.link})"
        at: dict[str, Any] = {"isAtAll": False}
        if handle:
            text += f"\n\n@{handle}"
            at["atMobiles" if handle.lstrip("+").replace("-", "").isdigit() else "atUserIds"] = [
                handle
            ]
        return {
            "msgtype": "markdown",
            "markdown": {"title": message.subject, "text": text},
            "at": at,
        }

    def body(self, message: OutgoingMessage) -> str:
        return message.text if self.detail == "full" else ""


class WeComChannel(_CodedReplyChannel):
    """WeCom (企业微信) group robot: Markdown, at most 4096 bytes."""

    kind = "wecom"
    # 45009: API frequency limit; -1: system busy.
    temporary_codes: ClassVar[frozenset[int]] = frozenset({45009, -1})
    max_bytes = 4096

    def payload(self, message: OutgoingMessage) -> dict[str, Any]:
        body = message.text if self.detail == "full" else ""
        text = f"**{message.subject}**\n{body}".rstrip()
        tail = f"\n[{message.plan_ref or message.link}]({message.link})"
        if self.mention(message):
            tail += f"\n<@{self.mention(message)}>"
        budget = self.max_bytes - len(tail.encode())
        text = text.encode()[:budget].decode("utf-8", "ignore")
        return {"msgtype": "markdown", "markdown": {"content": text + tail}}
