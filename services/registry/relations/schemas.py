"""Schemas of relations (关联关系) between an entity and a person or another entity."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from services.registry.records.schemas import normalise_code
from services.registry.vocab import RELATION_KINDS
from shared.credit_code import parse_credit_code
from shared.validation import BilingualError, IsoDate, one_of
from shared.workdays import china_today

RelationKindField = Annotated[str, BeforeValidator(one_of(RELATION_KINDS, "关联类型"))]


class RelationCreate(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    code: Annotated[str, BeforeValidator(normalise_code)] = Field(min_length=1, max_length=40)
    kind: RelationKindField
    counterpart_name: str = Field(
        min_length=1,
        max_length=200,
        description="person or entity on the other side, e.g. the shareholder",
    )
    counterpart_code: str | None = Field(
        default=None, description="credit code of the counterpart when it is an entity"
    )
    since: IsoDate | None = None

    @field_validator("counterpart_code")
    @classmethod
    def _check_code(cls, v: str | None) -> str | None:
        return parse_credit_code(v).value if v else None

    @field_validator("since")
    @classmethod
    def _not_in_future(cls, v: date | None) -> date | None:
        if v is not None and v > china_today():
            raise BilingualError("起始日期不能晚于今天", "since is in the future")
        return v


RelationSource = Literal["declared", "directory"]


class RelationRead(BaseModel):
    id: int | None = Field(description="null for relations computed from the directory")
    code: str
    kind: str
    counterpart_name: str
    counterpart_code: str | None
    since: date | None
    removed_on: date | None
    source: RelationSource = Field(
        description="declared: collected and stored; directory: computed from entities sharing "
        "the registered address (same_address, 一址多照) or the legal representative's name"
    )
    shared_value: str | None = Field(
        default=None, description="for directory relations: the shared address or person's name"
    )


class EntityRelations(BaseModel):
    code: str
    items: list[RelationRead]
    truncated: bool = Field(description="more directory matches exist than the limit returned")
