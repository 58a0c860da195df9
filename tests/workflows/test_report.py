"""The evaluation report: Zhang's plan played through its whole life with the
services, then read (`states.report`) and rendered (`workflows.report`) in both
languages and formats, written to files, and produced on demand by the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, text

from models.clock import FrozenClock
from models.db import session_scope
from states.engine import firing as rules
from states.engine import signing
from states.errors import PlanNotFound
from states.plans import activities as records
from tests.conftest import Cli, cli_runner, unprotect_audit
from views.report import EvaluationReport, GoalInfo, MilestoneInfo, evaluation_report
from workflows.report import (
    FORMATS,
    LOCALES,
    TEMPLATES,
    ReportFormat,
    markdown_escape,
    render_report,
    write_reports,
)

FEEDBACK = 'From 60 % to 95 % of the contract target. <script>alert("pwned")</script>'
LESSONS = "Keep the needs-analysis template | run the *industry* training for new hires."
REASON = "customer data from the technical department arrived a week late"


class Life:
    """Zhang's plan (docs/domain.md) lived step by step through the services, at set instants."""

    def __init__(self, db: Engine, clock: FrozenClock, plan_id: int) -> None:
        self.db, self.clock, self.plan_id = db, clock, plan_id

    def at(self, when: str) -> Life:
        self.clock.set(datetime.fromisoformat(when).replace(tzinfo=UTC))
        return self

    def do(self, service: Callable[..., Any], who: str, **kwargs: Any) -> None:
        with session_scope(self.db) as session:
            service(session=session, plan_id=self.plan_id, actor=who, now=self.clock(), **kwargs)

    def done(self, when: str, *milestones: str) -> None:
        self.at(when)
        for key in milestones:
            self.do(records.complete_milestone, "li", milestone=key)

    def agree_and_start(self) -> None:
        self.at("2026-08-26T10:30").do(signing.sign, "zhang", comment="同意计划，会按时提交报告")
        self.at("2026-08-26T15:00").do(signing.sign, "li")
        self.at("2026-08-27T11:00").do(signing.sign, "wang")
        self.at("2026-09-01T09:00").do(rules.fire, "li", event="start", comment="Kick-off 1:1 held")

    def track(self) -> None:
        self.at("2026-09-04T18:00").do(
            records.report_progress, "zhang", summary="培训已报名；与技术支持约定了对接人"
        )
        self.at("2026-09-07T10:00").do(
            records.record_coaching, "li", notes="Prepare the needs-analysis template"
        )
        self.done("2026-09-15T17:00", "training_attended")
        self.at("2026-09-30T16:00").do(records.measure, "li", goal="training", value=86)
        self.done("2026-09-30T16:00", "training_passed")
        self.at("2026-10-09T18:00").do(
            records.report_progress,
            "zhang",
            summary="2 reports done this week, 1 approved",
            blockers="the rest waits on data from the technical department",
        )

    def adjust_and_reconfirm(self) -> None:
        self.at("2026-10-12T10:00").do(
            records.adjust,
            "li",
            kind="milestone",
            key="report_1",
            changes={"due": "2026-10-16"},
            reason=REASON,
        )
        self.at("2026-10-12T14:00").do(signing.sign, "zhang")
        self.do(signing.sign, "li")
        self.done("2026-10-16T17:00", "report_1")
        self.done("2026-10-22T17:00", "report_2")  # due 10-20: two days late
        self.done("2026-10-30T17:00", "report_3", "response_36h")
        self.done("2026-10-31T12:00", "contracts_oct")

    def measure_results(self) -> None:
        self.at("2026-11-30T16:00")
        for goal, value, source in (
            ("contracts", 95, "CRM quarterly report"),
            ("reports", 100, "manager's approval log"),
            ("response_time", 24, "OA ticket records"),
        ):
            self.do(records.measure, "li", goal=goal, value=value, source=source)
        self.done("2026-11-30T16:00", "response_24h")  # contracts_nov is left open

    def evaluate(self) -> None:
        self.done("2026-11-30T16:30", "contracts_nov")
        self.at("2026-12-01T10:00").do(
            rules.fire,
            "li",
            event="evaluate",
            inputs={"outcome": "successful", "feedback": FEEDBACK, "lessons": LESSONS},
        )

    def until_measured(self) -> None:
        self.agree_and_start()
        self.track()
        self.adjust_and_reconfirm()
        self.measure_results()


@pytest.fixture
def life(engine: Engine, clock: FrozenClock, zhang_plan: int) -> Life:
    return Life(engine, clock, zhang_plan)


@pytest.fixture
def evaluated(life: Life) -> int:
    life.until_measured()
    life.evaluate()
    return life.plan_id


def read(db: Engine, plan_id: int, now: datetime | None = None) -> EvaluationReport:
    with session_scope(db) as session:
        return evaluation_report(session, plan_id=plan_id, now=now)


@pytest.fixture
def report(engine: Engine, evaluated: int) -> EvaluationReport:
    return read(engine, evaluated)


def goal(report: EvaluationReport, key: str) -> GoalInfo:
    return next(g for g in report.goals if g.key == key)


def milestone(report: EvaluationReport, key: str) -> MilestoneInfo:
    return next(m for m in report.milestones if m.key == key)


# --- the figures ---------------------------------------------------------------------------------


def test_contracts_went_from_60_to_95_percent_of_a_target_of_100_and_is_not_met(
    report: EvaluationReport,
) -> None:
    contracts = goal(report, "contracts")
    assert (contracts.baseline, contracts.target, contracts.direction) == (60, 100, "raise")
    assert contracts.result is not None
    assert contracts.result.actual == 95
    assert contracts.result.attainment == pytest.approx(0.875)
    assert contracts.result.met is False
    assert contracts.result.final is True
    assert contracts.result.measured_on == date(2026, 11, 30)
    assert contracts.result.source == "CRM quarterly report"


def test_every_analysis_report_approved_meets_its_goal(report: EvaluationReport) -> None:
    reports = goal(report, "reports")
    assert reports.result is not None
    assert (reports.baseline, reports.target, reports.result.actual) == (50, 90, 100)
    assert reports.result.met is True
    assert reports.result.attainment == pytest.approx(1.25)


def test_response_time_48h_to_24h_is_a_lowering_target_and_met(report: EvaluationReport) -> None:
    response = goal(report, "response_time")
    assert response.direction == "lower"
    assert response.result is not None
    assert (response.baseline, response.target, response.result.actual) == (48, 24, 24)
    assert response.result.met is True
    assert response.result.attainment == pytest.approx(1.0)


def test_three_of_four_goals_are_met(report: EvaluationReport) -> None:
    assert report.goals_met == 3
    assert report.results_final
    training = goal(report, "training")
    assert training.result is not None and training.result.met
    assert training.result.attainment == pytest.approx(86 / 80)


def test_rendered_figures_in_english(report: EvaluationReport) -> None:
    for fmt in FORMATS:
        page = render_report(report, locale="en", fmt=fmt)
        assert "60 → 95 % ↑" in page
        assert "≥ 100 %" in page
        assert "87.5 %" in page
        assert "48 h → 24 h ↓" in page
        assert "≤ 24 h" in page
        assert "50 → 100 % ↑" in page
        assert "125 %" in page
        assert "3 of 4" in page


def test_rendered_figures_in_chinese(report: EvaluationReport) -> None:
    for fmt in FORMATS:
        page = render_report(report, locale="zh-CN", fmt=fmt)
        assert "60 → 95% ↑" in page
        assert "87.5%" in page
        assert "48 小时 → 24 小时 ↓" in page
        assert "≤ 24 小时" in page
        assert "4 项中 3 项" in page
        assert "未达成" in page and "已达成" in page
        assert "改进成功，计划结束" in page


# --- milestones and adjustments ------------------------------------------------------------------


def test_the_moved_milestone_keeps_its_first_due_date_and_reason(report: EvaluationReport) -> None:
    report_1 = milestone(report, "report_1")
    assert report_1.moved
    assert (report_1.original_due, report_1.due) == (date(2026, 10, 9), date(2026, 10, 16))
    # Missed on 9 October, moved on the 12th, met on the 16th: met only after its date
    # moved, 7 days after the date first agreed, so not on time.
    assert (report_1.status, report_1.days_late) == ("moved_late", 7)
    (adjustment,) = report_1.adjustments
    assert adjustment.before == {"due": "2026-10-09"} and adjustment.after == {"due": "2026-10-16"}
    assert adjustment.reason == REASON
    assert adjustment.proposed_by == "li"
    assert adjustment.status == "confirmed"
    assert adjustment.confirmed_by == ("zhang", "li")
    assert adjustment.confirmed_at == datetime(2026, 10, 12, 14, 0, tzinfo=UTC)
    assert not milestone(report, "report_2").moved


def test_milestones_on_time_and_late(report: EvaluationReport) -> None:
    report_2 = milestone(report, "report_2")
    assert (report_2.status, report_2.days_late) == ("late", 2)
    assert milestone(report, "training_passed").status == "on_time"
    # report_2 was late and report_1 met only after its date moved.
    assert report.milestones_on_time == len(report.milestones) - 2


def test_rendered_milestones_show_the_move_its_reason_and_lateness(
    report: EvaluationReport,
) -> None:
    english = render_report(report, locale="en", fmt="md")
    assert "moved from 9 Oct 2026 to 16 Oct 2026" in english
    assert REASON in english
    assert "2 days late" in english
    assert "met only after its date moved, 7 days after the date first agreed" in english
    assert "due date: 9 Oct 2026 → 16 Oct 2026" in english
    chinese = render_report(report, locale="zh-CN", fmt="html")
    assert "截止日期由2026年10月9日调整为2026年10月16日" in chinese
    assert "逾期 2 天完成" in chinese
    assert "已重新确认" in chinese


# --- people, signatures, tracking, timeline -------------------------------------------------------


def test_people_signatures_and_tracking(report: EvaluationReport) -> None:
    roles = {(p.role, p.key) for p in report.people}
    assert {("employee", "zhang"), ("manager", "li"), ("hr", "wang")} <= roles
    assert ("department_head", "sun") in roles  # derived from Zhang's department
    signed = [(s.person, s.role, s.event) for s in report.signatures]
    assert signed == [
        ("zhang", "employee", "agree"),
        ("li", "manager", "agree"),
        ("wang", "hr", "agree"),
        ("zhang", "employee", "reconfirm"),
        ("li", "manager", "reconfirm"),
    ]
    assert report.signatures[0].comment == "同意计划，会按时提交报告"
    assert len(report.progress_reports) == 2 and len(report.coaching_sessions) == 1
    assert report.coaching_minutes == 15
    attend = next(a for a in report.actions if a.key == "support_sla")
    assert (attend.executor, attend.supporter, attend.collaborators) == ("zhang", "li", ("zhao",))
    assert [r.status for r in attend.resources] == ["requested"]


def test_timeline_holds_every_transition_in_order_and_the_chain_verifies(
    report: EvaluationReport,
) -> None:
    events = [(t.event, t.from_state, t.to_state) for t in report.transitions]
    assert events == [
        ("create", "", "drafted"),
        ("agree", "drafted", "agreed"),
        ("start", "agreed", "in_progress"),
        ("adjust", "in_progress", "adjusted"),
        ("reconfirm", "adjusted", "in_progress"),
        ("evaluate", "in_progress", "evaluated"),
    ]
    assert [t.seq for t in report.timeline] == list(range(1, len(report.timeline) + 1))
    assert report.audit.verified and report.audit.records == len(report.timeline)
    assert report.evaluation is not None
    assert report.evaluation.outcome == "successful"
    assert report.evaluation.evaluated_by == "li"
    page = render_report(report, locale="en", fmt="md")
    timeline = page[page.index("## Timeline") : page.index("## Audit trail")]
    labels = ["Plan opened", "Sign off", "Start", "Adjust milestones", "Re-confirm", "Evaluate"]
    assert [timeline.index(f"| {label}") for label in labels] == sorted(
        timeline.index(f"| {label}") for label in labels
    )


def test_a_tampered_audit_trail_is_reported_as_broken(engine: Engine, evaluated: int) -> None:
    unprotect_audit(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE audit_record SET comment = 'nothing to see' WHERE plan_id = :p AND seq = 6"
            ),
            {"p": evaluated},
        )
    tampered = read(engine, evaluated)
    assert not tampered.audit.verified
    assert "seq 6" in tampered.audit.breaks[0]
    assert "BROKEN" in render_report(tampered, locale="en", fmt="html")
    assert "校验失败" in render_report(tampered, locale="zh-CN", fmt="md")


# --- before the evaluation ------------------------------------------------------------------------


def test_results_before_the_evaluation_are_provisional(engine: Engine, life: Life) -> None:
    life.until_measured()
    report = read(engine, life.plan_id, now=datetime(2026, 12, 5, 9, 0, tzinfo=UTC))
    assert report.evaluation is None and not report.results_final
    contracts = goal(report, "contracts")
    assert contracts.result is not None and not contracts.result.final
    assert contracts.result.attainment == pytest.approx(0.875) and not contracts.result.met
    response = goal(report, "response_time")
    assert response.result is not None and response.result.met
    open_one = milestone(report, "contracts_nov")
    assert (open_one.status, open_one.days_late) == ("overdue", 5)
    page = render_report(report, locale="en", fmt="html")
    assert "results below are provisional" in page
    assert "5 days overdue" in page
    assert "暂定" in render_report(report, locale="zh-CN", fmt="md")


def test_a_goal_never_measured_has_no_result(engine: Engine, life: Life) -> None:
    life.agree_and_start()
    report = read(engine, life.plan_id, now=datetime(2026, 9, 2, tzinfo=UTC))
    assert all(g.result is None for g in report.goals)
    assert report.goals_met == 0
    for locale in LOCALES:
        for fmt in FORMATS:
            render_report(report, locale=locale, fmt=fmt)
    assert "Not measured" in render_report(report, locale="en", fmt="md")


def test_an_unknown_plan_is_not_found(engine: Engine) -> None:
    with pytest.raises(PlanNotFound, match="no plan with id 404"):
        read(engine, 404)


# --- rendering ----------------------------------------------------------------------------------


def _keys(tree: dict[str, Any], prefix: str = "") -> set[str]:
    keys = set()
    for key, value in tree.items():
        keys.add(prefix + key)
        if isinstance(value, dict) and set(value) != {"one", "other"}:  # plural forms: one
            keys |= _keys(value, f"{prefix}{key}.")
    return keys


def test_both_catalogues_say_the_same_things() -> None:
    english, chinese = (
        yaml.safe_load((TEMPLATES / f"messages.{locale}.yaml").read_text(encoding="utf-8"))
        for locale in LOCALES
    )
    assert _keys(english) == _keys(chinese)
    assert len(english["months"]) == len(chinese["months"]) == 12


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_locale_and_format_renders_whole(
    report: EvaluationReport, locale: str, fmt: str
) -> None:
    page = render_report(report, locale=locale, fmt=fmt)
    # StrictUndefined would have raised on a missing variable; no value slipped through raw.
    for leftover in ("None", "{n}", "{when}", "Undefined", "datetime.", "<built-in"):
        assert leftover not in page
    assert report.plan.title in page.replace("\\", "")
    assert report.plan.audit_head in page


def test_html_escapes_what_people_typed(report: EvaluationReport) -> None:
    page = render_report(report, locale="en", fmt="html")
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in page
    assert page.startswith("<!DOCTYPE html>")
    assert "@page { size: A4" in page


def test_markdown_escapes_what_people_typed(report: EvaluationReport) -> None:
    page = render_report(report, locale="en", fmt="md")
    assert "<script>" not in page
    assert "\\<script\\>" in page
    assert "template \\| run the \\*industry\\* training" in page


def test_markdown_escape_keeps_tables_whole() -> None:
    assert markdown_escape("a | b\nc") == "a \\| b<br>c"
    assert markdown_escape("[link](x) `code` # heading") == "\\[link\\](x) \\`code\\` \\# heading"
    assert markdown_escape(3) == 3


@dataclass
class _Report:
    """Only what ReportFormat reads for plain figures."""

    labels: Any = None
    names: Any = None
    calendar = ""
    goals = actions = milestones = ()


@pytest.mark.parametrize(
    ("locale", "value", "unit", "expected"),
    [
        ("en", 95.0, "%", "95 %"),
        ("zh-CN", 95.0, "%", "95%"),
        ("en", 24.0, "h", "24 h"),
        ("zh-CN", 24.0, "h", "24 小时"),
        ("zh-CN", 86.0, "points", "86 分"),
        ("en", 1234.5, "CNY", "1,234.5 CNY"),
        ("en", None, "%", "—"),
    ],
)
def test_quantities_read_naturally(
    locale: str, value: float | None, unit: str, expected: str
) -> None:
    words = ReportFormat(_Report(), locale)  # type: ignore[arg-type]
    assert words.qty(value, unit) == expected


def test_dates_cadences_and_schedules_per_locale() -> None:
    english = ReportFormat(_Report(), "en")  # type: ignore[arg-type]
    chinese = ReportFormat(_Report(), "zh-CN")  # type: ignore[arg-type]
    assert english.day(date(2026, 10, 9)) == "9 Oct 2026"
    assert chinese.day(date(2026, 10, 9)) == "2026年10月9日"
    assert english.cadence("P1W") == "weekly" and chinese.cadence("P2W") == "每 2 周一次"
    assert english.recurrence("FREQ=WEEKLY;BYDAY=WE") == "every Wednesday"
    assert chinese.recurrence("FREQ=WEEKLY;BYDAY=MO,FR") == "每周一、周五"
    assert (
        english.recurrence("FREQ=WEEKLY;INTERVAL=2;BYDAY=WE") == "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE"
    )
    assert english.pct(0.875) == "87.5 %"
    shanghai = ReportFormat(_Report(), "en", "Asia/Shanghai")  # type: ignore[arg-type]
    assert shanghai.when(datetime(2026, 12, 1, 10, 0, tzinfo=UTC)) == "1 Dec 2026, 18:00"


# --- files and the command line -------------------------------------------------------------------


def test_reports_are_written_in_both_locales_and_formats(
    report: EvaluationReport, tmp_path: Path
) -> None:
    target = tmp_path / "reports" / "nested"
    paths = write_reports(report, directory=target)
    plan = report.plan.id
    assert [p.name for p in paths] == [
        f"plan-{plan}-evaluation.en.html",
        f"plan-{plan}-evaluation.en.md",
        f"plan-{plan}-evaluation.zh-CN.html",
        f"plan-{plan}-evaluation.zh-CN.md",
    ]
    assert sorted(p.name for p in target.iterdir()) == sorted(p.name for p in paths)
    assert paths[0].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert paths[3].read_text(encoding="utf-8").startswith("# 绩效改进计划评估报告")
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert paths[0].stat().st_mode & 0o777 == plain.stat().st_mode & 0o777  # not private 0600
    again = write_reports(report, directory=target)  # writing twice changes nothing
    assert again == paths and len(list(target.iterdir())) == 4


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db_url: str) -> Cli:
    monkeypatch.setenv("PERFPLAN_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "300")

    return cli_runner(capsys)


def test_cli_writes_the_report_and_prints_where(cli: Cli, evaluated: int, tmp_path: Path) -> None:
    result = cli(
        "report", str(evaluated), "--locale", "zh-CN", "--format", "md", "--out", str(tmp_path)
    )
    assert result.code == 0, result.err
    written = tmp_path / f"plan-{evaluated}-evaluation.zh-CN.md"
    assert result.out.split() == [str(written)]
    assert "48 小时 → 24 小时 ↓" in written.read_text(encoding="utf-8")


def test_cli_writes_every_locale_and_format_to_the_configured_directory(
    cli: Cli, evaluated: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERFPLAN_REPORTS_DIR", str(tmp_path / "configured"))
    result = cli("report", str(evaluated))
    assert result.code == 0, result.err
    assert len(result.out.split()) == 4
    assert all(Path(p).parent == tmp_path / "configured" for p in result.out.split())
    assert all(Path(p).exists() for p in result.out.split())


def test_cli_prints_the_data_as_json(cli: Cli, evaluated: int) -> None:
    result = cli("report", str(evaluated), "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    contracts = next(g for g in data["goals"] if g["key"] == "contracts")
    assert contracts["result"]["attainment"] == pytest.approx(0.875)
    assert data["summary"]["goals_met"] == 3 and data["audit"]["verified"] is True
    assert data["evaluation"]["feedback"] == FEEDBACK


def test_cli_unknown_plan_exits_3_with_a_sentence(cli: Cli, engine: Engine) -> None:
    result = cli("report", "999")
    assert result.code == 3
    assert "no plan with id 999" in result.err


def test_produce_report_writes_every_file_and_returns_the_english_markdown(
    engine: Engine, evaluated: int, tmp_path: Path
) -> None:
    from workflows.report import produce_report

    with session_scope(engine) as session:
        produced = produce_report(
            session, plan_id=evaluated, now=datetime(2026, 12, 1, tzinfo=UTC), directory=tmp_path
        )
    assert len(produced.paths) == 4 and all(p.parent == tmp_path for p in produced.paths)
    assert produced.markdown.startswith("# Performance improvement plan — evaluation report")
    assert produced.markdown == produced.paths[1].read_text(encoding="utf-8")


def test_rendering_does_not_import_prefect() -> None:
    import subprocess
    import sys

    code = "import sys, workflows.report; print('prefect' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=TEMPLATES.parents[2],
    )
    assert result.stdout.strip() == "False"


def test_cli_judges_a_provisional_report_as_of_now(cli: Cli, zhang_plan: int) -> None:
    def milestones(now: str) -> dict[str, tuple[str, int]]:
        result = cli("report", str(zhang_plan), "--json", "--now", now)
        assert result.code == 0, result.err
        data = json.loads(result.out)
        assert data["as_of"].startswith(now)
        return {m["key"]: (m["status"], m["days_late"]) for m in data["milestones"]}

    # Not evaluated: the training (due 15 September) is open on the 10th, late on the 20th.
    assert milestones("2026-09-10")["training_attended"] == ("open", 0)
    assert milestones("2026-09-20")["training_attended"] == ("overdue", 5)


# --- what a reader reads (issue 17) -------------------------------------------------------------


def _rendered(report: EvaluationReport) -> dict[tuple[str, str], str]:
    return {
        (loc, fmt): render_report(report, locale=loc, fmt=fmt) for loc in LOCALES for fmt in FORMATS
    }


def test_the_report_says_what_was_held_against_the_cadence_in_words(
    report: EvaluationReport,
) -> None:
    # Two progress reports and one coaching talk against a weekly cadence over 13 weeks.
    assert (report.reporting.held, report.reporting.expected, report.reporting.weeks) == (2, 13, 13)
    assert (report.coaching.held, report.coaching.expected) == (1, 13)
    shown = _rendered(report)
    for (locale, _fmt), page in shown.items():
        assert "(s)" not in page, locale
    english = shown[("en", "md")]
    assert "2 progress reports of 13 expected (weekly over 13 weeks)" in english
    assert "1 coaching talk of 13 expected (weekly over 13 weeks), 15 minutes in all" in english
    chinese = shown[("zh-CN", "html")]
    assert "2 次进度汇报（按每周一次的频率，13 周内应有 13 次）" in chinese
    assert "1 次辅导面谈（按每周一次的频率，13 周内应有 13 次），共 15 分钟" in chinese


def test_the_report_shows_inputs_titles_and_local_times_not_json_keys_or_utc(
    report: EvaluationReport,
) -> None:
    shown = _rendered(report)
    for (locale, fmt), page in shown.items():
        assert "inputs:" not in page and '{"feedback"' not in page, (locale, fmt)
        for key in ("report_1", "training_attended", "contracts_oct"):
            assert key not in page, (locale, fmt, key)
    english = shown[("en", "md")]
    # Evaluated at 10:00 UTC: 18:00 in the plan's own zone (its calendar is China's).
    assert "| 1 Dec 2026, 18:00 | Evaluate |" in english
    assert "Times are in Asia/Shanghai (UTC+08:00)." in english
    assert "Outcome: Successful — the plan is closed; Feedback: From 60 %" in english
    assert "| Milestone “First analysis report approved” |" in english
    assert "“Attend the training (10–15 Sep)” done." in english
    assert "评估结论：改进成功，计划结束；反馈意见：" in shown[("zh-CN", "md")]
    assert "Department head (through the organisation)" in english
    utc = render_report(report, locale="en", fmt="md", timezone="UTC")
    assert "| 1 Dec 2026, 10:00 | Evaluate |" in utc and "Times are in UTC (UTC+00:00)." in utc


def test_a_milestone_met_only_after_its_date_moved_is_not_on_time(
    report: EvaluationReport,
) -> None:
    assert report.milestones_on_time == 7 and len(report.milestones) == 9
    shown = _rendered(report)
    assert "**Milestones on time:** 7 of 9" in shown[("en", "md")]
    assert "调整日期后才完成，比原定日期晚 7 天" in shown[("zh-CN", "html")]
