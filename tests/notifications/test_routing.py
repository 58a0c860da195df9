"""The routing file: channels, routes by kind and role, people's own
preferences; every problem reported at once; secrets only from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.clock import now
from notifications.errors import ConfigurationError
from notifications.message import Recipient
from notifications.routing import default_routing, parse_routing, read_routing
from notifications.settings import NotificationSettings

EXAMPLE = """
channels:
  email: {kind: smtp}
  outbox: {kind: file, directory: out, format: json}
  hr-dingtalk: {kind: dingtalk, url_env: HR_DINGTALK_URL, secret_env: HR_DINGTALK_SECRET}
  audit-hook: {kind: webhook}
default: [email]
routes:
  - kinds: [milestone_overdue]
    roles: [department_head, hr]
    channels: [email]
    also: [hr-dingtalk]
  - kinds: [coaching_session_due]
    roles: [mentor]
    channels: []
  - kinds: ["*"]
    roles: ["*"]
    channels: [email]
    also: [outbox]
people:
  zhang: {locale: zh-CN, channels: [outbox]}
  li: {locale: en}
"""

LI = Recipient(person_id=2, role="manager", name="Li Wei", locale="en", key="li")
ZHANG = Recipient(person_id=1, role="employee", name="张三", locale="en", key="zhang")
WANG = Recipient(person_id=3, role="hr", name="王芳", locale="zh-CN", key="wang")
CHEN = Recipient(person_id=4, role="mentor", name="陈静", locale="zh-CN", key="chen")


def test_first_matching_route_decides_and_also_is_added() -> None:
    routing = parse_routing(EXAMPLE)
    assert routing.channels_for("milestone_overdue", WANG) == ["email", "hr-dingtalk"]
    assert routing.channels_for("milestone_overdue", LI) == ["email", "outbox"]
    assert routing.channels_for("plan_started", WANG) == ["email", "outbox"]


def test_an_empty_route_silences_a_kind_for_a_role() -> None:
    routing = parse_routing(EXAMPLE)
    assert routing.channels_for("coaching_session_due", CHEN) == []
    assert routing.channels_for("plan_started", CHEN) == ["email", "outbox"]


def test_a_persons_preferences_replace_channels_and_language() -> None:
    routing = parse_routing(EXAMPLE)
    assert routing.channels_for("progress_report_due", ZHANG) == ["outbox"]
    assert routing.locale_for(ZHANG) == "zh-CN"  # the file wins over the person record
    assert routing.locale_for(WANG) == "zh-CN"
    passed = Recipient(person_id=2, role="manager", key="li", channels=("outbox", "nope"))
    assert routing.channels_for("plan_started", passed) == ["outbox"]


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    broken = """
channels:
  email: {kind: smtp, colour: blue}
  chat: {kind: telegram}
  nokind: {}
default: [fax]
routes:
  - kinds: [milestone_missed]
    roles: [hr]
    channels: [email, pigeon]
  - roles: [hr]
people:
  zhang: {channels: [pager], mood: calm}
surprise: 1
"""
    with pytest.raises(ConfigurationError) as raised:
        parse_routing(broken, source="routing.yaml")
    message = str(raised.value)
    for expected in (
        "routing.yaml:",
        "$: unknown key 'surprise'",
        "channels.email: channel 'email' (smtp): colour: Extra inputs are not permitted",
        "channels.chat: unknown channel kind 'telegram'",
        "channels.nokind: needs a `kind`",
        "default: unknown channel 'fax'",
        "routes[0].kinds: unknown message kind 'milestone_missed'",
        "routes[0].channels: unknown channel 'pigeon'",
        "routes[1]: needs `channels`",
        "people.zhang: unknown key 'mood'",
        "people.zhang.channels: unknown channel 'pager'",
    ):
        assert expected in message, expected
    assert "11 problem(s)" in message


def test_yes_and_no_stay_text() -> None:
    with pytest.raises(ConfigurationError, match="fsync: Input should be a valid boolean"):
        parse_routing("channels:\n  outbox: {kind: file, fsync: sometimes}\n")
    routing = parse_routing("channels:\n  no: {kind: console}\ndefault: [no]\n")
    assert list(routing.channels) == ["no"]


def test_secrets_come_from_the_environment_and_are_never_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    routing = parse_routing(EXAMPLE)
    settings = NotificationSettings(smtp_host="mail.example.com", smtp_username="perfplan")
    with pytest.raises(ConfigurationError, match="HR_DINGTALK_URL is not set"):
        routing.build(settings, now)
    token = "0123456789abcdef"
    monkeypatch.setenv(
        "HR_DINGTALK_URL", f"https://oapi.dingtalk.com/robot/send?access_token={token}"
    )
    monkeypatch.setenv("HR_DINGTALK_SECRET", "SECabc")
    monkeypatch.setenv("PERFPLAN_AUDIT_HOOK_URL", f"https://hr.example.com/hooks/{token}")
    channels = routing.build(settings, now)
    shown = str({name: channel.describe() for name, channel in channels.items()})
    assert token not in shown and "SECabc" not in shown
    assert channels["hr-dingtalk"].describe()["target"] == "https://oapi.dingtalk.com/***"
    assert channels["audit-hook"].describe()["target"] == "https://hr.example.com/***"
    assert channels["email"].describe()["credentials"] == "user perfplan, password NOT SET"


def test_without_a_file_everything_goes_to_the_outbox_or_to_email() -> None:
    laptop = default_routing(NotificationSettings(smtp_host=""))
    assert laptop.channels_for("plan_started", LI) == ["outbox"]
    office = default_routing(NotificationSettings(smtp_host="mail.example.com"))
    assert office.channels_for("plan_started", LI) == ["email"]


def test_a_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read it"):
        read_routing(tmp_path / "absent.yaml")
