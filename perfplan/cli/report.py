"""`perfplan report PLAN`: render a plan's evaluation report on demand."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from models.limits import MAX_ID
from perfplan.cli.common import NowOption, console, instant, print_json, session


class Locale(StrEnum):
    en = "en"
    zh_CN = "zh-CN"


class Format(StrEnum):
    html = "html"
    md = "md"


OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out",
        file_okay=False,
        help="Directory to write to (default: PERFPLAN_REPORTS_DIR, else the "
        "database's own: reports/ in ./perfplan-out/ for ./perfplan.db, in "
        "NAME-out/ beside another SQLite file NAME.db).",
    ),
]


def report(
    plan_id: Annotated[
        int, typer.Argument(min=1, max=MAX_ID, help="The plan's id (see `perfplan plan list`).")
    ],
    locale: Annotated[
        Locale | None, typer.Option("--locale", help="One language (default: en and zh-CN).")
    ] = None,
    fmt: Annotated[
        Format | None,
        typer.Option("--format", help="One format (default: html, a printable page, and md)."),
    ] = None,
    out: OutOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report's data as JSON; write no files.")
    ] = False,
    now: NowOption = None,
) -> None:
    """Write a plan's evaluation report (goals against targets, milestones, adjustments,
    signatures, timeline) as HTML and Markdown, and print where; provisional until evaluated
    (open milestones are then judged as of --now)."""
    from perfplan.errors import CannotWrite
    from views.report import evaluation_report
    from workflows.report import FORMATS, LOCALES, write_reports
    from workflows.settings import WorkflowSettings

    settings = WorkflowSettings()
    with session() as active:
        data = evaluation_report(active, plan_id=plan_id, now=instant(now))
    if as_json:
        print_json(data.as_dict())
        return
    directory = out or settings.reports_dir
    try:
        paths = write_reports(
            data,
            directory=directory,
            locales=[locale.value] if locale else LOCALES,
            formats=[fmt.value] if fmt else FORMATS,
            timezone=settings.report_timezone,
        )
    except OSError as error:  # a folder the user named that cannot be written
        raise CannotWrite(directory, error) from None
    for path in paths:
        console.print(str(path), soft_wrap=True)
