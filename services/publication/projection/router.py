"""Internal (token-only) view of the projection. The public, open endpoints are a
separate router and never read projected entity rows wholesale."""

from __future__ import annotations

from fastapi import APIRouter

from services.publication.projection import service
from services.publication.projection.schemas import ProjectionStats
from shared.access import DirectoryReader
from shared.app import SessionDep

router = APIRouter(prefix="/v1/projection", tags=["projection · internal"])


@router.get("/stats", response_model=ProjectionStats, summary="Projected objects in jurisdiction")
def read_stats(session: SessionDep, principal: DirectoryReader) -> ProjectionStats:
    return service.stats(session, principal=principal)
