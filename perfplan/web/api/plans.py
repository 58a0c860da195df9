"""Plan routes: open, list, show, report, and one route per plan activity (fire,
sign, record, adjust, confirm, evaluate), each taking its activity's model.

Every route on one plan first asks `access.check_plan` (404 for a plan that is
not the viewer's to see, 403 for a read-only relation), then the service as the
viewer, in one transaction; a change's effects run after it has committed."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from pydantic import BaseModel
from sqlmodel import Session

from people import access
from perfplan import activities
from perfplan.inputs import without_nul
from perfplan.web.api import schemas
from perfplan.web.api.common import (
    MAX_UPLOAD,
    YAML_TYPES,
    Key,
    Limit,
    Offset,
    PlanId,
    Responses,
    name_query,
    uploaded_text,
)
from perfplan.web.deps import ApiViewer, RuntimeDep
from perfplan.web.errors import error_responses
from perfplan.web.runtime import Runtime
from states.engine import firing as engine
from states.engine import signing
from states.errors import (
    InvalidInput,
)
from states.plans.bounds import Day
from states.plans.document import PlanDocument
from states.plans.opening import create_plan, read_document
from views import lists as queries
from views.dashboards import overdue_milestones
from views.detail import plan_detail
from views.report import evaluation_report

router = APIRouter(prefix="/plans", tags=["plans"])

READ = error_responses(401, 404, 422)
CHANGE = error_responses(401, 403, 404, 409, 422)


def _inlined(schema: Any, defs: dict[str, Any]) -> Any:
    """A JSON schema with its local $refs replaced by what they name (for OpenAPI)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _inlined(defs[schema["$ref"].rsplit("/", 1)[1]], defs)
        return {k: _inlined(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inlined(item, defs) for item in schema]
    return schema


def _document_body() -> dict[str, Any]:
    schema = PlanDocument.model_json_schema()
    document = _inlined(schema, schema.get("$defs", {}))
    text = {"type": "string", "maxLength": MAX_UPLOAD}
    content = {"application/json": {"schema": document}, YAML_TYPES[0]: {"schema": text}}
    described = "A plan document (docs/plan-format.md), as JSON or as YAML text"
    return {"requestBody": {"required": True, "description": described, "content": content}}


def _document(request: Request, text: str) -> PlanDocument:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        source = "request.json"
    elif kind in YAML_TYPES:
        source = "request.yaml"
    else:
        raise InvalidInput(
            f"send the plan document as application/json or {YAML_TYPES[0]}, "
            f"not '{kind or 'none'}'",
            field="content-type",
        )
    return without_nul(read_document(text, source=source), source)


@router.post(
    "",
    status_code=201,
    summary="Open a plan from a plan document",
    responses=error_responses(401, 403, 422),
    openapi_extra=_document_body(),
)
def create(
    request: Request,
    rt: RuntimeDep,
    viewer: ApiViewer,
    background: BackgroundTasks,
    text: Annotated[str, Depends(uploaded_text)],
) -> schemas.Created:
    """The same document as `perfplan plan create`; needs the standing HR role for the
    employee's department (whatever role the document gives the opener). Every problem of
    a malformed document is listed (422); a document that would change existing people or
    departments, or opens a plan outside the opener's departments, is refused (403)."""
    access.require(viewer, "plans.create")
    document = _document(request, text)
    now = rt.now()
    with rt.transaction() as session:
        plan_id = create_plan(
            session=session,
            document=document,
            actor=viewer.key,
            now=now,
            source="request",
            opener=viewer,
        )
        plan = engine.load_plan(session, plan_id)
    background.add_task(rt.changed, plan_id, now)
    return schemas.Created(plan_id=plan_id, title=document.title, state=plan.state)


@router.get("", summary="The plans you may see, filtered", responses=error_responses(401, 422))
def list_plans(
    rt: RuntimeDep,
    viewer: ApiViewer,
    limit: Limit = 100,
    offset: Offset = 0,
    state: Annotated[str | None, name_query("Only plans in this state.")] = None,
    department: Annotated[str | None, name_query("The employee's department.")] = None,
    definition: Annotated[str | None, name_query("The workflow definition's name.")] = None,
    overdue: Annotated[
        bool | None, Query(description="Running plans with a milestone past due (or not).")
    ] = None,
    period_from: Annotated[Day | None, Query(description="Period ends on or after.")] = None,
    period_to: Annotated[Day | None, Query(description="Period starts on or before.")] = None,
    relation: Annotated[
        Literal["own", "team"] | None,
        Query(description="own: you are the employee; team: you manage the employee."),
    ] = None,
) -> schemas.PlanList:
    """Newest first: an employee sees their own plans, a manager their reports', HR their
    departments', an auditor every plan."""
    if period_from and period_to and period_from > period_to:
        raise InvalidInput("period_from is after period_to", field="period_from")
    filters = queries.PlanFilter(
        state=state,
        department=department,
        definition=definition,
        overdue=overdue,
        period_from=period_from,
        period_to=period_to,
        relation=relation,
    )
    with rt.transaction() as session:
        rows = queries.search_plans(
            session,
            viewer=viewer,
            today=rt.now().date(),
            filters=filters,
            limit=limit,
            offset=offset,
        )
    plans = [schemas.PlanSummary.model_validate(row) for row in rows]
    return schemas.PlanList(plans=plans, limit=limit, offset=offset)


@router.get(
    "/overdue",
    summary="Overdue milestones (HR's dashboard)",
    responses=error_responses(401, 403, 422),
)
def overdue(
    rt: RuntimeDep, viewer: ApiViewer, limit: Limit = 500
) -> list[schemas.OverdueMilestone]:
    """Every milestone past due and not done on a running plan you may see, most late first."""
    access.require(viewer, "plans.overdue_dashboard")
    with rt.transaction() as session:
        rows = overdue_milestones(session, viewer=viewer, today=rt.now().date(), limit=limit)
    return [schemas.OverdueMilestone.model_validate(row) for row in rows]


@router.get("/{plan_id}", summary="One plan in full", responses=READ)
def show(plan_id: PlanId, rt: RuntimeDep, viewer: ApiViewer) -> schemas.PlanDetail:
    """People, diagnosis, goals and milestones, actions, signatures, adjustments, the
    evaluation, and what can happen next (with whose signatures a chain waits for)."""
    with rt.transaction() as session:
        access.check_plan(session, viewer, plan_id, "read")
        detail = plan_detail(session, plan_id, today=rt.now().date())
        return schemas.PlanDetail.model_validate(detail, from_attributes=True)


# The activities (`perfplan.activities`): one route each, taking the activity's model --


def _transitioned(_session: Session, _plan_id: int, fired: engine.Fired) -> schemas.Transitioned:
    answer: schemas.Transitioned = schemas.Transitioned.model_validate(fired)
    return answer


def _signed(session: Session, plan_id: int, signed: signing.Signed) -> schemas.SignedAnswer:
    fired = _transitioned(session, plan_id, signed.fired) if signed.fired else None
    receipt = signed.receipt
    return schemas.SignedAnswer(
        plan_id=signed.plan_id,
        event=signed.event,
        role=signed.role,
        step=signed.step,
        waiting_for=list(signed.waiting_for),
        fired=fired,
        receipt=schemas.Receipt.model_validate(receipt.as_json()) if receipt else None,
        copy_number=signed.copy,
    )


def _recorded(session: Session, plan_id: int, record_id: int | None) -> schemas.Recorded:
    version = engine.load_plan(session, plan_id).version
    return schemas.Recorded(plan_id=plan_id, id=record_id, version=version)


# What each kind of answer is in the document, and how it is made from the service's.
ANSWERS: dict[
    activities.Answer, tuple[type[BaseModel], Callable[[Session, int, Any], BaseModel]]
] = {
    "transitioned": (schemas.Transitioned, _transitioned),
    "signed": (schemas.SignedAnswer, _signed),
    "recorded": (schemas.Recorded, _recorded),
}


@dataclass(frozen=True)
class ActivityRoute:
    """How the API offers an activity: where, with which summary and description."""

    activity: str
    path: str
    summary: str
    description: str
    status_code: int = 200


ACTIVITY_ROUTES = (
    ActivityRoute(
        "fire",
        "/{plan_id}/events/{event}",
        "Fire an event",
        "Fire an event the definition allows now (e.g. start, adjust); the engine checks\n"
        "that your role on the plan may, and the guards.",
    ),
    ActivityRoute(
        "sign",
        "/{plan_id}/signatures",
        "Sign the approval chain",
        "Sign the current step of the chain that waits (e.g. sign-off); the last signature\n"
        "fires its transition. No one approves their own plan: 403.",
    ),
    ActivityRoute(
        "report_progress",
        "/{plan_id}/progress-reports",
        "Report progress",
        "The employee's progress report: what was done, what is in the way.",
        201,
    ),
    ActivityRoute(
        "record_coaching",
        "/{plan_id}/coaching-sessions",
        "Record a coaching talk",
        "A coaching talk held now by the manager or the mentor.",
        201,
    ),
    ActivityRoute(
        "measure",
        "/{plan_id}/measurements",
        "Record a measured value",
        "A measured value of a goal's metric, in the goal's unit (default date: today).",
        201,
    ),
    ActivityRoute(
        "complete_milestone",
        "/{plan_id}/milestones/{milestone}/done",
        "Mark a milestone done",
        "The manager accepts a milestone against its criterion.",
    ),
    ActivityRoute(
        "adjust",
        "/{plan_id}/adjustments",
        "Propose an adjustment",
        "Change a milestone or an action (goals stay fixed), with a reason. A running plan\n"
        "moves into adjustment first; the change waits for re-confirmation.",
        201,
    ),
    ActivityRoute(
        "confirm_adjustments",
        "/{plan_id}/adjustments/confirm",
        "Re-confirm the proposed adjustments",
        "Sign the re-confirmation chain; its last signature confirms the adjustments and\n"
        "resumes the plan.",
    ),
    ActivityRoute(
        "evaluate",
        "/{plan_id}/evaluation",
        "Evaluate the plan",
        "Every goal against its target (each needs a measured value) and the outcome; the\n"
        "evaluation report is written after the change commits.",
    ),
)


def _parameters(activity: activities.Activity[Any]) -> list[inspect.Parameter]:
    """The route's parameters as FastAPI reads them: the plan, the key in the path, the
    activity's model as the body, and what every change needs."""
    named: list[tuple[str, object]] = [("plan_id", PlanId)]
    if activity.key:
        named.append((activity.key, Key))
    named += [("body", activity.body), ("rt", RuntimeDep), ("viewer", ApiViewer)]
    named.append(("background", BackgroundTasks))
    keyword = inspect.Parameter.KEYWORD_ONLY
    return [inspect.Parameter(name, keyword, annotation=kind) for name, kind in named]


def _add_route(route: ActivityRoute) -> None:
    activity = activities.ACTIVITIES[route.activity]
    model, answer = ANSWERS[activity.answer]

    def endpoint(
        *,
        plan_id: int,
        body: activities.Inputs,
        rt: Runtime,
        viewer: access.Viewer,
        background: BackgroundTasks,
        **path: str,
    ) -> BaseModel:
        with rt.plan_change(viewer, plan_id, background) as (session, now):
            act = activities.Act(plan_id, viewer.key, now, path.get(activity.key or ""))
            return answer(session, plan_id, activity.perform(session, act, body))

    signature = inspect.Signature(_parameters(activity), return_annotation=model)
    endpoint.__signature__ = signature  # type: ignore[attr-defined]
    router.add_api_route(
        route.path,
        endpoint,
        methods=["POST"],
        name=activity.name,
        summary=route.summary,
        description=route.description,
        status_code=route.status_code,
        responses=CHANGE,
    )


for _route in ACTIVITY_ROUTES:
    _add_route(_route)


REPORT_CONTENT: Responses = {
    200: {
        "content": {
            "text/html": {"schema": {"type": "string"}},
            "text/markdown": {"schema": {"type": "string"}},
        },
        "description": "The report as data (json), a printable page (html) or Markdown (md)",
    }
}


@router.get(
    "/{plan_id}/report",
    summary="The evaluation report",
    response_model=dict[str, Any],
    responses=READ | REPORT_CONTENT,
)
def report(
    plan_id: PlanId,
    rt: RuntimeDep,
    viewer: ApiViewer,
    format: Annotated[Literal["json", "html", "md"], Query()] = "json",
    locale: Annotated[Literal["en", "zh-CN"], Query()] = "en",
) -> Any:
    """Goals against targets, milestones on time or late, adjustments, signatures and the
    timeline; provisional until the plan is evaluated."""
    from workflows.report import render_report
    from workflows.settings import WorkflowSettings

    with rt.transaction() as session:
        access.check_plan(session, viewer, plan_id, "read")
        data = evaluation_report(session, plan_id=plan_id, now=rt.now())
    if format == "json":
        return data.as_dict()
    zone = WorkflowSettings().report_timezone
    text = render_report(data, locale=locale, fmt=format, timezone=zone)
    if format == "html":
        return HTMLResponse(text)
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")
