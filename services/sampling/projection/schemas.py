from __future__ import annotations

from pydantic import BaseModel, Field


class ProjectionStats(BaseModel):
    region_prefix: str = Field(description="the caller's jurisdiction the counts cover")
    entities: int
    inspectors: int
