from __future__ import annotations

from fastapi import APIRouter

from services.sampling.projection import service
from services.sampling.projection.schemas import ProjectionStats
from shared.access import DirectoryReader, InspectorDirectoryReader
from shared.app import SessionDep
from shared.projections import EntityProjectionRead, InspectorProjectionRead

router = APIRouter(prefix="/v1/projection", tags=["projection · 名录库副本"])


@router.get("/entities/{code}", response_model=EntityProjectionRead, summary="One projected object")
def read_entity(code: str, session: SessionDep, principal: DirectoryReader) -> EntityProjectionRead:
    return service.get_entity(session, code=code, principal=principal)


@router.get(
    "/inspectors/{certificate_no}",
    response_model=InspectorProjectionRead,
    summary="One projected inspector",
)
def read_inspector(
    certificate_no: str, session: SessionDep, principal: InspectorDirectoryReader
) -> InspectorProjectionRead:
    return service.get_inspector(session, certificate_no=certificate_no, principal=principal)


@router.get(
    "/stats",
    response_model=ProjectionStats,
    summary="Projected objects and inspectors in jurisdiction",
)
def read_stats(session: SessionDep, principal: DirectoryReader) -> ProjectionStats:
    return service.stats(session, principal=principal)
