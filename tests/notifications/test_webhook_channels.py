"""Webhooks against a real HTTP server on loopback: the JSON each platform
expects, the signatures DingTalk and Feishu document, 5xx retried, 4xx a dead
letter, Retry-After honoured, and a dead letter after the last attempt."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from models.clock import FrozenClock
from notifications.config import NotificationConfig
from notifications.ledger.delivery import DeliveryPolicy, DeliveryReport
from notifications.message import Recipient
from tests.notifications.support import (
    BASE_URL,
    HttpServer,
    Record,
    Reply,
    attempt_rows,
    deliver_configured,
    free_port,
    ledger_rows,
    make_config,
)

POLICY = DeliveryPolicy(max_attempts=3, backoff_base=60, backoff_cap=3600)
SECRET = "SEC-test-secret-0123456789"


def _config(tmp_path: Path, kind: str, extra: str = "") -> NotificationConfig:
    return make_config(tmp_path, f"channels:\n  hook: {{kind: {kind}{extra}}}\ndefault: [hook]\n")


def _deliver(engine: Engine, config: NotificationConfig, clock: FrozenClock) -> DeliveryReport:
    return deliver_configured(engine, config, clock, policy=POLICY, seed=3)


@pytest.fixture
def hook_env(monkeypatch: pytest.MonkeyPatch, http_server: HttpServer) -> HttpServer:
    monkeypatch.setenv("PERFPLAN_HOOK_URL", http_server.url("/hook?access_token=t0k3n"))
    monkeypatch.setenv("PERFPLAN_HOOK_SECRET", SECRET)
    return http_server


def test_generic_webhook_posts_the_message_signed(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    hook_env: HttpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = _config(tmp_path, "webhook", ", secret_env: PERFPLAN_HOOK_SECRET")
    record(
        config, kind="milestone_due_soon", recipient=people["zhang"], subject="milestone:report_1"
    )
    assert _deliver(engine, config, frozen).sent == 1
    (request,) = hook_env.requests
    payload = request.json()
    (row,) = ledger_rows(engine)
    assert request.path == "/hook" and request.query == {"access_token": ["t0k3n"]}
    assert payload["kind"] == "milestone_due_soon" and payload["plan_id"] == zhang_plan
    assert payload["recipient"] == {
        "person_id": people["zhang"].person_id,
        "role": "employee",
        "name": "张三 Zhang San",
        "address": "zhang.san@example.com",
        "locale": "zh-CN",
    }
    assert payload["subject"].startswith("里程碑将于 2026 年 10 月 9 日到期")
    assert "张三 Zhang San，您好" in payload["text"]
    assert payload["link"] == f"{BASE_URL}/plans/{zhang_plan}"
    assert request.headers["Idempotency-Key"] == row["message_id"]
    timestamp = request.headers["X-Perfplan-Timestamp"]
    assert timestamp == str(int(frozen().timestamp()))
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256)
    assert request.headers["X-Perfplan-Signature"] == f"sha256={expected.hexdigest()}"


def test_5xx_is_retried_and_then_delivered(
    engine: Engine,
    people: dict[str, Recipient],
    hook_env: HttpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = _config(tmp_path, "webhook")
    hook_env.answer(Reply(502, "bad gateway"))
    record(config, kind="plan_started", recipient=people["li"])
    first = _deliver(engine, config, frozen)
    assert (first.sent, first.retried) == (0, 1)
    (row,) = ledger_rows(engine)
    assert row["status"] == "queued" and "HTTP 502" in row["last_error"]
    frozen.set(row["next_attempt_at"])
    assert _deliver(engine, config, frozen).sent == 1
    assert len(hook_env.requests) == 2
    assert [a["status"] for a in attempt_rows(engine, row["id"])] == ["temporary", "sent"]


def test_4xx_is_a_dead_letter_without_retry(
    engine: Engine,
    people: dict[str, Recipient],
    hook_env: HttpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = _config(tmp_path, "webhook")
    hook_env.answer(Reply(404, "no such hook"))
    record(config, kind="plan_started", recipient=people["li"])
    assert _deliver(engine, config, frozen).dead == 1
    frozen.advance(days=2)
    assert _deliver(engine, config, frozen).claimed == 0
    assert len(hook_env.requests) == 1
    (row,) = ledger_rows(engine)
    assert row["status"] == "dead" and "HTTP 404" in row["last_error"]


def test_retry_after_is_honoured(
    engine: Engine,
    people: dict[str, Recipient],
    hook_env: HttpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = _config(tmp_path, "webhook")
    hook_env.answer(Reply(429, "slow down", {"Retry-After": "900"}))
    record(config, kind="plan_started", recipient=people["li"])
    _deliver(engine, config, frozen)
    (row,) = ledger_rows(engine)
    assert row["next_attempt_at"] - frozen() == timedelta(seconds=900)


def test_dead_letter_after_the_last_attempt(
    engine: Engine,
    people: dict[str, Recipient],
    hook_env: HttpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = _config(tmp_path, "webhook")
    hook_env.default = Reply(503, "maintenance")
    record(config, kind="plan_started", recipient=people["li"])
    waits = []
    for attempt in range(1, POLICY.max_attempts + 1):
        report = _deliver(engine, config, frozen)
        (row,) = ledger_rows(engine)
        assert row["attempts"] == attempt
        if attempt < POLICY.max_attempts:
            assert report.retried == 1 and row["status"] == "queued"
            waits.append((row["next_attempt_at"] - frozen()).total_seconds())
            frozen.set(row["next_attempt_at"])
    assert report.dead == 1 and row["status"] == "dead"
    # exponential, with jitter between half and all of 60 s · 2^(n-1)
    assert 30 <= waits[0] <= 60 and 60 <= waits[1] <= 120
    statuses = [a["status"] for a in attempt_rows(engine, row["id"])]
    assert statuses == ["temporary"] * POLICY.max_attempts
    assert len(hook_env.requests) == POLICY.max_attempts
    frozen.advance(days=30)
    assert _deliver(engine, config, frozen).claimed == 0


def test_an_unreachable_hook_defers_the_rest_of_the_batch(
    engine: Engine,
    people: dict[str, Recipient],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    monkeypatch.setenv("PERFPLAN_HOOK_URL", f"http://127.0.0.1:{free_port()}/hook")
    config = _config(tmp_path, "webhook")
    for key in ("zhang", "li", "wang"):
        record(config, kind="plan_agreed", recipient=people[key])
    report = _deliver(engine, config, frozen)
    assert (report.sent, report.retried, report.dead, report.deferred) == (0, 1, 0, 2)
    rows = ledger_rows(engine)
    assert rows[0]["last_error"] == "webhook: ConnectError"
    # The others were not tried: they wait, due, without having used up an attempt.
    assert [(row["attempts"], row["last_error"]) for row in rows[1:]] == [(0, "")] * 2


def test_a_slow_hook_times_out_and_is_retried(
    engine: Engine,
    people: dict[str, Recipient],
    hook_env: HttpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = _config(tmp_path, "webhook", ", timeout: 0.2")
    hook_env.answer(Reply(200, "ok", delay=0.6))
    record(config, kind="plan_agreed", recipient=people["li"])
    assert _deliver(engine, config, frozen).retried == 1
    assert ledger_rows(engine)[0]["last_error"] == "webhook: timed out"


def test_slack_gets_block_kit_with_only_a_summary_by_default(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    hook_env: HttpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = _config(tmp_path, "slack")
    li = Recipient(**{**people["li"].__dict__, "handles": {"slack": "U024BE7LH"}})
    record(config, kind="milestone_overdue", recipient=li, level=1)
    assert _deliver(engine, config, frozen).sent == 1
    payload = hook_env.requests[0].json()
    subject = "Overdue milestone in 张三 Zhang San's plan: First analysis report approved (PIP-1)"
    link = f"{BASE_URL}/plans/{zhang_plan}"
    assert payload["text"] == f"{subject} (PIP-{zhang_plan}) {link}"
    header, section, context = payload["blocks"]
    assert header == {"type": "header", "text": {"type": "plain_text", "text": subject}}
    assert section["text"] == {"type": "mrkdwn", "text": f"<@U024BE7LH> {subject}"}
    assert context["elements"][0]["text"] == f"<{link}|PIP-{zhang_plan}>"
    assert "Dear Li Wei" not in json.dumps(payload)  # the body stays out of the group chat


def test_slack_full_detail_escapes_its_markup(
    engine: Engine,
    people: dict[str, Recipient],
    hook_env: HttpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = _config(tmp_path, "slack", ", detail: full")
    record(config, kind="plan_started", recipient=people["li"])
    _deliver(engine, config, frozen)
    text = hook_env.requests[0].json()["blocks"][1]["text"]["text"]
    assert text.startswith("Dear Li Wei,")
    assert "from 48 h to 24 h" in text and "<" not in text.replace("&lt;", "")


def test_feishu_post_signed_as_feishu_documents(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    hook_env: HttpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = _config(tmp_path, "feishu", ", secret_env: PERFPLAN_HOOK_SECRET, detail: full")
    hook_env.answer(Reply(200, json.dumps({"code": 0, "msg": "success", "data": {}})))
    zhang = Recipient(**{**people["zhang"].__dict__, "handles": {"feishu": "ou_7d8a6e6df7621556"}})
    record(config, kind="progress_report_due", recipient=zhang)
    assert _deliver(engine, config, frozen).sent == 1
    payload = hook_env.requests[0].json()
    timestamp = int(frozen().timestamp())
    # Feishu: HMAC-SHA256 with key "timestamp\nsecret" over an empty message, Base64.
    key = f"{timestamp}\n{SECRET}".encode()
    expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert payload["timestamp"] == str(timestamp) and payload["sign"] == expected
    assert payload["msg_type"] == "post"
    post = payload["content"]["post"]["zh_cn"]
    assert post["title"].startswith("提醒：请于")
    lines = [part for line in post["content"] for part in line]
    assert {"tag": "text", "text": "张三 Zhang San，您好："} in lines
    assert {
        "tag": "a",
        "text": f"PIP-{zhang_plan}",
        "href": f"{BASE_URL}/plans/{zhang_plan}",
    } in lines
    assert {"tag": "at", "user_id": "ou_7d8a6e6df7621556"} in lines


@pytest.mark.parametrize(
    ("reply", "status"),
    [
        ({"code": 19021, "msg": "sign match fail or timestamp is not within one hour"}, "dead"),
        ({"code": 11232, "msg": "frequency limited"}, "queued"),
    ],
)
def test_feishu_error_codes_in_a_200_reply(
    engine: Engine,
    people: dict[str, Recipient],
    hook_env: HttpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    reply: dict[str, object],
    status: str,
    record: Record,
) -> None:
    config = _config(tmp_path, "feishu")
    hook_env.answer(Reply(200, json.dumps(reply)))
    record(config, kind="plan_started", recipient=people["li"])
    _deliver(engine, config, frozen)
    (row,) = ledger_rows(engine)
    assert row["status"] == status and f"feishu: error {reply['code']}" in row["last_error"]


def test_dingtalk_markdown_signed_in_the_url_as_dingtalk_documents(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    hook_env: HttpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = _config(tmp_path, "dingtalk", ", secret_env: PERFPLAN_HOOK_SECRET")
    hook_env.answer(Reply(200, json.dumps({"errcode": 0, "errmsg": "ok"})))
    sun = Recipient(**{**people["sun"].__dict__, "handles": {"dingtalk": "13800138000"}})
    record(config, kind="milestone_overdue", recipient=sun, level=2)
    assert _deliver(engine, config, frozen).sent == 1
    request = hook_env.requests[0]
    timestamp = int(frozen().timestamp() * 1000)
    # DingTalk: Base64(HMAC-SHA256(key=secret, msg="timestamp\nsecret")), URL-encoded.
    digest = hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(), hashlib.sha256)
    assert request.query["access_token"] == ["t0k3n"]
    assert request.query["timestamp"] == [str(timestamp)]
    assert request.query["sign"] == [base64.b64encode(digest.digest()).decode()]
    payload = request.json()
    assert payload["msgtype"] == "markdown"
    assert payload["markdown"]["title"].startswith("升级通知：张三 Zhang San 的改进计划")
    assert payload["markdown"]["text"].startswith("#### 升级通知")
    assert f"[PIP-{zhang_plan}]({BASE_URL}/plans/{zhang_plan})" in payload["markdown"]["text"]
    assert payload["markdown"]["text"].endswith("@13800138000")
    assert payload["at"] == {"isAtAll": False, "atMobiles": ["13800138000"]}


def test_dingtalk_rejection_is_a_dead_letter(
    engine: Engine,
    people: dict[str, Recipient],
    hook_env: HttpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = _config(tmp_path, "dingtalk")
    hook_env.answer(
        Reply(200, json.dumps({"errcode": 310000, "errmsg": "keywords not in content"}))
    )
    record(config, kind="plan_started", recipient=people["li"])
    assert _deliver(engine, config, frozen).dead == 1
    assert "dingtalk: error 310000" in ledger_rows(engine)[0]["last_error"]


def test_wecom_markdown_fits_its_size_limit(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    hook_env: HttpServer,
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = _config(tmp_path, "wecom", ", detail: full")
    hook_env.answer(
        Reply(200, json.dumps({"errcode": 0, "errmsg": "ok"})),
        Reply(200, json.dumps({"errcode": 45009, "errmsg": "api freq out of limit"})),
    )
    wang = Recipient(**{**people["wang"].__dict__, "handles": {"wecom": "WangFang"}})
    record(config, kind="evaluation_ready", recipient=wang)
    record(config, kind="plan_started", recipient=people["li"])
    report = _deliver(engine, config, frozen)
    assert (report.sent, report.retried) == (1, 1)
    content = hook_env.requests[0].json()["markdown"]["content"]
    assert hook_env.requests[0].json()["msgtype"] == "markdown"
    assert content.startswith("**") and "评估" in content
    assert content.endswith(f"[PIP-{zhang_plan}]({BASE_URL}/plans/{zhang_plan})\n<@WangFang>")
    assert len(content.encode()) <= 4096
