"""Benchmark: `perfplan people import` of an organisation of 50,000 people — 200
departments, each with a head, managers five levels deep, half in Chinese — through the
same service the CLI and the admin page call: the first import into an empty directory,
its dry run, the same file again (nothing changes) and a file that moves 1 % of people
to another manager. Each is checked and written in one transaction, every change in
the organisation chain. Last line: one JSON object of seconds.

    .venv/bin/python bench/people_import.py [--people 50000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's directory comes first on sys.path, where
# bench/transitions.py would shadow the `transitions` library the engine imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine  # noqa: E402

from models.db import create_schema, make_engine, session_scope  # noqa: E402
from people.orgaudit import Acting, verify  # noqa: E402
from states.intake.people import Intake, import_people  # noqa: E402

NOW = datetime(2026, 8, 1, 9, 0, tzinfo=UTC)
BY = Acting("bench", "cli")
DEPARTMENTS = 200


def organisation(people: int, *, moved: int = 0) -> bytes:
    """The HR system's file: the heads of the departments report to person 0, everyone
    else to person n // 5 (a tree about five levels deep). The first `moved` people
    below the heads report to the person before their manager instead."""
    out = io.StringIO()
    out.write("key,name,email,locale,department,manager,head_of\n")
    for n in range(people):
        department = n % DEPARTMENTS
        if n < DEPARTMENTS:
            manager = "p0" if n else ""
        else:
            manager = f"p{n // 5 - (1 if n < DEPARTMENTS + moved else 0)}"
        locale = "zh-CN" if n % 2 else "en"
        heads = f"Department {department}" if n < DEPARTMENTS else ""
        out.write(
            f"p{n},Person {n} 员工,p{n}@example.com,{locale},Department {department},"
            f"{manager},{heads}\n"
        )
    return out.getvalue().encode("utf-8")


def timed(engine: Engine, data: bytes, *, dry_run: bool = False) -> tuple[float, Intake]:
    started = time.perf_counter()
    with session_scope(engine) as session:
        intake = import_people(session, data, source="hr.csv", now=NOW, by=BY, dry_run=dry_run)
    return time.perf_counter() - started, intake


def measure(engine: Engine, people: int) -> dict[str, object]:
    data = organisation(people)
    dry_s, dry = timed(engine, data, dry_run=True)
    first_s, first = timed(engine, data)
    again_s, again = timed(engine, data)
    moved = people // 100
    moved_s, move = timed(engine, organisation(people, moved=moved))
    with session_scope(engine) as session:
        started = time.perf_counter()
        report = verify(session)
        verify_s = time.perf_counter() - started
    assert report.ok and not again.changes and first.written, (report, again)
    return {
        "people": people,
        "file_mb": round(len(data) / 1e6, 1),
        "dry_run_s": round(dry_s, 2),
        "dry_run_changes": len(dry.changes),
        "first_import_s": round(first_s, 2),
        "first_import_changes": len(first.changes),
        "unchanged_import_s": round(again_s, 2),
        "moved_managers": move.count("manager"),
        "moved_import_s": round(moved_s, 2),
        "org_chain_records": report.records,
        "org_chain_verify_s": round(verify_s, 2),
    }


def main(argv: list[str] | None = None, *, say: Callable[[str], None] = print) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'import.db'}"
        engine = make_engine(url)
        create_schema(engine)
        figures = {"database": engine.dialect.name, **measure(engine, args.people)}
        engine.dispose()
    say(json.dumps(figures))


if __name__ == "__main__":
    main()
