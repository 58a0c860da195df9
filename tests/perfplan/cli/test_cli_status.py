"""`perfplan status`: the clockwork's figures, and when each kind of run last ran."""

from __future__ import annotations

from tests.conftest import Cli
from tests.perfplan.cli.conftest import zhangs_plan


def test_status_says_what_waits_and_when_the_sweep_last_ran(initialised: Cli) -> None:
    cli = initialised
    empty = cli("status", "--json", "--now", "2026-08-25T09:00").json()
    assert empty["last"] == {} and empty["effects"]["waiting"] == 0
    assert "last sweep         never" in cli("status", "--now", "2026-08-25T09:00").out

    plan = str(zhangs_plan(cli))
    for who, when in (("zhang", "2026-08-26T10:30"), ("li", "2026-08-26T15:00")):
        assert cli("plan", "sign", plan, "--as", who, "--now", when).code == 0
    before = cli("status", "--json", "--now", "2026-08-28T03:00").json()
    assert before["follow_ups"]["due"] == 1  # wang has not signed for two business days

    swept = cli("sweep", "--as-of", "2026-08-28T03:00", "--json")
    assert swept.code == 0, swept.err
    after = cli("status", "--json", "--now", "2026-08-28T03:00").json()
    assert after["follow_ups"]["due"] == 0
    assert after["last"]["sweep"]["figures"]["reminders"] == 1
    assert after["last"]["sweep"]["as_of"].startswith("2026-08-28T03:00")
    assert after["last"]["sweep"]["ok"] is True
    said = cli("status", "--now", "2026-08-28T03:00").out
    assert "(as of 2026-08-28 03:00 UTC)" in said and "reminders 1" in said
