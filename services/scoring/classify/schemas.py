"""What officers read about classes. INTERNAL (内部参考): these shapes appear only on
endpoints that require a credit officer and are audited."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from shared.events import RiskClass
from shared.validation import BilingualError, IsoDate
from shared.workdays import china_today


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


# No monthly run can predate credit-risk classification itself (SAMR's 2022 opinion on
# 企业信用风险分类管理); 2000 leaves room to backfill history for evaluation.
FIRST_RUN_YEAR = 2000


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    month: str = Field(
        pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
        description=f"YYYY-MM, from {FIRST_RUN_YEAR}-01 up to the current month (China)",
    )
    as_of: IsoDate | None = Field(
        None,
        description="a day of that month, not after today (default: today for the current "
        "month, the first day for an earlier one)",
    )
    replace_newer: bool = Field(
        False,
        description="allow a month older than the newest run to replace the current classes",
    )

    @field_validator("month")
    @classmethod
    def _real_month(cls, v: str) -> str:
        current = china_today().strftime("%Y-%m")
        if not f"{FIRST_RUN_YEAR}-01" <= v <= current:
            raise BilingualError(
                f"月份应在 {FIRST_RUN_YEAR}-01 至本月 {current} 之间",
                f"month must be from {FIRST_RUN_YEAR}-01 to the current month {current}",
            )
        return v

    @field_validator("as_of")
    @classmethod
    def _as_of_in_month(cls, v: date | None, info: ValidationInfo) -> date | None:
        month = info.data.get("month")  # absent when the month itself was refused
        if v is None or month is None:
            return v
        if v.strftime("%Y-%m") != month:
            raise BilingualError(f"应为 {month} 月内的日期", f"must be a day of {month}")
        if v > china_today():
            raise BilingualError("不能晚于今天", "is in the future")
        return v

    def resolved_as_of(self) -> date:
        if self.as_of is not None:
            return self.as_of
        today = china_today()
        if today.strftime("%Y-%m") == self.month:
            return today
        year, month = map(int, self.month.split("-"))
        return date(year, month, 1)


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
