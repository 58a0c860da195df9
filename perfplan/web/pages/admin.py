"""The admin's page: the definitions on the search path and those installed, each
version's diagram and source, and checking a definition (pasted or uploaded) before
installing it — every problem shown with its code, path and line."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from people import access
from people.identity import SignedIn
from people.orgaudit import Acting
from perfplan.web.deps import CheckedForm, RuntimeDep, SignedInDep
from perfplan.web.pages.common import Labels, whole_number
from perfplan.web.pages.rendering import locale_of, render
from perfplan.web.pages.svg import diagram_svg
from perfplan.web.runtime import Runtime
from states.definitions import library
from states.definitions.compiled import CompiledDefinition
from states.definitions.diagram import mermaid
from states.errors import DefinitionInvalid, NotConfigured, Problem
from states.plans.bounds import MAX_DOCUMENT_BYTES
from views.status import RUN_KINDS, clockwork_status

router = APIRouter(prefix="/admin/definitions")

# A definition is a page of YAML; anything far larger is not one (the API's limit too).
MAX_UPLOAD = MAX_DOCUMENT_BYTES


def _listing(
    request: Request, rt: Runtime, signed: SignedIn, *, status: int = 200, **extra: Any
) -> Response:
    access.require(signed.viewer, "definitions.check")
    with rt.transaction() as session:
        versions = library.installed_versions(session)
        clockwork = clockwork_status(session, now=rt.now())
    context = {
        "files": library.definition_files(),
        "versions": versions,
        "clockwork": clockwork,
        "run_kinds": RUN_KINDS,
        "source": "",
        "problems": None,
        "candidate": None,
        "installed": None,
        "checked": None,
        "compiled": None,
        "diagram": None,
        "mermaid": None,
        "may_install": access.may(signed.viewer, "definitions.install"),
    } | extra
    return render(request, "definitions.html.j2", context, signed=signed, status=status)


@router.get("")
def definitions(
    request: Request, rt: RuntimeDep, signed: SignedInDep, installed: str | None = None
) -> Response:
    return _listing(request, rt, signed, installed=installed)


def _shown(compiled: CompiledDefinition, locale: str) -> dict[str, Any]:
    uid = f"{compiled.name}-v{compiled.version}"
    return {
        "compiled": compiled,
        "labels": Labels(compiled, locale),
        "diagram": diagram_svg(compiled, locale=locale, uid=uid),
        "mermaid": mermaid(compiled, locale=locale),
    }


@router.get("/{name}/{version}")
def definition_version(
    request: Request, rt: RuntimeDep, signed: SignedInDep, name: str, version: str
) -> Response:
    """One version: installed in the database, else the file of that name and version."""
    access.require(signed.viewer, "definitions.check")
    number = whole_number(version.removeprefix("v"), field="version", default=0)
    with rt.transaction() as session:
        compiled = library.definition(session, name, number)
    context = _shown(compiled, locale_of(request, signed))
    return render(request, "definition.html.j2", context, signed=signed)


def _text_of(source: str, upload: UploadFile | None) -> tuple[str, str]:
    """The definition to check: an uploaded file wins over the text area."""
    if upload is None or not upload.filename:
        return source, "pasted definition"
    data = upload.file.read(MAX_UPLOAD + 1)
    where = upload.filename
    if len(data) > MAX_UPLOAD:
        raise DefinitionInvalid(
            where, [Problem("TOO_LARGE", "$", f"larger than {MAX_UPLOAD // 1024} KiB")]
        )
    try:
        return data.decode("utf-8"), where
    except UnicodeDecodeError:
        raise DefinitionInvalid(where, [Problem("UNREADABLE", "$", "not UTF-8 text")]) from None


def _checked(request: Request, rt: Runtime, signed: SignedIn, text: str, where: str) -> Response:
    try:
        with rt.transaction() as session:
            candidate = library.check_candidate(session, text=text, source=where)
    except DefinitionInvalid as invalid:
        return _listing(
            request, rt, signed, status=422, source=text, problems=invalid.problems, checked=where
        )
    shown = _shown(candidate.compiled, locale_of(request, signed))
    return _listing(request, rt, signed, source=text, candidate=candidate, checked=where, **shown)


@router.post("/check")
def check(
    request: Request,
    rt: RuntimeDep,
    signed: CheckedForm,
    source: Annotated[str, Form()] = "",
    upload: Annotated[UploadFile | None, File()] = None,
) -> Response:
    access.require(signed.viewer, "definitions.check")
    try:
        text, where = _text_of(source, upload)
    except DefinitionInvalid as invalid:
        return _listing(
            request, rt, signed, status=422, problems=invalid.problems, checked=invalid.source
        )
    return _checked(request, rt, signed, text, where)


@router.post("/install")
def install(
    request: Request,
    rt: RuntimeDep,
    signed: CheckedForm,
    source: Annotated[str, Form()] = "",
) -> Response:
    """Install what was checked, as the API does: checked again in the installing
    transaction, recorded, and written to PERFPLAN_DEFINITIONS_DIR for new plans."""
    access.require(signed.viewer, "definitions.install")
    try:
        with rt.transaction() as session:
            by = Acting(signed.viewer.key, "web")
            compiled = library.install(session, text=source, now=rt.now(), by=by)
    except DefinitionInvalid as invalid:
        return _listing(
            request,
            rt,
            signed,
            status=422,
            source=source,
            problems=invalid.problems,
            checked="install",
        )
    except NotConfigured as missing:
        problem = Problem("NOT_CONFIGURED", "$", str(missing))
        return _listing(
            request, rt, signed, status=409, source=source, problems=[problem], checked="install"
        )
    done = f"{compiled.name} v{compiled.version}"
    return RedirectResponse(f"/admin/definitions?installed={quote(done)}", status_code=303)
