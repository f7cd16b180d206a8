"""What officers read about classes. INTERNAL (内部参考): these shapes appear only on
endpoints that require a credit officer and are audited."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from shared.events import RiskClass


class Contribution(BaseModel):
    indicator: str
    group: str
    name_zh: str
    name_en: str
    points: float


class EntityClassRead(BaseModel):
    code: str
    risk_class: RiskClass
    score: float
    model_id: str
    model_version: int
    as_of: date
    cause: str
    overridden_by: str | None = Field(
        description="a hard rule that set the class regardless of the score"
    )
    region_code: str
    # Every indicator's points, largest first; they add up to the score.
    contributions: list[Contribution]


class ClassHistoryEntry(BaseModel):
    risk_class: RiskClass
    score: float
    model_id: str
    model_version: int
    as_of: date
    cause: str
    run_id: int | None


class ClassListItem(BaseModel):
    code: str
    risk_class: RiskClass
    score: float
    as_of: date
    region_code: str
    industry_code: str | None


class ClassPage(BaseModel):
    items: list[ClassListItem]
    next_after: str | None


class RunRequest(BaseModel):
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="e.g. 2026-11")
    as_of: date | None = Field(None, description="default: today (China)")


class RunRead(BaseModel):
    run_id: int
    month: str
    as_of: date
    status: str
    entities: int
    class_counts: dict[str, int]
    changed: int
    psi_classes: float | None
    psi_indicators: dict[str, float]
