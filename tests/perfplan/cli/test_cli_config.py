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
