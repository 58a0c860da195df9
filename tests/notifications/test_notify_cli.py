"""`perfplan notify ...` run in-process through `main(argv)`: channels with
secrets masked, previews in both languages (sample or a real plan), dead
letters, retry, send and show, with distinct exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from models.clock import FrozenClock
from notifications.message import Recipient
from tests.conftest import Cli, cli_runner
from tests.notifications.support import BASE_URL, Record, enqueue_sample, ledger_rows, make_config

ROUTING = """
channels:
  outbox: {kind: file}
  team-chat: {kind: dingtalk, url_env: TEAM_CHAT_URL, secret_env: TEAM_CHAT_SECRET}
  pager: {kind: console}
routes:
  - {kinds: [milestone_overdue], roles: [hr], channels: [outbox], also: [team-chat]}
  - {kinds: ["*"], roles: ["*"], channels: [outbox]}
"""


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    db_url: str,
    engine: Engine,
    tmp_path: Path,
) -> Cli:
    routing = tmp_path / "routing.yaml"
    routing.write_text(ROUTING, encoding="utf-8")
    for name, value in {
        "PERFPLAN_DATABASE_URL": db_url,
        "PERFPLAN_NOTIFY_CONFIG": str(routing),
        "PERFPLAN_OUTBOX_DIR": str(tmp_path / "outbox"),
        "PERFPLAN_BASE_URL": BASE_URL,
        "PERFPLAN_SMTP_FROM": "hr@example.com",
        "COLUMNS": "200",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("PERFPLAN_NOW", "PERFPLAN_TEMPLATES_DIR", "TEAM_CHAT_URL", "TEAM_CHAT_SECRET"):
        monkeypatch.delenv(name, raising=False)

    return cli_runner(capsys)


def test_channels_shows_what_is_configured_with_secrets_masked(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = cli("notify", "channels", "--json").json()
    assert isinstance(missing, dict)
    chat = next(c for c in missing["channels"] if c["name"] == "team-chat")
    assert chat["ready"] is False and "TEAM_CHAT_URL is not set" in chat["problem"]

    monkeypatch.setenv(
        "TEAM_CHAT_URL", "https://oapi.dingtalk.com/robot/send?access_token=SECRETTOKEN"
    )
    monkeypatch.setenv("TEAM_CHAT_SECRET", "SECsigning")
    data = cli("notify", "channels", "--json")
    assert data.code == 0 and "SECRETTOKEN" not in data.out and "SECsigning" not in data.out
    channels = {c["name"]: c for c in data.json()["channels"]}
    assert channels["team-chat"] == {
        "name": "team-chat",
        "kind": "dingtalk",
        "target": "https://oapi.dingtalk.com/***",
        "secret": "set",
        "detail": "summary",
        "ready": True,
    }
    assert channels["outbox"]["target"].endswith("outbox/ (.eml)")
    assert data.json()["routes"][0] == {
        "kinds": ["milestone_overdue"],
        "roles": ["hr"],
        "channels": ["outbox"],
        "also": ["team-chat"],
    }
    table = cli("notify", "channels")
    assert table.code == 0 and "SECRETTOKEN" not in table.out
    assert "team-chat" in table.out and "https://oapi.dingtalk.com/***" in table.out


def test_preview_uses_the_readers_own_language(cli: Cli) -> None:
    zhang = cli("notify", "preview", "milestone_overdue")
    assert zhang.code == 0
    assert zhang.out.startswith("Subject: 里程碑已逾期：First analysis report approved（PIP-1）")
    assert "Locale:  zh-CN" in zhang.out and "张三 Zhang San，您好：" in zhang.out
    li = cli("notify", "preview", "milestone_overdue", "--role", "manager")
    assert "Locale:  en" in li.out and "Dear Li Wei," in li.out
    forced = cli(
        "notify", "preview", "milestone_overdue", "--locale", "en", "--level", "3", "--role", "hr"
    )
    assert "Subject: HR review needed" in forced.out
    html = cli("notify", "preview", "plan_agreed", "--html")
    assert '<html lang="zh-CN">' in html.out


def test_preview_with_a_real_plan(cli: Cli, zhang_plan: int) -> None:
    result = cli(
        "notify",
        "preview",
        "milestone_overdue",
        "--plan",
        str(zhang_plan),
        "--level",
        "2",
        "--role",
        "department_head",
        "--json",
    )
    assert result.code == 0, result.err
    rendered = result.json()
    assert isinstance(rendered, dict) and rendered["locale"] == "zh-CN"
    assert "孙浩 Sun Hao，您好" in rendered["text"]  # Sun heads Zhang's department
    assert "Attend the training (10–15 Sep)" in rendered["text"]  # the plan's first milestone
    assert f"{BASE_URL}/plans/{zhang_plan}" in rendered["text"]
    assert f"PIP-{zhang_plan}" in rendered["subject"]


def test_preview_refuses_what_does_not_exist(cli: Cli) -> None:
    unknown = cli("notify", "preview", "milestone_missed")
    assert unknown.code == 2 and "unknown message kind 'milestone_missed'" in unknown.err
    no_plan = cli("notify", "preview", "plan_agreed", "--plan", "99")
    assert no_plan.code == 3 and "no plan with id 99" in no_plan.err


def _dead_letters(
    engine: Engine, tmp_path: Path, plan_id: int, people: dict[str, Recipient], clock: FrozenClock
) -> list[int]:
    """Two messages routed to a channel that the sender then does not have: dead letters."""
    from notifications.ledger.delivery import deliver_due

    config = make_config(tmp_path, "channels:\n  pager: {kind: console}\ndefault: [pager]\n")
    ids = [
        enqueue_sample(
            engine, config, kind="plan_started", recipient=people[key], plan_id=plan_id, now=clock()
        )[0].id
        for key in ("zhang", "li")
    ]
    deliver_due(engine, channels={}, renderer=config.renderer, now=clock())
    return ids


def test_failed_lists_dead_letters_and_retry_requeues_them(
    cli: Cli,
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    tmp_path: Path,
    frozen: FrozenClock,
) -> None:
    assert "No dead letters." in cli("notify", "failed").out
    first, second = _dead_letters(engine, tmp_path, zhang_plan, people, frozen)
    listed = cli("notify", "failed", "--json").json()
    assert isinstance(listed, list)
    assert [row["id"] for row in listed] == [second, first]
    assert listed[0]["kind"] == "plan_started" and listed[0]["channel"] == "pager"
    assert "channel 'pager' is not configured" in listed[0]["last_error"]
    table = cli("notify", "failed")
    assert table.code == 0 and f"PIP-{zhang_plan}" in table.out and "plan_started" in table.out

    assert cli("notify", "retry").code == 2
    assert cli("notify", "retry", str(first), "--all").code == 2
    requeued = cli("notify", "retry", str(first), "--json", "--now", "2026-10-13T08:00")
    assert requeued.code == 0 and requeued.json() == {"requeued": 1}
    again = cli("notify", "retry", str(first))
    assert again.code == 5 and "is queued: only dead letters" in again.err
    assert cli("notify", "retry", "4242").code == 3
    assert cli("notify", "retry", "--all").out.startswith("1 message(s) queued again")
    assert {row["status"] for row in ledger_rows(engine)} == {"queued"}


def test_send_delivers_what_is_due_and_show_tells_its_story(
    cli: Cli,
    people: dict[str, Recipient],
    tmp_path: Path,
    frozen: FrozenClock,
    record: Record,
) -> None:
    config = make_config(tmp_path)  # the outbox, as the routing file says too
    (queued,) = record(config, kind="coaching_session_due", recipient=people["li"])
    waiting = cli("notify", "show", str(queued.id))
    assert "not rendered yet" in waiting.out and "Coaching talk" not in waiting.out
    sent = cli("notify", "send", "--json", "--now", frozen().isoformat())
    assert sent.code == 0, sent.err
    assert "channel team-chat is not ready" in sent.err  # a secret not set: a warning
    assert sent.json() == {
        "claimed": 1,
        "sent": 1,
        "retried": 0,
        "dead": 0,
        "interrupted": 0,
        "deferred": 0,
        "more": False,
    }
    assert [f.name for f in (tmp_path / "outbox").iterdir()] == [
        f"{queued.id:08d}-coaching_session_due-manager-en.eml"
    ]
    shown = cli("notify", "show", str(queued.id), "--json").json()
    assert isinstance(shown, dict)
    assert shown["status"] == "sent" and shown["channel"] == "outbox"
    assert [a["status"] for a in shown["attempts"]] == ["sent"]
    assert "body_html" not in shown
    assert shown["context"]["recipient"]["name"] == people["li"].name  # what it was rendered from
    table = cli("notify", "show", str(queued.id))
    assert table.code == 0 and "Coaching talk with 张三 Zhang San" in table.out
    assert cli("notify", "show", "777").code == 3


def test_every_notify_command_has_help(cli: Cli) -> None:
    for command in ("channels", "preview", "failed", "retry", "send", "show"):
        result = cli("notify", command, "--help")
        assert result.code == 0 and "Usage" in result.out, command
    assert "Notifications" in cli("notify", "--help").out


def test_an_uninitialised_database_is_a_sentence(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PERFPLAN_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    result = cli("notify", "failed")
    assert result.code == 7 and "perfplan init" in result.err
