from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.registry.entities.schemas import LicenceKind
from shared.validation import BilingualError


class TagCreate(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")
    name: str = Field(min_length=1, max_length=60, examples=["加油站"])
    description: str | None = Field(default=None, max_length=300)


class TagRead(BaseModel):
    id: int
    name: str
    description: str | None
    entities: int = Field(description="objects carrying the tag (manual or by rule)")


IndustryPrefix = Annotated[str, Field(pattern=r"^\d{1,4}$")]


class TagRuleCreate(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")
    tag: str = Field(min_length=1, max_length=60, description="tag name; created if missing")
    industry_prefixes: list[IndustryPrefix] = Field(default_factory=list, examples=[["5265"]])
    licence_kinds: list[LicenceKind] = Field(default_factory=list, examples=[["fuel_retail"]])

    @model_validator(mode="after")
    def _needs_a_condition(self) -> TagRuleCreate:
        if not self.industry_prefixes and not self.licence_kinds:
            raise BilingualError(
                "规则至少需要行业代码或许可类型之一",
                "a rule needs industry_prefixes or licence_kinds",
            )
        return self


class TagRuleRead(BaseModel):
    id: int
    tag: str
    industry_prefixes: list[str]
    licence_kinds: list[str]
    active: bool
    created_at: datetime
    entities_retagged: int | None = Field(default=None, description="objects whose tags changed")
