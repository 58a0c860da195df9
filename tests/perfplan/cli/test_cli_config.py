"""`perfplan config ...`: definitions checked with their problems' codes, and drawn."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ZHANG_FILE, Cli
from tests.perfplan.cli.conftest import zhangs_plan


def test_config_check_reports_codes_and_fails(cli: Cli, tmp_path: Path) -> None:
    assert cli("config", "check").code == 0
    broken = tmp_path / "broken.yaml"
    source = (
        ZHANG_FILE.parent.parent.parent / "states" / "definitions" / "builtin" / "standard.yaml"
    )
    broken.write_text(source.read_text().replace("dest: evaluated", "dest: evaluatd"))
    result = cli("config", "check", str(broken), "--json")
    assert result.code == 2
    codes = {p["code"] for entry in result.json() for p in entry["problems"]}
    assert "UNKNOWN_STATE" in codes


def test_config_diagram_highlights_the_plans_state(initialised: Cli) -> None:
    plan = str(zhangs_plan(initialised))
    out = initialised("config", "diagram", "standard", "--plan", plan).out
    assert out.startswith("stateDiagram-v2")
    assert "drafted --> agreed: agree (chain sign_off)" in out
    assert "class drafted current" in out
    assert initialised("config", "diagram", "standard", "--highlight", "nowhere").code == 2


def test_config_check_says_huge_values_and_unknown_calendars_in_sentences(
    cli: Cli, tmp_path: Path
) -> None:
    source = (
        ZHANG_FILE.parents[2] / "states" / "definitions" / "builtin" / "standard.yaml"
    ).read_text()
    broken = tmp_path / "huge.yaml"
    broken.write_text(
        source.replace("calendar: CN", "calendar: XX")
        .replace("signature_pending: 2 business days", "signature_pending: 99999999999999 days")
        .replace("after: 7 business days", "after: 999999999 business days")
        .replace("    milestone_overdue:", "    milestone_overdoo:")
    )

    result = cli("config", "check", str(broken))

    assert result.code == 2
    assert "Traceback" not in result.out + result.err
    said = result.out + result.err
    for code in ("UNKNOWN_CALENDAR", "DURATION_TOO_LONG", "UNKNOWN_ESCALATION_KIND"):
        assert code in said
    assert "did you mean 'milestone_overdue'?" in said
    assert "'99999999999999 days' is longer than any plan runs" in said
    assert "'999999999 business days' is longer than any plan runs" in said
