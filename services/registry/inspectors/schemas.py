"""Schemas of the inspector directory (执法检查人员名录库). The same ``InspectorCreate``
validates API bodies and import rows."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from services.registry.entities.schemas import RegionCode, split_list
from services.registry.vocab import INSPECTOR_STATUSES, OBJECT_CODE_PATTERN, SPECIALTIES
from shared.credit_code import InvalidCreditCode, parse_credit_code
from shared.validation import BilingualError, IsoDate, one_of, unchanged

StatusField = Annotated[str, BeforeValidator(one_of(INSPECTOR_STATUSES, "人员状态"))]
_OBJECT_CODE = re.compile(OBJECT_CODE_PATTERN)
_REGION = re.compile(r"^\d{6}$")


def _list_of(check: Callable[[Any], str]) -> Callable[[Any], Any]:
    """A before-validator for a whole list ('a;b' or an array), so a bad element is
    reported against the field itself (``specialties``), as the import report expects.
    The result is sorted and de-duplicated: the content hash must not depend on order."""

    def validate(value: Any) -> Any:
        value = split_list(value)
        if value is None:
            return value
        if not isinstance(value, list):
            raise BilingualError(
                "应为列表（CSV 中以 ; 分隔）", "must be a list (';'-separated in CSV)"
            )
        return sorted({check(v) for v in value})

    return validate


def _entity_code(value: Any) -> str:
    if not isinstance(value, str):
        raise BilingualError("对象编号应为文本", "entity code must be a string")
    v = value.strip()
    if _OBJECT_CODE.match(v):
        return v
    try:
        return parse_credit_code(v).value
    except InvalidCreditCode as e:
        raise BilingualError(f"回避对象 {v}: {e.zh}", f"avoid_entities {v}: {e.en}") from e


def _region_code(value: Any) -> str:
    v = str(value).strip()
    if not _REGION.match(v):
        raise BilingualError(f"行政区划码 {v} 应为6位数字", f"region code {v} must be 6 digits")
    return v


def _person(value: Any) -> str:
    v = str(value).strip()
    if not v or len(v) > 100:
        raise BilingualError(
            "回避人员姓名应为1–100个字", "a person's name must be 1–100 characters"
        )
    return v


Specialties = Annotated[list[str], BeforeValidator(_list_of(one_of(SPECIALTIES, "业务专长")))]
EntityCodes = Annotated[list[str], BeforeValidator(_list_of(_entity_code))]
RegionCodes = Annotated[list[str], BeforeValidator(_list_of(_region_code))]
PersonNames = Annotated[list[str], BeforeValidator(_list_of(_person))]


class InspectorFields(BaseModel):
    """Declared fields of an inspector (everything but the certificate number)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: str = Field(min_length=1, max_length=60)
    department: str = Field(min_length=1, max_length=100, description="e.g. 食品生产科")
    region_code: RegionCode
    certificate_expires_on: IsoDate | None = None
    specialties: Specialties = Field(
        default_factory=list, description="业务专长: " + ", ".join(SPECIALTIES)
    )
    status: StatusField = "on_duty"
    is_professional: bool = Field(
        default=False, description="专业技术人员: may assist, never act alone"
    )
    avoid_entities: EntityCodes = Field(
        default_factory=list, description="codes they must not inspect"
    )
    avoid_regions: RegionCodes = Field(
        default_factory=list, description="region codes (prefix rule as jurisdiction)"
    )
    avoid_persons: PersonNames = Field(default_factory=list, description="related persons' names")


class InspectorCreate(InspectorFields):
    certificate_no: str = Field(min_length=1, max_length=40, description="执法证号")


class InspectorUpdate(BaseModel):
    """PATCH body: only the fields given change; null is refused except for the one field
    that may be empty (see ``EntityUpdate``)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: str = unchanged(min_length=1, max_length=60)
    department: str = unchanged(min_length=1, max_length=100)
    region_code: RegionCode = unchanged()
    certificate_expires_on: IsoDate | None = None
    specialties: Specialties = unchanged()
    status: StatusField = unchanged()
    is_professional: bool = unchanged()
    avoid_entities: EntityCodes = unchanged()
    avoid_regions: RegionCodes = unchanged()
    avoid_persons: PersonNames = unchanged()


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: StatusField = Field(description="on_duty 在岗 | transferred 调离 | retired 退休")


class InspectorRead(BaseModel):
    certificate_no: str
    name: str
    department: str
    region_code: str
    certificate_expires_on: date | None
    specialties: list[str]
    status: str
    is_professional: bool
    avoid_entities: list[str]
    avoid_regions: list[str]
    avoid_persons: list[str]
    certificate_valid: bool = Field(
        description="not expired as of today (no expiry recorded counts as valid)"
    )
    can_act_alone: bool = Field(
        description="on duty, valid certificate, and not professional staff"
    )
    version: int
    created_at: datetime
    updated_at: datetime


class InspectorPage(BaseModel):
    items: list[InspectorRead]
    next_after: str | None = Field(description="pass as `after` for the next page; null at the end")
