from __future__ import annotations

from fastapi import APIRouter

from services.scoring.projection import service
from services.scoring.projection.schemas import ProjectionStats
from shared.access import DirectoryReader
from shared.app import SessionDep
from shared.projections import EntityProjectionRead

router = APIRouter(prefix="/v1/projection", tags=["projection · 检查对象副本"])


@router.get("/entities/{code}", response_model=EntityProjectionRead, summary="One projected object")
def read_entity(code: str, session: SessionDep, principal: DirectoryReader) -> EntityProjectionRead:
    return service.get_entity(session, code=code, principal=principal)


@router.get("/stats", response_model=ProjectionStats, summary="Projected objects in jurisdiction")
def read_stats(session: SessionDep, principal: DirectoryReader) -> ProjectionStats:
    return service.stats(session, principal=principal)
