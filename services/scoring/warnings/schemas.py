"""What the warnings API reads and writes. No schema here has a field for a risk class or
a score: warnings are shown to officers who may not read classes (内部参考)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from services.scoring.warnings.lifecycle import ACTIONS
from shared.validation import one_of

Status = Literal["raised", "actioned", "closed"]
Action = Literal["remind", "warn", "interview", "inspect"]


class WarningRead(BaseModel):
    warning_id: str
    code: str
    entity_name: str | None = Field(description="from the projection; null if not projected")
    rule_id: str
    rule_name: str = Field(description="e.g. 异常变更")
    status: Status
    status_zh: str
    region_code: str
    summary: str = Field(description="why it was raised, in Chinese")
    summary_en: str
    details: dict[str, Any] = Field(
        description="the evidence; entities outside the caller's jurisdiction are only counted"
    )
    raised_on: date
    raised_at: datetime
    action: Action | None
    action_zh: str | None
    actioned_by: str | None
    actioned_at: datetime | None
    action_note: str | None
    closed_by: str | None
    closed_at: datetime | None
    close_note: str | None


class WarningPage(BaseModel):
    items: list[WarningRead]
    next_after: str | None = Field(description="pass as `after` for the next page; null at the end")


class WarningActionCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"action": "约谈", "note": "已约谈法定代表人"}]}
    )

    action: Annotated[Action, BeforeValidator(one_of(ACTIONS, "处置措施"))] = Field(
        description="提醒/警示/约谈/检查, or remind/warn/interview/inspect"
    )
    note: str | None = Field(default=None, max_length=2000)


class WarningClose(BaseModel):
    note: str = Field(min_length=1, max_length=2000, description="办结说明, required")


class RuleRead(BaseModel):
    rule_id: str
    name: str
    name_en: str
    description: str
    description_en: str
    enabled: bool
    params: dict[str, Any]
    updated_at: datetime
    updated_by: str


class RuleUpdate(BaseModel):
    """The whole rule: every parameter of the rule must be given (PUT replaces)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"enabled": True, "params": {"min_entities": 5, "window_days": 30}}]
        },
    )

    enabled: bool
    params: dict[str, Any]
