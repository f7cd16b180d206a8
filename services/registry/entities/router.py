from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, Query, status

from services.registry.entities import service
from services.registry.entities.schemas import (
    DeregisterRequest,
    EntityCreate,
    EntityPage,
    EntityRead,
    EntityUpdate,
)
from services.registry.vocab import ENTITY_STATUSES, ENTITY_TYPES, LICENCE_KINDS
from shared.access import DirectoryReader, DirectoryWriter
from shared.app import OutboxDep, SessionDep

router = APIRouter(prefix="/v1/entities", tags=["entities · 检查对象名录"])

# Query vocabularies as Literals built from the vocab, so OpenAPI lists the words; the
# type checker, which cannot evaluate them, sees plain strings.
if TYPE_CHECKING:
    EntityTypeQ = str
    StatusQ = str
    LicenceQ = str
else:
    EntityTypeQ = Literal[tuple(ENTITY_TYPES)]
    StatusQ = Literal[tuple(ENTITY_STATUSES)]
    LicenceQ = Literal[tuple(LICENCE_KINDS)]


@router.get("", response_model=EntityPage, summary="Search objects (keyset pagination)")
def search_entities(
    session: SessionDep,
    principal: DirectoryReader,
    code: Annotated[str | None, Query(max_length=40)] = None,
    name: Annotated[str | None, Query(max_length=100, description="substring, e.g. 食品")] = None,
    region: Annotated[
        str | None, Query(pattern=r"^\d{2,6}$", description="GB/T 2260 code or prefix")
    ] = None,
    industry: Annotated[
        str | None, Query(pattern=r"^\d{1,4}$", description="GB/T 4754 prefix")
    ] = None,
    tag: Annotated[str | None, Query(max_length=60)] = None,
    entity_type: EntityTypeQ | None = None,
    status_: Annotated[StatusQ | None, Query(alias="status")] = None,
    licence: LicenceQ | None = None,
    after: Annotated[
        str | None, Query(max_length=40, description="next_after of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> EntityPage:
    f = service.EntityFilter(
        code=code,
        name=name,
        region=region,
        industry=industry,
        tag=tag,
        entity_type=entity_type,
        status=status_,
        licence=licence,
    )
    items, next_after = service.search(session, principal=principal, f=f, after=after, limit=limit)
    return EntityPage(items=items, next_after=next_after)


@router.post(
    "", response_model=EntityRead, status_code=status.HTTP_201_CREATED, summary="Register an object"
)
def create_entity(
    body: EntityCreate, session: SessionDep, outbox: OutboxDep, principal: DirectoryWriter
) -> EntityRead:
    return service.create_entity(session, outbox, item=body, principal=principal)


@router.get("/{code}", response_model=EntityRead, summary="Read one object")
def read_entity(code: str, session: SessionDep, principal: DirectoryReader) -> EntityRead:
    return service.get_entity(session, code, principal)


@router.patch("/{code}", response_model=EntityRead, summary="Change an object's declared fields")
def update_entity(
    code: str,
    body: EntityUpdate,
    session: SessionDep,
    outbox: OutboxDep,
    principal: DirectoryWriter,
) -> EntityRead:
    return service.update_entity(session, outbox, code=code, patch=body, principal=principal)


@router.post(
    "/{code}/deregister", response_model=EntityRead, summary="Deregister (注销) or revoke (吊销)"
)
def deregister_entity(
    code: str,
    body: DeregisterRequest,
    session: SessionDep,
    outbox: OutboxDep,
    principal: DirectoryWriter,
) -> EntityRead:
    return service.deregister_entity(
        session, outbox, code=code, status=body.status, principal=principal
    )
