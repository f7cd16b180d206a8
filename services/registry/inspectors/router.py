from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from services.registry.inspectors import service
from services.registry.inspectors.schemas import (
    InspectorCreate,
    InspectorPage,
    InspectorRead,
    InspectorUpdate,
    StatusChange,
)
from services.registry.vocab import INSPECTOR_STATUSES, SPECIALTIES
from shared.access import DirectoryWriter, InspectorDirectoryReader
from shared.app import OutboxDep, SessionDep
from shared.errors import ErrorResponse

router = APIRouter(prefix="/v1/inspectors", tags=["inspectors · 执法检查人员名录"])

# Literals built from the vocab, so OpenAPI lists the words; strs to the type checker.
if TYPE_CHECKING:
    StatusQ = str
    SpecialtyQ = str
else:
    StatusQ = Literal[tuple(INSPECTOR_STATUSES)]
    SpecialtyQ = Literal[tuple(SPECIALTIES)]


@router.get(
    "", response_model=InspectorPage, summary="Search inspectors (keyset on certificate_no)"
)
def search_inspectors(
    session: SessionDep,
    principal: InspectorDirectoryReader,
    region: Annotated[
        str | None, Query(pattern=r"^\d{2,6}$", description="GB/T 2260 code or prefix")
    ] = None,
    department: Annotated[str | None, Query(max_length=100)] = None,
    specialty: SpecialtyQ | None = None,
    status_: Annotated[StatusQ | None, Query(alias="status")] = None,
    professional: bool | None = None,
    certificate_valid: bool | None = None,
    after: Annotated[
        str | None, Query(max_length=40, description="next_after of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> InspectorPage:
    f = service.InspectorFilter(
        region=region,
        department=department,
        specialty=specialty,
        status=status_,
        professional=professional,
        certificate_valid=certificate_valid,
    )
    items, next_after = service.search(session, principal=principal, f=f, after=after, limit=limit)
    return InspectorPage(items=items, next_after=next_after)


@router.post(
    "",
    response_model=InspectorRead,
    status_code=status.HTTP_201_CREATED,
    summary="Add an inspector",
    responses={
        200: {"description": "identical inspector already held: nothing changed"},
        409: {
            "model": ErrorResponse,
            "description": "certificate number held with other content: use PATCH",
        },
    },
)
def create_inspector(
    body: InspectorCreate,
    response: Response,
    session: SessionDep,
    outbox: OutboxDep,
    principal: DirectoryWriter,
) -> InspectorRead:
    inspector, created = service.create_inspector(session, outbox, item=body, principal=principal)
    if not created:
        response.status_code = status.HTTP_200_OK
    return inspector


@router.get("/{certificate_no}", response_model=InspectorRead, summary="Read one inspector")
def read_inspector(
    certificate_no: str, session: SessionDep, principal: InspectorDirectoryReader
) -> InspectorRead:
    return service.get_inspector(session, certificate_no, principal)


@router.patch(
    "/{certificate_no}", response_model=InspectorRead, summary="Change an inspector's fields"
)
def update_inspector(
    certificate_no: str,
    body: InspectorUpdate,
    session: SessionDep,
    outbox: OutboxDep,
    principal: DirectoryWriter,
) -> InspectorRead:
    return service.update_inspector(
        session, outbox, certificate_no=certificate_no, patch=body, principal=principal
    )


@router.post(
    "/{certificate_no}/status",
    response_model=InspectorRead,
    summary="Change status: on_duty 在岗, transferred 调离, retired 退休",
)
def change_status(
    certificate_no: str,
    body: StatusChange,
    session: SessionDep,
    outbox: OutboxDep,
    principal: DirectoryWriter,
) -> InspectorRead:
    return service.change_status(
        session, outbox, certificate_no=certificate_no, status=body.status, principal=principal
    )
