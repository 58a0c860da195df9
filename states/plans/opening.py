"""Opening a plan from a plan document: people, roles, diagnosis, goals and actions.

What a document may say about people and departments is `organisation`'s; whether its
people can sign its chains, `signers`'."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from dateutil.rrule import rrulestr
from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session

from models import plans as stored
from models.people import PlanRole
from models.tables import PERSON
from people.access import Viewer
from people.orgaudit import Acting
from states import audit
from states.definitions import catalog
from states.definitions.compiled import CompiledDefinition
from states.definitions.durations import parse_duration
from states.definitions.yamlsource import load_yaml
from states.engine.context import SYSTEM, Context, PlanSnapshot
from states.engine.effects import implied_flows, write_outbox
from states.engine.firing import load_actor
from states.errors import DefinitionInvalid, DefinitionNotFound, DocumentForbidden, InvalidDocument
from states.plans.bounds import MAX_DOCUMENT_BYTES, sentence
from states.plans.content import plan_digest
from states.plans.document import PlanDocument
from states.plans.organisation import (
    change_problems,
    reference_problems,
    scope_problems,
    write_organisation,
)
from states.plans.signers import signer_problems


def read_document(text: str, *, source: str) -> PlanDocument:
    """Parse a YAML or JSON plan document; every problem is reported with its path."""
    data: Any
    _within_size(len(text.encode("utf-8")), source)
    if source.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidDocument(
                source, [f"line {exc.lineno}: not valid JSON: {exc.msg}"]
            ) from exc
    else:
        document, problems = load_yaml(text)
        if problems:
            raise InvalidDocument(source, [str(p) for p in problems])
        data = document.data
    try:
        return PlanDocument.model_validate(data)
    except ValidationError as exc:
        raise InvalidDocument(
            source,
            [f"{'.'.join(str(p) for p in e['loc']) or '$'}: {sentence(e)}" for e in exc.errors()],
        ) from exc


def _within_size(size: int, source: str) -> None:
    if size > MAX_DOCUMENT_BYTES:
        raise InvalidDocument(
            source,
            [f"the document is {size:,} bytes, more than the {MAX_DOCUMENT_BYTES:,} a plan may be"],
        )


def read_document_file(path: Path) -> PlanDocument:
    try:
        _within_size(path.stat().st_size, str(path))
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidDocument(str(path), [f"cannot read the file: {exc}"]) from exc
    return read_document(text, source=str(path))


def _known_people(session: Session, doc: PlanDocument) -> set[str]:
    wanted = {p for role in doc.roles for p in doc.holders(role)}
    wanted |= {a.executor for a in doc.actions} | {a.supporter for a in doc.actions if a.supporter}
    wanted |= {c for a in doc.actions for c in a.collaborators}
    wanted |= {p.manager for p in doc.people if p.manager}
    wanted |= {d.head for d in doc.departments if d.head}
    existing = set(session.execute(select(PERSON.c.key).where(PERSON.c.key.in_(wanted))).scalars())
    return existing | {p.key for p in doc.people}


def _exists(session: Session, key: str) -> bool:
    """Whether a person is known already (the author need not be named in the document)."""
    return session.execute(select(PERSON.c.id).where(PERSON.c.key == key)).first() is not None


def _role_problems(doc: PlanDocument, definition: CompiledDefinition) -> list[str]:
    problems = []
    roles = definition.spec.roles
    for role in doc.roles:
        if role not in roles or roles[role].derived:
            known = ", ".join(r for r, s in roles.items() if not s.derived)
            problems.append(f"roles.{role}: '{definition.name}' has no such role; known: {known}")
        elif len(doc.holders(role)) > 1 and not roles[role].many:
            problems.append(f"roles.{role}: only one person may hold this role")
    for role, spec in roles.items():
        if spec.required and not doc.holders(role):
            problems.append(f"roles.{role}: required by '{definition.name}'; name who holds it")
    employees = set(doc.holders("employee"))
    for role in doc.roles:
        if role != "employee" and employees & set(doc.holders(role)):
            problems.append(
                f"roles.{role}: the plan's employee cannot also be its {role} "
                "(no one approves their own plan)"
            )
    return problems


def _reference_problems(doc: PlanDocument, people: set[str]) -> list[str]:
    problems = []
    for role in doc.roles:
        problems += [
            f"roles.{role}: unknown person '{p}'" for p in doc.holders(role) if p not in people
        ]
    problem_keys = {p.key for p in doc.diagnosis.problems}
    goal_keys = {g.key for g in doc.goals}
    for i, goal in enumerate(doc.goals):
        if goal.problem and goal.problem not in problem_keys:
            problems.append(f"goals[{i}].problem: no diagnosed problem '{goal.problem}'")
        if goal.direction == "raise" and goal.baseline is not None and goal.target <= goal.baseline:
            problems.append(f"goals[{i}].target: a 'raise' goal needs target > baseline")
        if goal.direction == "lower" and goal.baseline is not None and goal.target >= goal.baseline:
            problems.append(f"goals[{i}].target: a 'lower' goal needs target < baseline")
    for i, action in enumerate(doc.actions):
        where = f"actions[{i}]"
        if action.goal not in goal_keys:
            problems.append(f"{where}.goal: no goal '{action.goal}'")
        named = [
            action.executor,
            *([action.supporter] if action.supporter else []),
            *action.collaborators,
        ]
        problems += [f"{where}: unknown person '{p}'" for p in named if p not in people]
        problems += _schedule_problems(where, action.starts, action.ends, action.recurrence)
    return problems


def _schedule_problems(where: str, starts: Any, ends: Any, recurrence: str) -> list[str]:
    problems = []
    if starts and ends and ends < starts:
        problems.append(f"{where}.ends: ends before it starts")
    if recurrence:
        try:
            rrulestr(recurrence)
        except (ValueError, TypeError) as exc:
            problems.append(f"{where}.recurrence: not an RFC 5545 RRULE ({exc})")
    return problems


def _period_problems(doc: PlanDocument) -> list[str]:
    problems = []
    if doc.period.end <= doc.period.start:
        problems.append("period.end: must be after period.start")
    for field in ("report_every", "coaching_every"):
        try:
            parse_duration(getattr(doc, field))
        except ValueError as exc:
            problems.append(f"{field}: {exc}")
    keys = [g.key for g in doc.goals] + [m.key for g in doc.goals for m in g.milestones]
    keys += [a.key for a in doc.actions]
    problems += [f"key '{k}' is used twice" for k in sorted({k for k in keys if keys.count(k) > 1})]
    for i, goal in enumerate(doc.goals):
        for j, milestone in enumerate(goal.milestones):
            if not doc.period.start <= milestone.due <= doc.period.end:
                problems.append(f"goals[{i}].milestones[{j}].due: outside the plan's period")
    return problems


def check_document(
    session: Session, doc: PlanDocument, definition: CompiledDefinition
) -> list[str]:
    """Cross-reference problems a schema cannot see: roles, people, keys, dates."""
    people = _known_people(session, doc)
    roles = _role_problems(doc, definition)
    return [
        *roles,
        # Signers are matched only to roles that are themselves right.
        *([] if roles else signer_problems(doc, definition)),
        *_reference_problems(doc, people),
        *reference_problems(doc, people),
        *_period_problems(doc),
    ]


def _add_content(session: Session, plan_id: int, doc: PlanDocument, ids: dict[str, int]) -> None:
    for role in doc.roles:
        session.add_all(
            PlanRole(plan_id=plan_id, person_id=ids[p], role=role) for p in doc.holders(role)
        )
    session.add_all(
        stored.Evidence(plan_id=plan_id, **e.model_dump()) for e in doc.diagnosis.evidence
    )
    problems = {
        p.key: stored.Problem(plan_id=plan_id, **p.model_dump()) for p in doc.diagnosis.problems
    }
    session.add_all(problems.values())
    session.flush()
    goals: dict[str, stored.Goal] = {}
    for g in doc.goals:
        fields = g.model_dump(exclude={"milestones", "problem"})
        goals[g.key] = stored.Goal(
            plan_id=plan_id, problem_id=problems[g.problem].id if g.problem else None, **fields
        )
    session.add_all(goals.values())
    session.flush()
    for g in doc.goals:
        session.add_all(
            stored.Milestone(plan_id=plan_id, goal_id=goals[g.key].id or 0, **m.model_dump())
            for m in g.milestones
        )
    for a in doc.actions:
        action = stored.Action(
            plan_id=plan_id,
            goal_id=goals[a.goal].id or 0,
            key=a.key,
            title=a.title,
            executor_id=ids[a.executor],
            supporter_id=ids[a.supporter] if a.supporter else None,
            starts=a.starts,
            ends=a.ends,
            recurrence=a.recurrence,
        )
        session.add(action)
        session.flush()
        session.add_all(
            stored.ActionCollaborator(action_id=action.id or 0, person_id=ids[c])
            for c in a.collaborators
        )
        session.add_all(
            stored.ActionResource(action_id=action.id or 0, **r.model_dump()) for r in a.resources
        )


def _new_plan(
    session: Session, document: PlanDocument, definition: CompiledDefinition, now: datetime
) -> stored.Plan:
    """The plan's row, in its definition's initial state (flushed: it has its id)."""
    plan = stored.Plan(
        title=document.title,
        reason=document.reason,
        definition_name=definition.name,
        definition_version=definition.version,
        definition_hash=definition.hash,
        state=definition.initial,
        period_start=document.period.start,
        period_end=document.period.end,
        report_every=document.report_every,
        coaching_every=document.coaching_every,
        created_at=now,
        updated_at=now,
    )
    session.add(plan)
    session.flush()
    return plan


def _record_creation(
    session: Session,
    plan: stored.Plan,
    document: PlanDocument,
    definition: CompiledDefinition,
    actor: str,
    now: datetime,
) -> None:
    """The first audit record (who opened the plan, in which role), and the effects of
    entering the initial state."""
    assert plan.id is not None
    actor_roles = [r for r in document.roles if actor in document.holders(r)]
    ctx = Context(
        session=session,
        plan=PlanSnapshot.from_row(plan),
        definition=definition,
        event="create",
        actor=load_actor(session, actor),
        role=actor_roles[0] if actor_roles else "creator",
        now=now,
    )
    entry = audit.entry(ctx, "transition", moves=("", definition.initial))
    digest = plan_digest(session, plan.id)
    seq = audit.advance(session, ctx.plan, entry, content_digest=digest)
    flows = implied_flows(definition, definition.initial)
    payload = {"event": "create", "to": definition.initial, "actor": actor}
    write_outbox(session, plan.id, seq, flows, payload, now)


def _definition(document: PlanDocument, source: str, extra: Path | None) -> CompiledDefinition:
    """The installed definition the document names (the version new plans get). Nothing
    of a file that cannot be used is told: that is the admin's to see, where they check
    definitions (`perfplan config check`, /admin/definitions)."""
    name = document.definition
    try:
        definition = catalog.find(name, extra)
    except DefinitionNotFound as unknown:
        raise InvalidDocument(source, [f"definition: {unknown}"]) from None
    except DefinitionInvalid as invalid:
        raise InvalidDocument(
            source,
            [
                f"definition: '{name}' cannot be used: its installed file has "
                f"{len(invalid.problems)} problem(s); ask an admin to check it"
            ],
        ) from None
    pinned = document.definition_version
    if pinned is not None and pinned != definition.version:
        raise InvalidDocument(
            source,
            [
                f"definition_version: new plans get '{name}' version {definition.version}, "
                f"not {pinned} (an older version runs only the plans opened with it)"
            ],
        )
    return definition


def create_plan(
    *,
    session: Session,
    document: PlanDocument,
    actor: str,
    now: datetime,
    source: str = "plan document",
    definitions_dir: Path | None = None,
    opener: Viewer | None = None,
) -> int:
    """Open a plan in its definition's initial state; the first audit record says who.
    `opener`: who opens it through a door that checks standing roles (the API): their HR
    must cover the employee's department. The CLI's operator holds the database (None)."""
    definition = _definition(document, source, definitions_dir)
    problems = check_document(session, document, definition)
    people_known = _known_people(session, document)
    if actor != SYSTEM.key and actor not in people_known and not _exists(session, actor):
        problems.append(f"--as: unknown person '{actor}'")
    if problems:
        raise InvalidDocument(source, problems)
    refused = change_problems(session, document) + scope_problems(session, document, opener)
    if refused:
        raise DocumentForbidden(source, refused, actor=actor)
    by = Acting(actor, "plan document")
    catalog.install(session, definition, now, by=by)
    ids = write_organisation(session, document, people_known, now=now, by=by)
    plan = _new_plan(session, document, definition, now)
    assert plan.id is not None
    _add_content(session, plan.id, document, ids)
    session.flush()
    _record_creation(session, plan, document, definition, actor, now)
    return plan.id
