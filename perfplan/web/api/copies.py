"""Signed copies: the list of a plan's copies and each one as PDF or HTML, for the
people who keep them (the plan's employee, manager and HR, and its signers); for anyone
else the plan's copies do not exist (404), as a plan not theirs does not."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from fastapi.responses import Response

from perfplan.web.api import schemas
from perfplan.web.api.common import PlanId
from perfplan.web.deps import ApiViewer, RuntimeDep
from perfplan.web.errors import error_responses
from views.copies import MEDIA_TYPES, CopyInfo, copy_document, kept_copies, own_receipts

router = APIRouter(tags=["copies"])

Number = Annotated[int, Path(ge=1, le=1_000_000, description="The copy's number (1: agreed).")]


# A copy as the read side lists it, and where to download it once rendered (None before).
LINKS: dict[str, Any] = {"pdf": (str | None, ...), "html": (str | None, ...)}


class SignedCopy(schemas.mirror(CopyInfo, without=("plan_id",), **LINKS)):  # type: ignore[misc]
    pass


def _listed(copy: CopyInfo) -> SignedCopy:
    where = f"/api/plans/{copy.plan_id}/copies/{copy.number}"
    links = {fmt: f"{where}.{fmt}" if copy.rendered else None for fmt in ("pdf", "html")}
    listed: SignedCopy = SignedCopy.model_validate({**copy._asdict(), **links})
    return listed


@router.get(
    "/plans/{plan_id}/copies",
    summary="The plan's signed copies",
    responses=error_responses(401, 404, 422),
)
def list_copies(plan_id: PlanId, rt: RuntimeDep, viewer: ApiViewer) -> list[SignedCopy]:
    """One copy per completed approval chain (the agreement, each re-confirmation): the
    digest its signatures bind, and the SHA-256 of its PDF and HTML."""
    with rt.transaction() as session:
        return [_listed(copy) for copy in kept_copies(session, viewer, plan_id)]


@router.get(
    "/plans/{plan_id}/copies/{number}.{fmt}",
    summary="One signed copy, as PDF or HTML",
    response_class=Response,
    responses=error_responses(401, 404, 422)
    | {200: {"content": {t: {} for t in MEDIA_TYPES.values()}, "description": "The copy"}},
)
def download_copy(
    plan_id: PlanId,
    number: Number,
    fmt: Literal["pdf", "html"],
    rt: RuntimeDep,
    viewer: ApiViewer,
) -> Response:
    """The document exactly as archived; its SHA-256 is the listed one."""
    with rt.transaction() as session:
        copy, data = copy_document(session, viewer, plan_id, number, fmt)
    disposition = f'attachment; filename="{copy.filename(fmt)}"'
    return Response(data, media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": disposition})


@router.get(
    "/plans/{plan_id}/receipts",
    summary="Your receipts for your signatures on the plan",
    responses=error_responses(401, 404, 422),
)
def list_receipts(plan_id: PlanId, rt: RuntimeDep, viewer: ApiViewer) -> list[schemas.Receipt]:
    """One receipt per signature you gave: the digest signed, the record's position and
    hash. Save one as a file and check it with `perfplan audit receipt FILE`."""
    with rt.transaction() as session:
        receipts = own_receipts(session, viewer, plan_id)
    return [schemas.Receipt.model_validate(r.as_json()) for r in receipts]
