"""`perfplan people import`: Zhang's organisation from its CSV file through the command
line — the dry run's list, the import, the second run that changes nothing, and a bad
file refused in one sentence per problem with exit 2."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ROOT, Cli

EXAMPLE = ROOT / "docs" / "examples" / "zhang-organisation.csv"


def test_import_previews_writes_once_and_then_changes_nothing(initialised: Cli) -> None:
    cli = initialised
    dry = cli("people", "import", str(EXAMPLE), "--dry-run")
    assert dry.code == 0, dry.err
    assert dry.out.startswith("Dry run of zhang-organisation.csv (6 rows), nothing written")
    assert "  row 2: changed head of Sales East: none → sun" in dry.out
    assert cli("people", "list", "--json").json() == []

    done = cli("people", "import", str(EXAMPLE), "--now", "2026-08-01T09:00")
    assert done.code == 0, done.err
    assert "10 changes (3 × new department, 6 × new person, 1 × changed head)" in done.out
    assert {p["key"] for p in cli("people", "list", "--json").json()} == {
        "sun",
        "li",
        "zhang",
        "chen",
        "wang",
        "zhao",
    }
    again = cli("people", "import", str(EXAMPLE), "--json")
    assert again.json()["changes"] == [] and again.json()["written"] is False
    said = cli("people", "import", str(EXAMPLE)).out
    assert "nothing to change" in said
    org = cli("audit", "log", "--org", "--format", "json").json()
    assert [r["kind"] for r in org].count("person.created") == 6


def test_a_bad_file_is_one_sentence_per_problem_and_exit_2(
    initialised: Cli, tmp_path: Path
) -> None:
    bad = tmp_path / "hr.csv"
    bad.write_text(
        EXAMPLE.read_text(encoding="utf-8")
        .replace(",li,\n", ",lee,\n")
        .replace("zhao,", "system,"),
        encoding="utf-8",
    )
    refused = initialised("people", "import", str(bad))
    assert refused.code == 2
    assert "hr.csv: 2 problem(s), nothing imported" in refused.err
    assert "row 4, manager: no person with key 'lee', in the file or in perfplan" in refused.err
    assert "row 7, key: 'system' is reserved" in refused.err
    assert initialised("people", "list", "--json").json() == []
