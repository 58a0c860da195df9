"""Typed handles on the tables, for Core queries (`PLAN.c.state`).

The SQLModel classes define the tables; services that read or write in bulk
use these handles, which type-check cleanly and skip the ORM's unit of work
on hot paths.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table
from sqlmodel import SQLModel

from models.access import ApiToken, Credential, OrgRole, WebSession
from models.audit import AuditRecord
from models.calendars import CalendarFeed
from models.clockwork import ClockworkRun
from models.copies import SignedCopy
from models.definitions import DefinitionVersion
from models.followups import Followup
from models.intake import PendingImport
from models.notifications import Notification, NotificationAttempt
from models.orgaudit import OrgAuditRecord, OrgAuditTip
from models.outbox import OutboxRow
from models.people import Department, Person, PlanRole
from models.plans import (
    Action,
    ActionCollaborator,
    ActionResource,
    Evidence,
    Goal,
    Milestone,
    Plan,
    Problem,
)
from models.records import (
    Adjustment,
    CoachingSession,
    Evaluation,
    GoalResult,
    Measurement,
    ProgressReport,
    Signature,
)
from models.signin import SignInThrottle


def table(model: type[SQLModel]) -> Table:
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


DEPARTMENT = table(Department)
PERSON = table(Person)
PLAN_ROLE = table(PlanRole)
PLAN = table(Plan)
EVIDENCE = table(Evidence)
PROBLEM = table(Problem)
GOAL = table(Goal)
MILESTONE = table(Milestone)
ACTION = table(Action)
ACTION_COLLABORATOR = table(ActionCollaborator)
ACTION_RESOURCE = table(ActionResource)
SIGNATURE = table(Signature)
PROGRESS_REPORT = table(ProgressReport)
COACHING_SESSION = table(CoachingSession)
MEASUREMENT = table(Measurement)
ADJUSTMENT = table(Adjustment)
EVALUATION = table(Evaluation)
GOAL_RESULT = table(GoalResult)
AUDIT = table(AuditRecord)
OUTBOX = table(OutboxRow)
DEFINITION_VERSION = table(DefinitionVersion)
NOTIFICATION = table(Notification)
NOTIFICATION_ATTEMPT = table(NotificationAttempt)
FOLLOWUP = table(Followup)
ORG_ROLE = table(OrgRole)
CREDENTIAL = table(Credential)
API_TOKEN = table(ApiToken)
WEB_SESSION = table(WebSession)
CLOCKWORK_RUN = table(ClockworkRun)
ORG_AUDIT = table(OrgAuditRecord)
ORG_AUDIT_TIP = table(OrgAuditTip)
SIGN_IN_THROTTLE = table(SignInThrottle)
SIGNED_COPY = table(SignedCopy)
PENDING_IMPORT = table(PendingImport)
CALENDAR_FEED = table(CalendarFeed)
