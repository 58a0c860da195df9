"""My plans, my team's plans, and the plan page with the forms of what the viewer may
do now. Each form performs a plan activity (`perfplan.activities`), its fields read into
the activity's model and checked there, as the API and the CLI check them. Every form
is CSRF-checked; every plan is checked with `access.check_plan`; a refused action shows
the plan again with the reason (403, 409 or 422), and nothing changes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from people import access
from people.access import Viewer
from people.directory import department_names
from people.identity import SignedIn
from perfplan.activities import ACTIVITIES, Act, Activity, Inputs
from perfplan.errors import http_status
from perfplan.web.deps import CheckedForm, RuntimeDep, SignedInDep
from perfplan.web.pages.common import (
    Labels,
    Page,
    StateWords,
    a_date,
    plan_id_of,
    whole_number,
)
from perfplan.web.pages.rendering import locale_of, render, words
from perfplan.web.pages.svg import diagram_svg, timeline_svg
from perfplan.web.runtime import Runtime
from states.definitions.diagram import mermaid
from states.errors import Conflict, Forbidden, InvalidInput, NotAllowedNow, NotFound, PlanNotFound
from views import lists as queries
from views.copies import (
    MEDIA_TYPES,
    CopyInfo,
    Format,
    copy_document,
    kept_copies,
    own_receipt,
    own_receipts,
)
from views.page import PlanView, plan_view

router = APIRouter()

# What an adjustment may change (records.adjust checks it again).
ADJUSTABLE = {
    "milestone": ("due", "title", "criterion"),
    "action": ("title", "starts", "ends", "recurrence", "supporter"),
}
Refused = (Forbidden, NotAllowedNow, Conflict, InvalidInput)
Form = dict[str, str]


@dataclass(frozen=True)
class _Listing:
    """Which list a page shows: mine, my team's, or every plan I may read (filtered)."""

    scope: str = "mine"
    state: str = ""
    department: str = ""

    def rows(self, session: Session, viewer: Viewer, today: date, page: Page) -> list[Any]:
        relation = {"team": "team", "all": None}.get(self.scope, "participant")
        filters = queries.PlanFilter(
            state=self.state or None, department=self.department or None, relation=relation
        )
        return queries.search_plans(
            session,
            viewer=viewer,
            today=today,
            filters=filters,
            limit=page.fetch,
            offset=page.offset,
        )


def _list_page(
    request: Request, rt: Runtime, signed: SignedIn, page: str | None, listing: _Listing
) -> Response:
    number = Page(whole_number(page, field="page", default=1))
    now, locale = rt.now(), locale_of(request, signed)
    with rt.transaction() as session:
        state_words = StateWords(session, locale)
        rows = [
            state_words.labelled(row)
            for row in listing.rows(session, signed.viewer, now.date(), number)
        ]
        departments = department_names(session) if listing.scope == "all" else []
    query = urlencode({k: v for k, v in vars(listing).items() if v and v != "mine"})
    context = {
        "rows": rows[: number.size],
        "page": number.number,
        "more": len(rows) > number.size,
        "team": listing.scope == "team",
        "listing": listing,
        "query": query,
        "departments": departments,
        "today": now.date(),
    }
    return render(request, "plans.html.j2", context, signed=signed)


@router.get("/plans")
def my_plans(
    request: Request,
    rt: RuntimeDep,
    signed: SignedInDep,
    page: str | None = None,
    scope: str = "mine",
    state: str = "",
    department: str = "",
) -> Response:
    """My plans; `scope=all`: every plan I may read, by state and department."""
    if scope not in ("mine", "all"):
        raise InvalidInput(f"'{scope}' is not a list; use mine or all", field="scope")
    listing = _Listing(scope, state.strip(), department.strip())
    return _list_page(request, rt, signed, page, listing)


@router.get("/team")
def team_plans(
    request: Request, rt: RuntimeDep, signed: SignedInDep, page: str | None = None
) -> Response:
    return _list_page(request, rt, signed, page, _Listing("team"))


def _keeper(posted: Form | None) -> Callable[..., str]:
    """What the person typed into the refused form, so that it is not lost: `kept(form,
    field)` is the posted value when `form` ("progress", "fire:evaluate", ...) was sent."""
    sent = posted or {}
    which = sent.get("form", "")

    def kept(form: str, field: str, default: str = "") -> str:
        return sent.get(field, default) if form == which else default

    return kept


def plan_page(
    request: Request,
    rt: Runtime,
    signed: SignedIn,
    plan_id: int,
    *,
    error: Exception | None = None,
    status: int = 200,
    notice: str | None = None,
    posted: Form | None = None,
) -> Response:
    now, locale = rt.now(), locale_of(request, signed)
    with rt.transaction() as session:
        view = plan_view(session, viewer=signed.viewer, plan_id=plan_id, now=now)
        copies = _copies_kept(session, signed.viewer, plan_id)
        receipts = own_receipts(session, signed.viewer, plan_id)
    labels = Labels(view.definition, locale)
    catalog = words(locale)
    context: dict[str, Any] = {
        "view": view,
        "labels": labels,
        "today": now.date(),
        "error": error,
        "notice": catalog.get(f"notice.{notice}") if notice in NOTICES else None,
        "diagram": diagram_svg(view.definition, current=view.snapshot.state, locale=locale),
        "mermaid": mermaid(view.definition, highlight=view.snapshot.state, locale=locale),
        "timeline": timeline_svg(
            start=view.snapshot.period_start,
            end=view.snapshot.period_end,
            today=now.date(),
            milestones=view.milestones,
            today_label=catalog["plan.today"],
        ),
        "adjustable": ADJUSTABLE,
        "may_adjust": _may_adjust(view),
        "read_only": not view.relations & access.PLAN_POLICY["act"],
        "anything": _anything(view),
        "kept": _keeper(posted),
        "copies": copies,
        "receipts": receipts,
    }
    return render(request, "plan.html.j2", context, signed=signed, status=status)


def _copies_kept(session: Session, viewer: Viewer, plan_id: int) -> list[CopyInfo]:
    """The signed copies the viewer keeps; none for a reader who keeps none."""
    try:
        return kept_copies(session, viewer, plan_id)
    except PlanNotFound:
        return []


@router.get("/plans/{plan_id}/copies/{number}.{fmt}")
def download_copy(
    rt: RuntimeDep, signed: SignedInDep, plan_id: str, number: str, fmt: str
) -> Response:
    """A signed copy for its keeper, exactly as archived."""
    if fmt not in MEDIA_TYPES or not number.isascii() or not number.isdigit() or len(number) > 7:
        raise NotFound(f"no signed copy '{number}.{fmt}'")
    kind: Format = "pdf" if fmt == "pdf" else "html"
    with rt.transaction() as session:
        copy, data = copy_document(session, signed.viewer, plan_id_of(plan_id), int(number), kind)
    disposition = f'attachment; filename="{copy.filename(fmt)}"'
    return Response(data, media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": disposition})


@router.get("/plans/{plan_id}/receipts/{seq}.json")
def download_receipt(rt: RuntimeDep, signed: SignedInDep, plan_id: str, seq: str) -> Response:
    """The receipt of one of the viewer's own signatures, as the file to keep."""
    if not seq.isascii() or not seq.isdigit() or len(seq) > 9:
        raise NotFound(f"no receipt '{seq}.json'")
    number = plan_id_of(plan_id)
    with rt.transaction() as session:
        receipt = own_receipt(session, signed.viewer, number, int(seq))
    disposition = f'attachment; filename="plan-{number}-receipt-{receipt.seq}.json"'
    return Response(
        receipt.text(), media_type="application/json", headers={"Content-Disposition": disposition}
    )


def _may_adjust(view: PlanView) -> bool:
    """Adjusting is offered where the state allows it, or where an event the viewer may
    fire leads into such a state (`records.adjust` fires it first)."""
    if "adjust" in view.may.activities:
        return True
    definition = view.definition
    return any(definition.allows(e.transition.dest, "adjust") for e in view.may.events)


def _anything(view: PlanView) -> bool:
    offered = [a for a in view.may.activities if a in OFFERED]
    return bool(view.may.events or view.may.sign or offered)


@router.get("/plans/{plan_id}")
def show_plan(
    request: Request, rt: RuntimeDep, signed: SignedInDep, plan_id: str, done: str | None = None
) -> Response:
    return plan_page(request, rt, signed, plan_id_of(plan_id), notice=done)


# The forms: each performs an activity (`perfplan.activities`), its fields read into the
# activity's model and checked there, limits and all, as the API and the CLI check them.

Fields = dict[str, object]


def _version(form: Form) -> int:
    """The plan version the form was shown at: a change made since is a Conflict."""
    if not form.get("version", "").strip():
        raise InvalidInput(
            "the form does not say which version of the plan it was shown at; reload the page",
            field="version",
        )
    return whole_number(form.get("version"), field="version", default=0)


def _value(text: str | None) -> str:
    """The value as typed, for the activity's model to read as the API and the CLI do (a
    comma is not a decimal point here: `1,000` would otherwise be stored as 1)."""
    return (text or "").strip()


def _fire(form: Form) -> Fields:
    inputs = {
        k.removeprefix("input."): v for k, v in form.items() if k.startswith("input.") and v.strip()
    }
    return {"comment": form.get("comment", ""), "inputs": inputs}


def _sign(form: Form) -> Fields:
    return {"event": form.get("event") or None, "comment": form.get("comment", "")}


def _progress(form: Form) -> Fields:
    return {"summary": form.get("summary", ""), "blockers": form.get("blockers", "")}


def _coaching(form: Form) -> Fields:
    notes = form.get("notes", "")
    if not notes.strip():  # the page asks for them; the API and the CLI take a talk without
        raise InvalidInput("a coaching session needs notes", field="notes")
    minutes = form.get("minutes", "").strip() or "15"  # the model reads it, as the API's
    return {"notes": notes, "minutes": minutes}


def _measure(form: Form) -> Fields:
    return {
        "goal": form.get("goal", ""),
        "value": _value(form.get("value")),
        "measured_on": a_date(form.get("measured_on"), field="measured_on"),
        "source": form.get("source", ""),
        "note": form.get("note", ""),
    }


def _milestone(form: Form) -> Fields:
    return {"comment": form.get("comment", "")}


def _adjust(form: Form) -> Fields:
    kind, _, key = form.get("target", "").partition(":")
    field = form.get("field", "")
    if not key or not field:
        raise InvalidInput("choose what to change and which field", field="target")
    changes = {field: form.get("value", "")}
    return {"kind": kind, "key": key, "changes": changes, "reason": form.get("reason", "")}


@dataclass(frozen=True)
class PageForm:
    """A form of the plan page: the activity it performs, how its fields read, and which
    texts are stored without the spaces around them (checked as typed)."""

    activity: Activity[Any]
    fields: Callable[[Form], Fields]
    trimmed: tuple[str, ...] = ()

    def read(self, form: Form) -> tuple[str | None, Inputs]:
        key = form.get(self.activity.key, "") if self.activity.key else None
        fields = self.fields(form) | {"expected_version": _version(form)}
        body = self.activity.parse(fields, key=key, called=CALLED)
        return key, _trimmed(body, self.trimmed)


# The page's names for the models' fields, in a refusal.
CALLED = {"expected_version": "version", "changes": "value"}


def _trimmed(body: Inputs, names: tuple[str, ...]) -> Inputs:
    """The named texts without the spaces around them; a comment left blank is none
    (where the activity takes none)."""
    update: dict[str, object] = {}
    for name in names:
        value = getattr(body, name)
        if isinstance(value, dict):
            update[name] = {k: v.strip() for k, v in value.items()}
        elif isinstance(value, str):
            blank = None if type(body).model_fields[name].default is None else ""
            update[name] = value.strip() or blank
    return body.model_copy(update=update)


FORMS = {
    "fire": PageForm(ACTIVITIES["fire"], _fire, ("comment", "inputs")),
    "sign": PageForm(ACTIVITIES["sign"], _sign, ("comment",)),
    "progress": PageForm(ACTIVITIES["report_progress"], _progress, ("summary", "blockers")),
    "coaching": PageForm(ACTIVITIES["record_coaching"], _coaching, ("notes",)),
    "measure": PageForm(ACTIVITIES["measure"], _measure, ("source", "note")),
    "milestone": PageForm(ACTIVITIES["complete_milestone"], _milestone, ("comment",)),
    "adjust": PageForm(ACTIVITIES["adjust"], _adjust, ("changes",)),
}
# The activities of a definition's states the page has a form for, and what it says
# when one is done.
OFFERED = frozenset(form.activity.name for form in FORMS.values())
NOTICES = frozenset(form.activity.notice for form in FORMS.values())


def _change(
    request: Request,
    rt: Runtime,
    signed: SignedIn,
    plan_id: int,
    background: BackgroundTasks,
    form: PageForm,
    posted: Form,
) -> Response:
    """Check that the viewer may act on the plan, read the form and perform its activity
    in one transaction, then carry out its effects after the response; a refusal shows
    the plan with the reason."""
    try:
        with rt.plan_change(signed.viewer, plan_id, background) as (session, now):
            key, body = form.read(posted)
            form.activity.perform(session, Act(plan_id, signed.viewer.key, now, key), body)
    except Refused as refused:
        return plan_page(
            request, rt, signed, plan_id, error=refused, status=http_status(refused), posted=posted
        )
    return RedirectResponse(f"/plans/{plan_id}?done={form.activity.notice}", status_code=303)


async def _form(request: Request) -> Form:
    """The posted fields as text (files are not taken on the plan page)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.post("/plans/{plan_id}/{what}")
async def act_on_plan(
    request: Request,
    rt: RuntimeDep,
    signed: CheckedForm,
    background: BackgroundTasks,
    plan_id: str,
    what: str,
) -> Response:
    """Every form of the plan page: fire, sign, progress, coaching, measure, milestone,
    adjust. The plan id of the path is the one acted on."""
    number = plan_id_of(plan_id)
    if what not in FORMS:
        raise NotFound(f"no form '{what}' on the plan page")
    form = await _form(request) | {"plan_id": str(number)}
    event = form.get("event", "")
    form["form"] = f"{what}:{event}" if what in ("fire", "sign") else what
    return await run_in_threadpool(
        _change, request, rt, signed, number, background, FORMS[what], form
    )
