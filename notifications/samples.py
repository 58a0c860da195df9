"""Template contexts for previews and tests: built from a plan's details (the
plain data `views.lists.plan_detail` returns, handed in by the front door)
or from Zhang's plan (docs/domain.md) when no plan is given; and the roles each
kind is previewed for (`PREVIEW_ROLES`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from notifications.kinds import check_kind

# Zhang's plan (docs/examples/zhang.yaml), in the shape of `plan_detail`.
ZHANG: dict[str, Any] = {
    "plan": {
        "id": 1,
        "title": "Zhang San — new-customer contracts, Q4 improvement plan",
        "period_start": date(2026, 9, 1),
        "period_end": date(2026, 11, 30),
        "report_every": "P1W",
        "coaching_every": "P1W",
        "created_at": datetime(2026, 8, 25, 9, 0, tzinfo=UTC),
    },
    "people": [
        {"role": "employee", "key": "zhang", "name": "张三 Zhang San", "locale": "zh-CN"},
        {"role": "manager", "key": "li", "name": "Li Wei", "locale": "en"},
        {"role": "hr", "key": "wang", "name": "王芳 Wang Fang", "locale": "zh-CN"},
        {"role": "mentor", "key": "chen", "name": "陈静 Chen Jing", "locale": "zh-CN"},
        {"role": "collaborator", "key": "zhao", "name": "赵磊 Zhao Lei", "locale": "zh-CN"},
        {"role": "department_head", "key": "sun", "name": "孙浩 Sun Hao", "locale": "zh-CN"},
    ],
    "goals": [
        {
            "key": "contracts",
            "title": "Bring new-customer contracts back to target",
            "unit": "%",
            "baseline": 60,
            "target": 100,
            "direction": "raise",
            "deadline": date(2026, 11, 30),
            "actual": 95,
            "milestones": [
                {
                    "key": "contracts_oct",
                    "title": "October contracts at ≥ 70 % of the monthly target",
                    "due": date(2026, 10, 31),
                    "criterion": "CRM monthly report",
                    "status": "pending",
                },
            ],
        },
        {
            "key": "training",
            "title": 'Pass the "industry customer analysis" training',
            "unit": "points",
            "baseline": None,
            "target": 80,
            "direction": "raise",
            "deadline": date(2026, 9, 30),
            "actual": 86,
            "milestones": [],
        },
        {
            "key": "reports",
            "title": "Customer-needs analysis reports approved by the manager",
            "unit": "%",
            "baseline": 50,
            "target": 90,
            "direction": "raise",
            "deadline": date(2026, 10, 31),
            "actual": 100,
            "milestones": [
                {
                    "key": "report_1",
                    "title": "First analysis report approved",
                    "due": date(2026, 10, 9),
                    "criterion": "approved by Li",
                    "status": "pending",
                },
            ],
        },
        {
            "key": "response_time",
            "title": "Faster cross-department response",
            "unit": "h",
            "baseline": 48,
            "target": 24,
            "direction": "lower",
            "deadline": date(2026, 11, 30),
            "actual": 24,
            "milestones": [],
        },
    ],
    "signatures": [
        {
            "role": "employee",
            "person": "zhang",
            "signed_at": datetime(2026, 8, 26, 10, 30, tzinfo=UTC),
        },
        {"role": "manager", "person": "li", "signed_at": datetime(2026, 8, 26, 15, 0, tzinfo=UTC)},
        {"role": "hr", "person": "wang", "signed_at": datetime(2026, 8, 27, 11, 0, tzinfo=UTC)},
    ],
    "adjustments": [
        {
            "target_kind": "milestone",
            "target_key": "report_1",
            "before": {"due": "2026-10-09"},
            "after": {"due": "2026-10-16"},
            "reason": "the data from the technical department came late",
            "proposed_by": "li",
            "proposed_at": datetime(2026, 10, 5, 10, 0, tzinfo=UTC),
            "confirmed_at": datetime(2026, 10, 6, 9, 0, tzinfo=UTC),
        },
    ],
    "evaluation": {
        "outcome": "successful",
        "evaluated_at": datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
        "feedback": "Clear progress on every goal; keep the weekly case study.",
    },
}

PLAN_FIELDS = ("id", "title", "period_start", "period_end", "report_every", "coaching_every")
SIGN_OFF = {"en": "Sign off", "zh-CN": "签字确认"}
# Working days overdue when each rung of the standard ladder is reached: the first
# overdue day, then 3 and 7 working days after it.
LADDER_DAYS = {1: 1, 2: 4, 3: 8}


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _business_days_after(day: date, count: int) -> date:
    """Mondays to Fridays only: a sample, not the holiday calendar the flows use."""
    while count > 0:
        day += timedelta(days=1)
        count -= day.weekday() < 5
    return day


class _Plan:
    """Looks things up in one plan's details."""

    def __init__(self, detail: Mapping[str, Any]) -> None:
        self.detail = detail
        self.plan = detail["plan"]
        self.names = {p["key"]: p["name"] for p in detail.get("people", [])}

    def person(self, role: str) -> Mapping[str, Any]:
        for person in self.detail.get("people", []):
            if person["role"] == role:
                return dict(person)
        return {"role": role, "key": "", "name": role.replace("_", " ").title(), "locale": "en"}

    def milestone(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The next open milestone (earliest due) and its goal."""
        pairs = [(m, g) for g in self.detail["goals"] for m in g.get("milestones", [])]
        if not pairs:
            return (
                {"key": "-", "title": "-", "due": self.plan["period_end"], "criterion": ""},
                {"title": "-"},
            )
        open_ = [p for p in pairs if p[0].get("status", "pending") != "done"] or pairs
        milestone, goal = min(open_, key=lambda pair: _day(pair[0]["due"]))
        return dict(milestone), {"title": goal["title"]}

    def milestone_title(self, key: str) -> str:
        for goal in self.detail["goals"]:
            for milestone in goal.get("milestones", []):
                if milestone["key"] == key:
                    return str(milestone["title"])
        return key

    def role_of(self, key: str) -> str:
        """The first part the person `key` holds in the plan ("" for none)."""
        return next((p["role"] for p in self.detail.get("people", []) if p["key"] == key), "")

    def name(self, key_or_id: Any) -> str:
        return str(self.names.get(str(key_or_id), key_or_id))


def sample_context(
    kind: str,
    *,
    role: str = "employee",
    level: int = 1,
    detail: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A complete context for `kind`, addressed to the person holding `role`."""
    check_kind(kind)
    plan = _Plan(detail or ZHANG)
    recipient = plan.person(role)
    context: dict[str, Any] = {
        "plan": {key: plan.plan[key] for key in PLAN_FIELDS},
        "employee": {"name": plan.person("employee")["name"]},
        "manager": {"name": plan.person("manager")["name"]},
        "recipient": {"name": recipient["name"], "role": role},
    }
    context.update(_BUILDERS[kind](plan, level))
    return context


def _signature(plan: _Plan, _level: int) -> dict[str, Any]:
    requested = _day(plan.plan.get("created_at") or plan.plan["period_start"])
    return {
        "signature": {
            "label": SIGN_OFF,
            "purpose": "sign_off",
            "requested_on": requested,
            "respond_by": requested + timedelta(days=2),
            "signed": [
                {"name": plan.name(s["person"]), "role": s["role"]}
                for s in plan.detail.get("signatures", [])[:1]
            ],
        }
    }


def _agreement(plan: _Plan, _level: int) -> dict[str, Any]:
    signatures = plan.detail.get("signatures") or ZHANG["signatures"]
    return {
        "agreement": {
            "agreed_on": _day(signatures[-1]["signed_at"]),
            "signatures": [
                {
                    "name": plan.name(s["person"]),
                    "role": s["role"],
                    "signed_on": _day(s["signed_at"]),
                }
                for s in signatures
            ],
        }
    }


def _started(plan: _Plan, _level: int) -> dict[str, Any]:
    return {
        "started_on": _day(plan.plan["period_start"]),
        "goals": [
            {k: g.get(k) for k in ("title", "baseline", "target", "unit", "deadline", "direction")}
            for g in plan.detail["goals"]
        ],
    }


def _report(plan: _Plan, _level: int) -> dict[str, Any]:
    return {"report": {"due": _day(plan.plan["period_start"]) + timedelta(days=4)}}


def _coaching(plan: _Plan, _level: int) -> dict[str, Any]:
    due = _day(plan.plan["period_start"]) + timedelta(days=6)
    return {"coaching": {"due": due, "minutes": 15, "coach": plan.person("manager")["name"]}}


def _due_soon(plan: _Plan, _level: int) -> dict[str, Any]:
    milestone, goal = plan.milestone()
    return {"milestone": milestone, "goal": goal, "days_left": 3}


def _overdue(plan: _Plan, level: int) -> dict[str, Any]:
    milestone, goal = plan.milestone()
    due = _day(milestone["due"])
    notified = [plan.person("employee")["name"], plan.person("manager")["name"]]
    if level >= 3:
        notified.append(plan.person("department_head")["name"])
    following = {1: ("department_head", LADDER_DAYS[2]), 2: ("hr", LADDER_DAYS[3])}.get(level)
    return {
        "milestone": milestone,
        "goal": goal,
        "level": level,
        "days_overdue": LADDER_DAYS.get(level, LADDER_DAYS[3]),
        "notified": notified if level > 1 else [],
        "next_escalation": {"role": following[0], "on": _business_days_after(due, following[1])}
        if following
        else None,
    }


def _adjustment_entry(plan: _Plan, raw: Mapping[str, Any]) -> dict[str, Any]:
    before, after = raw.get("before") or {}, raw.get("after") or {}
    return {
        "target": plan.milestone_title(str(raw["target_key"])),
        "target_kind": raw.get("target_kind", "milestone"),
        "changes": [
            {"field": field, "before": before.get(field), "after": value}
            for field, value in after.items()
        ],
        "reason": raw.get("reason", ""),
        "proposed_by": plan.name(raw.get("proposed_by") or raw.get("proposed_by_id", "")),
        "proposed_by_role": plan.role_of(raw.get("proposed_by") or ""),
        "proposed_on": _day(raw.get("proposed_at") or plan.plan["period_start"]),
    }


def _adjustments(plan: _Plan) -> list[dict[str, Any]]:
    raw = plan.detail.get("adjustments") or ZHANG["adjustments"]
    detail = plan if plan.detail.get("adjustments") else _Plan(ZHANG)
    return [_adjustment_entry(detail, entry) for entry in raw]


# Who re-confirms an adjustment in the standard definition (its `reconfirmation` chain).
RECONFIRMING = ("employee", "manager")


def _proposed(plan: _Plan, _level: int) -> dict[str, Any]:
    signers = [{"name": plan.person(role)["name"], "role": role} for role in RECONFIRMING]
    return {"adjustment": {**_adjustments(plan)[-1], "signers": signers}}


def _reconfirmed(plan: _Plan, _level: int) -> dict[str, Any]:
    raw = plan.detail.get("adjustments") or ZHANG["adjustments"]
    confirmed = raw[-1].get("confirmed_at") or raw[-1].get("proposed_at")
    return {"adjustments": _adjustments(plan), "confirmed_on": _day(confirmed)}


def _evaluation(plan: _Plan, _level: int) -> dict[str, Any]:
    evaluation = plan.detail.get("evaluation") or ZHANG["evaluation"]
    results = []
    for goal in plan.detail["goals"]:
        actual, target = goal.get("actual"), goal["target"]
        lower = goal.get("direction") == "lower"
        met = actual is not None and (actual <= target if lower else actual >= target)
        results.append(
            {
                "goal": goal["title"],
                "baseline": goal.get("baseline"),
                "target": target,
                "actual": actual,
                "unit": goal.get("unit", ""),
                "met": met,
            }
        )
    return {
        "evaluation": {
            "outcome": evaluation["outcome"],
            "evaluated_on": _day(evaluation.get("evaluated_at") or plan.plan["period_end"]),
            "feedback": evaluation.get("feedback", ""),
            "results": results,
        }
    }


def _evaluation_due(plan: _Plan, _level: int) -> dict[str, Any]:
    return {"evaluation_due": {"period_end": _day(plan.plan["period_end"])}}


def _escalation(plan: _Plan, level: int) -> dict[str, Any]:
    due = _day(plan.plan["period_start"]) + timedelta(days=4)
    told = [plan.person("employee")["name"], plan.person("manager")["name"]]
    following = {"roles": ["hr"], "on": _business_days_after(due, 5)} if level < 2 else None
    return {
        "escalation": {
            "kind": "progress_report_missed",
            "level": min(level, 2),
            "levels": 2,
            "due": due,
            "days_late": 2,
            "waiting_for": [],
            "notified": told if level > 1 else [],
            "next": following,
        }
    }


_BUILDERS = {
    "signature_requested": _signature,
    "plan_agreed": _agreement,
    "plan_started": _started,
    "progress_report_due": _report,
    "coaching_session_due": _coaching,
    "milestone_due_soon": _due_soon,
    "milestone_overdue": _overdue,
    "adjustment_proposed": _proposed,
    "adjustment_reconfirmed": _reconfirmed,
    "evaluation_due": _evaluation_due,
    "evaluation_ready": _evaluation,
    "escalation": _escalation,
}

# Whom previews and template tests address: for each kind, the roles its templates
# are written for, each rendered by the tests in both languages. It chooses readers
# of samples only, never who receives a real message: the caller that records a
# message names its recipients.
PREVIEW_ROLES: dict[str, tuple[str, ...]] = {
    "signature_requested": ("employee", "manager", "hr", "department_head"),
    "plan_agreed": ("employee", "manager", "hr"),
    "plan_started": ("employee", "manager", "hr", "mentor"),
    "progress_report_due": ("employee", "manager"),
    "coaching_session_due": ("employee", "manager"),
    "milestone_due_soon": ("employee", "manager"),
    "milestone_overdue": ("employee", "manager", "department_head", "hr"),
    "adjustment_proposed": ("employee", "manager", "hr"),
    "adjustment_reconfirmed": ("employee", "manager", "hr"),
    "evaluation_due": ("manager", "hr", "employee"),
    "evaluation_ready": ("employee", "manager", "hr"),
    "escalation": ("manager", "department_head", "hr"),
}
