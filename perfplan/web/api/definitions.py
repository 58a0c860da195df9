"""Definition routes: list, show, check an upload without installing it, install a
new version (admins), and the Mermaid diagram (optionally with a plan's state)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse

from models.limits import MAX_ID
from people import access
from people.orgaudit import Acting
from perfplan.web.api import schemas
from perfplan.web.api.common import DefinitionName, Responses, uploaded_text, yaml_body
from perfplan.web.deps import ApiViewer, RuntimeDep
from perfplan.web.errors import error_responses
from states.definitions import catalog, diagram, library
from states.engine import firing as engine
from states.errors import InvalidInput

router = APIRouter(prefix="/definitions", tags=["definitions"])

Version = Annotated[int | None, Query(ge=1, le=MAX_ID, description="One exact version.")]
Upload = Annotated[str, Depends(uploaded_text)]


def _problems(problems: list[Any]) -> list[schemas.ProblemEntry]:
    return [schemas.ProblemEntry.model_validate(p) for p in problems]


@router.get("", summary="Definitions available and installed", responses=error_responses(401))
def list_definitions(rt: RuntimeDep, viewer: ApiViewer) -> list[schemas.DefinitionEntry]:
    """Each name with the version new plans get, where it comes from, the versions running
    plans are bound to, and why a file cannot be used if so."""
    access.require(viewer, "definitions.read")
    with rt.transaction() as session:
        found = library.list_definitions(session)
    return [
        schemas.DefinitionEntry(
            name=a.name,
            title=a.title,
            version=a.version,
            origin=a.origin,
            installed=a.installed,
            problems=_problems(a.problems),
        )
        for a in found
    ]


@router.get("/{name}", summary="One definition in full", responses=error_responses(401, 404, 422))
def show(
    name: DefinitionName, rt: RuntimeDep, viewer: ApiViewer, version: Version = None
) -> schemas.DefinitionDetail:
    """Its source YAML, roles, states, transitions and approval chains."""
    access.require(viewer, "definitions.read")
    with rt.transaction() as session:
        compiled = library.definition(session, name, version)
    return schemas.DefinitionDetail.model_validate(library.describe(compiled))


@router.post(
    "/check",
    summary="Check a definition without installing it",
    responses=error_responses(401, 403, 422),
    openapi_extra=yaml_body("A workflow definition, YAML"),
)
def check(viewer: ApiViewer, text: Upload) -> schemas.CheckResult:
    """A check that ran answers 200: `valid` false lists every problem with its code, path
    and line. Needs the standing admin role."""
    access.require(viewer, "definitions.check")
    compiled, problems = library.check(text, source="uploaded definition")
    return schemas.CheckResult(
        valid=compiled is not None,
        name=compiled.name if compiled else None,
        version=compiled.version if compiled else None,
        hash=compiled.hash if compiled else None,
        problems=_problems(problems),
    )


@router.post(
    "",
    status_code=201,
    summary="Install a definition version (admins)",
    responses=error_responses(401, 403, 409, 422),
    openapi_extra=yaml_body("A workflow definition, YAML"),
)
def install(rt: RuntimeDep, viewer: ApiViewer, text: Upload) -> schemas.InstalledDefinition:
    """Check it, record the version and write it into PERFPLAN_DEFINITIONS_DIR for new plans.
    A reused version number with other content, or a version not raised, is refused (422);
    no definitions directory configured: 409."""
    access.require(viewer, "definitions.install")
    with rt.transaction() as session:
        compiled = library.install(session, text=text, now=rt.now(), by=Acting(viewer.key, "api"))
    return schemas.InstalledDefinition(
        name=compiled.name, version=compiled.version, hash=compiled.hash
    )


DIAGRAM_TEXT: Responses = {
    200: {
        "content": {"text/plain": {"schema": {"type": "string"}}},
        "description": "The diagram (json, or Mermaid text)",
    }
}


@router.get(
    "/{name}/diagram",
    summary="The definition as a Mermaid state diagram",
    response_model=schemas.Diagram,
    responses=error_responses(401, 404, 422) | DIAGRAM_TEXT,
)
def show_diagram(
    name: DefinitionName,
    rt: RuntimeDep,
    viewer: ApiViewer,
    version: Version = None,
    plan: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Highlight this plan's state.")
    ] = None,
    locale: Annotated[Literal["en", "zh-CN"], Query()] = "en",
    format: Annotated[Literal["json", "text"], Query()] = "json",
) -> Any:
    """`stateDiagram-v2` text; with `plan`, the plan's own definition version is drawn and
    its current state marked (plan read rights needed)."""
    access.require(viewer, "definitions.read")
    highlight = None
    with rt.transaction() as session:
        if plan is None:
            compiled = library.definition(session, name, version)
        else:
            access.check_plan(session, viewer, plan, "read")
            bound = engine.load_plan(session, plan)
            compiled = catalog.by_hash(session, bound.definition_hash)
            if compiled.name != name or version not in (None, compiled.version):
                raise InvalidInput(
                    f"plan {plan} runs {compiled.name} v{compiled.version}", field="plan"
                )
            highlight = bound.state
    text = diagram.mermaid(compiled, highlight=highlight, locale=locale)
    if format == "text":
        return PlainTextResponse(text)
    return schemas.Diagram(
        definition=compiled.name, version=compiled.version, highlight=highlight, mermaid=text
    )
