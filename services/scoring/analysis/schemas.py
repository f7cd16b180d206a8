from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

By = Literal["region", "industry"]


class ClassCounts(BaseModel):
    A: int = 0
    B: int = 0
    C: int = 0
    D: int = 0


class ClassShares(BaseModel):
    A: float
    B: float
    C: float
    D: float


class RunRef(BaseModel):
    run_id: int
    month: str
    as_of: date


class GroupTrend(BaseModel):
    """Change between the two most recent monthly runs, for this group."""

    share_cd_current: float | None = Field(description="share of C+D in the latest run")
    share_cd_previous: float | None = Field(description="share of C+D in the run before")
    share_cd_delta: float | None
    risk_up: int = Field(description="entities in both runs whose class moved towards D")
    risk_down: int = Field(description="entities in both runs whose class moved towards A")


class GroupStats(BaseModel):
    group: str = Field(
        description="region prefix, industry code prefix, GB/T 4754 section letter (level 1) "
        "or 'unknown' for entities without an industry code"
    )
    total: int
    counts: ClassCounts
    shares: ClassShares
    share_cd: float = Field(description="share of classes C and D (higher risk)")
    trend: GroupTrend | None = Field(
        default=None, description="null until two monthly runs are finished"
    )


class Distribution(BaseModel):
    by: By
    level: int
    region_prefix: str = Field(description="the area the figures cover")
    total: int
    counts: ClassCounts
    groups: list[GroupStats]
    current_run: RunRef | None = None
    previous_run: RunRef | None = None


class Hotspots(BaseModel):
    by: By
    level: int
    region_prefix: str
    min_size: int
    items: list[GroupStats] = Field(description="highest share of C+D first")
    current_run: RunRef | None = None
    previous_run: RunRef | None = None
