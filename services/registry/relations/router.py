from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from services.registry.relations import service
from services.registry.relations.schemas import EntityRelations, RelationCreate, RelationRead
from shared.access import DirectoryReader, DirectoryWriter
from shared.app import OutboxDep, SessionDep
from shared.validation import StoredId

router = APIRouter(prefix="/v1", tags=["relations · 关联关系"])


@router.post(
    "/relations",
    response_model=RelationRead,
    status_code=status.HTTP_201_CREATED,
    summary="Declare a relation (shareholder, legal representative, shared address)",
    responses={200: {"description": "the same relation already stands: nothing changed"}},
)
def create_relation(
    body: RelationCreate,
    response: Response,
    session: SessionDep,
    outbox: OutboxDep,
    principal: DirectoryWriter,
) -> RelationRead:
    relation, changed = service.create_relation(session, outbox, item=body, principal=principal)
    if not changed:
        response.status_code = status.HTTP_200_OK
    return relation


@router.delete(
    "/relations/{relation_id}",
    response_model=RelationRead,
    summary="End a relation today (sets removed_on)",
)
def delete_relation(
    relation_id: StoredId, session: SessionDep, outbox: OutboxDep, principal: DirectoryWriter
) -> RelationRead:
    return service.remove_relation(session, outbox, relation_id=relation_id, principal=principal)


@router.get(
    "/entities/{code}/relations",
    response_model=EntityRelations,
    summary="Declared relations plus objects sharing the address (一址多照) or legal representative",
)
def entity_relations(
    code: str,
    session: SessionDep,
    principal: DirectoryReader,
    include_removed: bool = False,
    limit: Annotated[
        int, Query(ge=1, le=500, description="cap on each kind of directory match")
    ] = 100,
) -> EntityRelations:
    return service.entity_relations(
        session, code=code, principal=principal, include_removed=include_removed, limit=limit
    )
