"""`people import`: Zhang's organisation from the HR system's CSV file
(docs/examples/zhang-organisation.csv) — idempotent, previewed exactly, refused whole
with every problem by row and column, and recorded in the organisation chain."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from models.db import create_schema, make_engine, session_scope
from models.tables import DEPARTMENT, ORG_AUDIT, PERSON
from people import orgaudit
from people.orgaudit import Acting
from states.errors import CellProblem, ImportInvalid
from states.intake.people import Intake, import_people, load_directory
from states.plans.opening import create_plan
from tests.conftest import DRAFTING_DAY, ROOT

EXAMPLE = ROOT / "docs" / "examples" / "zhang-organisation.csv"
HEADER = "key,name,email,locale,department,manager,head_of\n"
ADMIN = Acting("ada", "cli")


def run(engine: Engine, data: bytes, **options: object) -> Intake:
    with session_scope(engine) as session:
        return import_people(session, data, source="hr.csv", now=DRAFTING_DAY, by=ADMIN, **options)  # type: ignore[arg-type]


def records(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(ORG_AUDIT.c.kind, ORG_AUDIT.c.subject, ORG_AUDIT.c.actor).order_by("seq")
        )
        return [tuple(row) for row in rows]


def test_zhangs_organisation_is_imported_once_and_plans_refer_to_it(
    engine: Engine, zhang_doc: object
) -> None:
    first = run(engine, EXAMPLE.read_bytes())
    assert first.written and first.rows == 6
    assert first.count("new_person") == 6 and first.count("new_department") == 3
    with session_scope(engine) as session:
        people = load_directory(session).people
        stored = {key: (p.department, p.manager, p.locale) for key, p in people.items()}
        heads = {d.name: d.head for d in load_directory(session).departments.values()}
    assert stored["zhang"] == ("Sales East", "li", "zh-CN")
    assert stored["li"] == ("Sales East", "sun", "en")
    assert heads == {"Sales East": "sun", "HR": None, "Technical Support": None}
    kinds = [kind for kind, _, _ in records(engine)]
    assert kinds.count("person.created") == 6 and kinds.count("department.created") == 3
    assert ("person.changed", "sun", "ada") in records(engine)  # head of Sales East

    again = run(engine, EXAMPLE.read_bytes())
    assert again.changes == () and not again.written
    assert len(records(engine)) == len(kinds)  # nothing recorded either
    with session_scope(engine) as session:
        assert orgaudit.verify(session).ok
        # The plan document says the same about Zhang's people: it refers to them.
        create_plan(session=session, document=zhang_doc, actor="wang", now=DRAFTING_DAY)  # type: ignore[arg-type]


def test_a_dry_run_lists_exactly_what_would_change_and_writes_nothing(engine: Engine) -> None:
    run(engine, EXAMPLE.read_bytes())
    before = records(engine)
    moved = (
        EXAMPLE.read_text(encoding="utf-8")
        .replace(
            "zhang.san@example.com,zh-CN,Sales East,li,",
            "zhang.san@example.com,en,Sales East,chen,",
        )
        .replace("Sales East,,Sales East", "Sales East,,")
        .replace(
            "chen.jing@example.com,zh-CN,Sales East,sun,",
            "chen.jing@example.com,zh-CN,Sales East,sun,Sales East",
        )
    )
    moved += "audrey,Audrey Lin,audrey@example.com,,Internal Audit,,\n"
    dry = run(engine, moved.encode(), dry_run=True)
    assert [str(change) for change in dry.changes] == [
        "row 4: changed locale of zhang: zh-CN → en",
        "row 4: changed manager of zhang: li → chen",
        "row 5: changed head of Sales East: sun → chen",
        "row 8: new department Internal Audit",
        "row 8: new person audrey (Audrey Lin, audrey@example.com, en, Internal Audit)",
    ]
    assert not dry.written and records(engine) == before

    done = run(engine, moved.encode(), expect=dry.digest)
    assert done.written and done.digest == dry.digest
    with session_scope(engine) as session:
        directory = load_directory(session)
        assert directory.people["zhang"].manager == "chen"
        assert directory.departments["Sales East"].head == "chen"
    with engine.connect() as conn:
        chain = conn.execute(select(ORG_AUDIT.c.subject, ORG_AUDIT.c.detail).order_by("seq")).all()
    assert ("zhang", "locale zh-CN → en, manager li → chen (import hr.csv, row 4)") in chain
    assert ("chen", "head of Sales East (was sun) (import hr.csv, row 5)") in chain


def test_a_preview_that_no_longer_holds_writes_nothing(engine: Engine) -> None:
    data = EXAMPLE.read_bytes()
    preview = run(engine, data, dry_run=True)
    run(engine, (HEADER + "li,Li Wei,li@example.com,en,,,\n").encode())
    stale = run(engine, data, expect=preview.digest)
    assert not stale.written and stale.digest != preview.digest
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(PERSON)).scalar() == 1


def test_columns_left_out_and_people_not_listed_keep_what_is_stored(engine: Engine) -> None:
    run(engine, EXAMPLE.read_bytes())
    renamed = run(engine, "key,name,email\nli,Li Wei 李伟,li.wei@example.com\n".encode())
    assert [str(c) for c in renamed.changes] == ["row 2: changed name of li: Li Wei → Li Wei 李伟"]
    with session_scope(engine) as session:
        directory = load_directory(session)
    assert directory.people["li"].manager == "sun" and directory.people["li"].locale == "en"
    assert directory.people["zhang"].manager == "li"  # not in the file: as it was
    assert directory.departments["Sales East"].head == "sun"


def test_a_head_the_file_no_longer_names_leaves_the_department_without_one(
    engine: Engine,
) -> None:
    run(engine, EXAMPLE.read_bytes())
    gone = run(engine, EXAMPLE.read_text(encoding="utf-8").replace(",Sales East\n", ",\n").encode())
    assert [str(c) for c in gone.changes] == ["row 2: changed head of Sales East: sun → none"]
    with session_scope(engine) as session:
        assert load_directory(session).departments["Sales East"].head is None


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """Refusals are decided before anything is written: one database is enough."""
    engine = make_engine(f"sqlite:///{tmp_path / 'refusals.db'}")
    create_schema(engine)
    yield engine
    engine.dispose()


ZHANG = "zhang,张三 Zhang San,zhang.san@example.com,zh-CN,Sales East,li,\n"
LI = "li,Li Wei,li.wei@example.com,en,Sales East,,\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (HEADER + ZHANG, (2, "manager", "no person with key 'li', in the file or in perfplan")),
        (HEADER + LI + LI, (3, "key", "'li' is on row 2 already")),
        (
            HEADER + LI + "system,Mallory,m@example.com,en,,,\n",
            (3, "key", "'system' is reserved for perfplan's own automation, not a person's key"),
        ),
        (
            HEADER + LI.replace(",en,", ",fr,"),
            (2, "locale", "'fr' is not a locale perfplan speaks (en, zh-CN)"),
        ),
        (
            HEADER + ZHANG + LI.replace(",,\n", ",zhang,\n"),
            (
                2,
                "manager",
                "managers in a circle: zhang → li → zhang (each is managed by the next)",
            ),
        ),
        (HEADER + LI.replace(",,\n", ",li,\n"), (2, "manager", "no one manages themselves")),
        (
            HEADER + LI.replace("li.wei@", "li.wei at "),
            (2, "email", "'li.wei at example.com' is not an email address"),
        ),
        (
            HEADER + LI.replace("Li Wei", "L" * 201),
            (2, "name", "201 characters, more than the 200 allowed"),
        ),
        (HEADER + LI.replace("Li Wei", ""), (2, "name", "is required")),
        (
            HEADER + LI.replace("Li Wei", "Li\x00Wei"),
            (2, "name", "a NUL character cannot be stored"),
        ),
        (
            HEADER
            + LI.replace(",,\n", ",,x\n")
            + ZHANG.replace(",\n", ",x\n").replace(",li,", ",,"),
            (3, "head_of", "x is headed by li on row 2 already"),
        ),
        (
            HEADER + "li,Li Wei,li.wei@example.com\n",
            (2, "", "3 cells, but the header has 7 columns"),
        ),
        ("key,name\nli,Li Wei\n", (1, "email", "this column is missing from the header")),
        (
            "key,name,email,mananger\n",
            (
                1,
                "mananger",
                "unknown column; the columns are key, name, email, locale, department, "
                "manager, head_of",
            ),
        ),
        (
            "key;name;email\n",
            (
                1,
                "",
                "the header is one column 'key;name;email': "
                "save it as “CSV UTF-8 (comma delimited)”",
            ),
        ),
        (
            "",
            (
                1,
                "",
                "the header row is missing: key, name, email, locale, department, manager, head_of",
            ),
        ),
        (
            HEADER + 'li,"Li Wei,li.wei@example.com,en,,,\n',
            (2, "", "not CSV from this row on: unexpected end of data"),
        ),
    ],
    ids=[
        "unknown-manager",
        "duplicate-key",
        "reserved-key",
        "bad-locale",
        "circle",
        "self",
        "bad-email",
        "long-name",
        "empty-name",
        "nul",
        "headed-twice",
        "short-row",
        "missing-column",
        "unknown-column",
        "semicolons",
        "empty-file",
        "open-quote",
    ],
)
def test_a_bad_row_refuses_the_whole_file_by_row_and_column(
    sqlite_engine: Engine, data: str, expected: tuple[int, str, str]
) -> None:
    good = HEADER + "chen,陈静 Chen Jing,chen.jing@example.com,zh-CN,Sales East,,\n"
    with pytest.raises(ImportInvalid) as refused:
        run(
            sqlite_engine,
            (data + good.removeprefix(HEADER) if data.startswith(HEADER) else data).encode(),
        )
    assert CellProblem(*expected) in refused.value.problems, refused.value.problems
    assert "nothing imported" in str(refused.value)
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(PERSON)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(DEPARTMENT)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(ORG_AUDIT)).scalar() == 0


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (
            (HEADER + LI).encode("gbk") + "zhang,张三,z@example.com,,,,\n".encode("gbk"),
            "line 3: byte 0xD5 is not UTF-8 text",
        ),
        ("\ufeff".encode("utf-16-le") + (HEADER + LI).encode("utf-16-le"), "the file is UTF-16"),
    ],
    ids=["gbk", "utf-16"],
)
def test_a_file_not_in_utf8_is_refused_where_it_shows(
    sqlite_engine: Engine, data: bytes, said: str
) -> None:
    with pytest.raises(ImportInvalid, match=said):
        run(sqlite_engine, data)


def test_excels_byte_order_mark_and_blank_rows_are_read(sqlite_engine: Engine) -> None:
    data = b"\xef\xbb\xbf" + EXAMPLE.read_bytes().replace(b"\n", b"\r\n") + b",,,,,,\r\n\r\n"
    assert run(sqlite_engine, data).count("new_person") == 6


def test_every_problem_is_kept_and_the_first_hundred_told(sqlite_engine: Engine) -> None:
    rows = "".join(f"p{n},P {n},not-an-address,en,,,\n" for n in range(150))
    with pytest.raises(ImportInvalid) as refused:
        run(sqlite_engine, (HEADER + rows).encode())
    assert len(refused.value.problems) == 150
    assert str(refused.value).startswith("hr.csv: 150 problem(s), nothing imported")
    assert str(refused.value).endswith("... and 50 more")
