from __future__ import annotations

from pydantic import BaseModel, Field


class ProjectionStats(BaseModel):
    region_prefix: str = Field(description="the caller's jurisdiction the counts cover")
    entities: int
    awaiting_classification: int = Field(
        description="of these, entities whose facts changed and that the reclassifier has "
        "not scored again yet (0 once scoring has caught up)"
    )
