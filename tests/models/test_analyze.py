"""After a bulk load the query planner has figures for the loaded rows: the loaders
(the benchmarks' seeding, `perfplan db analyze` for anything else) run ANALYZE."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from tests.conftest import Cli, cli_runner


def planner_rows(engine: Engine, table: str) -> int | None:
    """How many rows the planner believes `table` holds (None: it has no figure)."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            analysed = connection.execute(
                text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = :t"),
                {"t": table},
            ).scalar_one()
            if analysed is None:
                return None
            return int(
                connection.execute(
                    text("SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": table}
                ).scalar_one()
            )
        exists = connection.execute(
            text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        ).first()
        if exists is None:
            return None
        stat = connection.execute(
            text("SELECT stat FROM sqlite_stat1 WHERE tbl = :t LIMIT 1"), {"t": table}
        ).scalar()
        return None if stat is None else int(str(stat).split()[0])


def test_cloning_plans_for_the_page_benchmark_leaves_the_planner_their_figures(
    engine: Engine, zhang_plan: int
) -> None:
    from bench.pages import clone

    assert planner_rows(engine, "plan") is None
    clone(engine, zhang_plan, 300)
    assert planner_rows(engine, "plan") == 301
    assert (planner_rows(engine, "milestone") or 0) > 300


def test_cloning_agreed_plans_for_the_transition_benchmark_analyses_too(
    engine: Engine, zhang_plan: int
) -> None:
    from bench.transitions import Template, clone_agreed_plans
    from models.tables import PLAN, PLAN_ROLE

    with engine.connect() as connection:
        plan = dict(connection.execute(PLAN.select()).one()._mapping)
        roles = connection.execute(PLAN_ROLE.select()).all()
    template = Template(plan, [(role.person_id, role.role) for role in roles])
    clone_agreed_plans(engine, template, first_id=2, count=200)
    assert planner_rows(engine, "plan") == 201


def test_db_analyze_refreshes_the_figures_after_a_load_by_hand(
    engine: Engine,
    zhang_plan: int,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PERFPLAN_DATABASE_URL", db_url)
    cli: Cli = cli_runner(capsys)
    assert planner_rows(engine, "plan") is None
    done = cli("db", "analyze")
    assert done.code == 0, done.err
    assert "statistics refreshed" in done.out
    assert planner_rows(engine, "plan") == 1
    from models.db import analyze

    analyze(engine)  # and again: it is safe to repeat
    assert planner_rows(engine, "plan") == 1
