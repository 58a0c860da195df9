"""A bulk import refreshes the query planner's statistics with its rows, in its own
transaction: the plan list never plans from the empty tables' figures after a load."""

from __future__ import annotations

from sqlalchemy import Engine, text

from models.db import BULK_ROWS, session_scope
from people.orgaudit import Acting
from states.intake.people import import_people
from tests.conftest import DRAFTING_DAY

HEADER = "key,name,email,locale,department,manager,head_of\n"


def _import(engine: Engine, people: int) -> None:
    rows = "".join(f"p{n},P {n},p{n}@example.com,en,Sales,,\n" for n in range(people))
    with session_scope(engine) as session:
        import_people(
            session,
            (HEADER + rows).encode(),
            source="hr.csv",
            now=DRAFTING_DAY,
            by=Acting("ada", "cli"),
        )


def _people_counted_by_the_planner(engine: Engine) -> int:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            if not conn.execute(
                text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
            ).first():
                return 0  # never analysed
            stat = conn.execute(
                text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'person' AND idx IS NULL")
            ).scalar()
            if stat is None:  # no row of its own when the table has indexes: take one
                stat = conn.execute(
                    text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'person' LIMIT 1")
                ).scalar()
            return int(str(stat).split()[0]) if stat else 0
        tuples = conn.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'person'"))
        return int(tuples.scalar_one())


def test_a_bulk_import_leaves_the_planner_knowing_its_rows(engine: Engine) -> None:
    _import(engine, BULK_ROWS)
    assert _people_counted_by_the_planner(engine) >= BULK_ROWS


def test_a_small_import_costs_no_analysis(engine: Engine) -> None:
    _import(engine, 5)
    assert _people_counted_by_the_planner(engine) < 5
