"""The admin's import of the organisation from the HR system's CSV file
(docs/people-import.md): upload it, read the preview (what `people import --dry-run`
lists), confirm. The confirmation writes exactly the changes the preview showed, or
nothing: if the directory changed in between, the new preview is shown instead."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from people import access
from people.identity import SignedIn
from people.orgaudit import Acting
from perfplan.web.deps import CheckedForm, RuntimeDep, SignedInDep
from perfplan.web.pages.common import whole_number
from perfplan.web.pages.rendering import render
from perfplan.web.runtime import Runtime
from states.errors import CellProblem, ImportInvalid
from states.intake import pending
from states.intake.csvfile import MAX_IMPORT_BYTES
from states.intake.people import Intake, import_people

router = APIRouter(prefix="/admin/people/import")
# A preview lists this many changes, and counts them all.
SHOWN = 500


def _page(request: Request, signed: SignedIn, *, status: int = 200, **context: Any) -> Response:
    values: dict[str, Any] = {
        "intake": None,
        "counts": {},
        "shown": SHOWN,
        "problems": None,
        "source": "",
        "upload_id": None,
        "stale": False,
        "imported": None,
    } | context
    intake: Intake | None = values["intake"]
    if intake is not None:
        values["counts"] = Counter(change.kind for change in intake.changes)
    return render(request, "people_import.html.j2", values, signed=signed, status=status)


@router.get("")
def import_form(
    request: Request, signed: SignedInDep, imported: int | None = None, file: str = ""
) -> Response:
    access.require(signed.viewer, "people.import")
    return _page(request, signed, imported=imported, imported_file=file[:200])


def _uploaded(upload: UploadFile | None) -> tuple[str, bytes]:
    if upload is None or not upload.filename:
        raise ImportInvalid("the form", [CellProblem(0, "", "choose the CSV file to import")])
    data = upload.file.read(MAX_IMPORT_BYTES + 1)
    source = upload.filename[:200]
    if len(data) > MAX_IMPORT_BYTES:
        limit = MAX_IMPORT_BYTES // (1024 * 1024)
        raise ImportInvalid(source, [CellProblem(0, "", f"larger than {limit} MiB")])
    return source, data


def _refused(request: Request, signed: SignedIn, invalid: ImportInvalid) -> Response:
    return _page(request, signed, status=422, problems=invalid.problems, source=invalid.source)


@router.post("/preview")
def preview(
    request: Request,
    rt: RuntimeDep,
    signed: CheckedForm,
    upload: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """The dry run of the uploaded file; kept for its confirmation when it changes anything."""
    access.require(signed.viewer, "people.import")
    try:
        source, data = _uploaded(upload)
        with rt.transaction() as session:
            intake = import_people(
                session, data, source=source, now=rt.now(), by=_by(signed), dry_run=True
            )
            upload_id = None
            if intake.changes:
                upload_id = pending.keep(
                    session, person_id=signed.viewer.id, source=source, data=data, now=rt.now()
                )
    except ImportInvalid as invalid:
        return _refused(request, signed, invalid)
    return _page(request, signed, intake=intake, source=source, upload_id=upload_id)


def _by(signed: SignedIn) -> Acting:
    return Acting(signed.viewer.key, "web")


@router.post("/confirm")
def confirm(
    request: Request,
    rt: RuntimeDep,
    signed: CheckedForm,
    upload_id: Annotated[str, Form()] = "",
    digest: Annotated[str, Form()] = "",
) -> Response:
    """Write what the preview showed, in one transaction; the upload is then forgotten."""
    access.require(signed.viewer, "people.import")
    number = whole_number(upload_id, field="upload_id", default=0)
    try:
        intake = _confirmed(rt, signed, number, digest)
    except ImportInvalid as invalid:
        return _refused(request, signed, invalid)
    if not intake.written and intake.changes:
        return _page(
            request,
            signed,
            status=409,
            intake=intake,
            source=intake.source,
            upload_id=number,
            stale=True,
        )
    done = urlencode({"imported": len(intake.changes), "file": intake.source})
    return RedirectResponse(f"/admin/people/import?{done}", status_code=303)


def _confirmed(rt: Runtime, signed: SignedIn, upload_id: int, digest: str) -> Intake:
    with rt.transaction() as session:
        source, data = pending.pending(
            session, upload_id=upload_id, person_id=signed.viewer.id, now=rt.now()
        )
        intake = import_people(
            session, data, source=source, now=rt.now(), by=_by(signed), expect=digest
        )
        if intake.written or not intake.changes:
            pending.forget(session, upload_id=upload_id)
    return intake
