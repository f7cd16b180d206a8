"""Schemas of inspection objects. The same ``EntityCreate`` validates API bodies and
import rows, so a file and a form are held to one rule."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from services.registry.vocab import (
    ENTITY_STATUSES,
    ENTITY_TYPES,
    LICENCE_KINDS,
    OBJECT_CODE_PATTERN,
    OBJECT_TYPES,
)
from shared.credit_code import parse_credit_code
from shared.validation import BilingualError, IsoDate, one_of, unchanged
from shared.workdays import china_today

EntityTypeField = Annotated[str, BeforeValidator(one_of(ENTITY_TYPES, "主体类型"))]
StatusField = Annotated[str, BeforeValidator(one_of(ENTITY_STATUSES, "登记状态"))]
LicenceKind = Annotated[str, BeforeValidator(one_of(LICENCE_KINDS, "许可类型"))]
RegionCode = Annotated[str, Field(pattern=r"^\d{6}$", description="GB/T 2260 code, e.g. 140502")]
IndustryCode = Annotated[
    str, Field(pattern=r"^\d{2,4}$", description="GB/T 4754-2017 code, e.g. 1512")
]
TagName = Annotated[str, Field(min_length=1, max_length=60)]

_OBJECT_CODE = re.compile(OBJECT_CODE_PATTERN)


def split_list(value: Any) -> Any:
    """CSV cells carry lists as 'a;b'; JSON carries real arrays."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(";") if v.strip()]
    return value


class EntityFields(BaseModel):
    """Declared fields of an object (everything but its key)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    legal_representative: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=300)
    region_code: RegionCode
    industry_code: IndustryCode | None = None
    registered_on: IsoDate | None = None
    registered_capital: Decimal | None = Field(
        default=None, ge=0, max_digits=16, decimal_places=2, description="万元"
    )
    status: StatusField = "active"
    licences: Annotated[list[LicenceKind], BeforeValidator(split_list)] = Field(
        default_factory=list
    )
    tags: Annotated[list[TagName], BeforeValidator(split_list)] = Field(
        default_factory=list, description="manual tags; rule tags are added by the registry"
    )

    @field_validator("registered_on")
    @classmethod
    def _not_in_future(cls, v: date | None) -> date | None:
        if v is not None and v > china_today():
            raise BilingualError("成立日期不能晚于今天", "registration date is in the future")
        return v

    @field_validator("licences", "tags")
    @classmethod
    def _dedupe(cls, v: list[str]) -> list[str]:
        return sorted(set(v))


class EntityCreate(EntityFields):
    # entity_type comes first: the code's rule depends on it.
    entity_type: EntityTypeField
    code: str = Field(
        description="unified social credit code (GB 32100: 18 half-width characters from "
        "0-9 and A-Z without I, O, S, V, Z; lower-case ASCII letters are upper-cased, any "
        "other character is refused), 15-digit legacy number, or object key (P-000123)"
    )

    @field_validator("code")
    @classmethod
    def _check_code(cls, v: str, info: ValidationInfo) -> str:
        entity_type = info.data.get("entity_type")
        if entity_type in OBJECT_TYPES:
            if not _OBJECT_CODE.match(v):
                raise BilingualError(
                    "非主体对象编号格式应为 字母前缀-编号，如 P-000123",
                    f"object key must match {OBJECT_CODE_PATTERN}",
                )
            return v
        return parse_credit_code(v).value

    @property
    def code_kind(self) -> str:
        if self.entity_type in OBJECT_TYPES:
            return "object"
        return "legacy" if len(self.code) == 15 else "uscc"


class EntityUpdate(BaseModel):
    """PATCH body: only the fields given change. A field left out keeps its value; null
    clears a field that may be empty and is refused (422 naming it) for one that may not
    (``unchanged``)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: str = unchanged(min_length=1, max_length=200)
    legal_representative: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=300)
    region_code: RegionCode = unchanged()
    industry_code: IndustryCode | None = None
    registered_on: IsoDate | None = None
    registered_capital: Decimal | None = Field(default=None, ge=0, max_digits=16, decimal_places=2)
    status: StatusField = unchanged()
    licences: Annotated[list[LicenceKind], BeforeValidator(split_list)] = unchanged()
    tags: Annotated[list[TagName], BeforeValidator(split_list)] = unchanged()


class DeregisterRequest(BaseModel):
    status: Annotated[
        str, BeforeValidator(one_of({"deregistered": "注销", "revoked": "吊销"}, "注销类型"))
    ] = "deregistered"


class EntityRead(BaseModel):
    code: str
    code_kind: str
    entity_type: str
    name: str
    legal_representative: str | None
    address: str | None
    region_code: str
    industry_code: str | None
    registered_on: date | None
    registered_capital: Decimal | None
    status: str
    licences: list[str]
    tags: list[str] = Field(description="manual and rule tags")
    manual_tags: list[str]
    version: int
    created_at: datetime
    updated_at: datetime


class EntityPage(BaseModel):
    items: list[EntityRead]
    next_after: str | None = Field(description="pass as `after` for the next page; null at the end")
