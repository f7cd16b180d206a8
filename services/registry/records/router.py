from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from services.registry.records import service
from services.registry.records.schemas import ListEntryRead, RecordCreate, RecordPage, RecordRead
from services.registry.vocab import RECORD_KINDS
from shared.access import DirectoryReader, DirectoryWriter
from shared.app import OutboxDep, SessionDep
from shared.errors import ErrorResponse
from shared.validation import IsoDate

router = APIRouter(prefix="/v1", tags=["records · 信用相关信息归集"])

# A Literal built from the vocab, so OpenAPI lists the kinds; a str to the type checker.
if TYPE_CHECKING:
    RecordKindQ = str
else:
    RecordKindQ = Literal[tuple(RECORD_KINDS)]


@router.post(
    "/records",
    response_model=RecordRead,
    status_code=status.HTTP_201_CREATED,
    summary="Collect a record (idempotent on record_id)",
    responses={
        200: {"description": "identical record already held: nothing changed"},
        422: {
            "model": ErrorResponse,
            "description": "unknown entity (code), conflicting content (record_id), "
            "removal without a standing listing (kind)",
        },
    },
)
def create_record(
    body: RecordCreate,
    response: Response,
    session: SessionDep,
    outbox: OutboxDep,
    principal: DirectoryWriter,
) -> RecordRead:
    record, created = service.create_record(session, outbox, item=body, principal=principal)
    if not created:
        response.status_code = status.HTTP_200_OK
    return record


@router.get(
    "/records",
    response_model=RecordPage,
    summary="Search records, oldest first (keyset on occurred_on, record_id)",
)
def search_records(
    session: SessionDep,
    principal: DirectoryReader,
    code: Annotated[str | None, Query(max_length=40)] = None,
    kind: RecordKindQ | None = None,
    occurred_from: Annotated[
        IsoDate | None, Query(alias="from", description="occurred on or after")
    ] = None,
    occurred_to: Annotated[
        IsoDate | None, Query(alias="to", description="occurred on or before")
    ] = None,
    after: Annotated[
        str | None, Query(max_length=80, description="next_after of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> RecordPage:
    f = service.RecordFilter(
        code=code, kind=kind, occurred_from=occurred_from, occurred_to=occurred_to
    )
    items, next_after = service.search_records(
        session, principal=principal, f=f, after=after, limit=limit
    )
    return RecordPage(items=items, next_after=next_after)


@router.get("/records/{record_id}", response_model=RecordRead, summary="Read one record")
def read_record(record_id: str, session: SessionDep, principal: DirectoryReader) -> RecordRead:
    return service.get_record(session, record_id, principal)


@router.get(
    "/entities/{code}/list-entries",
    response_model=list[ListEntryRead],
    summary="Abnormal-operations and serious-dishonest list entries of an object",
)
def entity_list_entries(
    code: str,
    session: SessionDep,
    principal: DirectoryReader,
    standing: Annotated[
        bool | None, Query(description="true: still listed; false: removed")
    ] = None,
) -> list[ListEntryRead]:
    return service.list_entries(session, code=code, principal=principal, standing=standing)
