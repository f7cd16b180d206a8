"""Schemas of credit-relevant records (信用相关信息) and the list entries they maintain. The
same ``RecordCreate`` validates API bodies and import rows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from services.registry.vocab import RECORD_KINDS
from shared.credit_code import fold_code
from shared.validation import MAX_STORED_INT, BilingualError, IsoDate, one_of
from shared.workdays import china_today

RecordKindField = Annotated[str, BeforeValidator(one_of(RECORD_KINDS, "信息类型"))]


def normalise_code(value: Any) -> Any:
    """Credit codes are stored upper-case; object keys (which always contain '-') keep
    their case, since their number part may be mixed-case."""
    if isinstance(value, str):
        value = value.strip()
        return value if "-" in value else fold_code(value)
    return value


def _payload_object(value: Any) -> Any:
    """CSV carries the payload as a JSON string; JSON Lines and the API as an object."""
    if value is None:
        return {}
    if isinstance(value, str | bytes):
        if not value.strip():
            return {}
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError as e:
            raise BilingualError(
                f"附加信息不是有效的 JSON: {e}", f"payload is not valid JSON: {e}"
            ) from e
    if not isinstance(value, dict):
        raise BilingualError("附加信息应为 JSON 对象", "payload must be a JSON object")
    _check_numbers(value, "payload")
    return value


def _check_numbers(value: Any, path: str) -> None:
    """The payload is stored and hashed as JSON by orjson, which holds integers of 64 bits
    at most; a bigger one (valid JSON) was a 500 at write time."""
    if isinstance(value, bool):
        return
    if isinstance(value, int) and not -MAX_STORED_INT <= value <= MAX_STORED_INT:
        raise BilingualError(
            f"附加信息 {path} 的整数超出 64 位范围", f"{path}: integer beyond 64 bits"
        )
    if isinstance(value, dict):
        for k, v in value.items():
            _check_numbers(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_numbers(v, f"{path}[{i}]")


class RecordCreate(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    record_id: str = Field(
        min_length=1, max_length=64, description="stable id from the source system"
    )
    code: Annotated[str, BeforeValidator(normalise_code)] = Field(
        min_length=1, max_length=40, description="code of an entity in the directory"
    )
    kind: RecordKindField
    occurred_on: IsoDate
    source_department: str = Field(min_length=1, max_length=100, description="来源部门")
    payload: Annotated[dict[str, Any], BeforeValidator(_payload_object)] = Field(
        default_factory=dict, description="kind-specific fields (CSV: a JSON string)"
    )

    @field_validator("occurred_on")
    @classmethod
    def _not_in_future(cls, v: date) -> date:
        if v > china_today():
            raise BilingualError("发生日期不能晚于今天", "occurred_on is in the future")
        return v


class RecordRead(BaseModel):
    record_id: str
    code: str
    kind: str
    occurred_on: date
    source_department: str
    payload: dict[str, Any]
    collected_late: bool = Field(description="received more than 7 working days after occurred_on")
    received_at: datetime


class RecordPage(BaseModel):
    items: list[RecordRead]
    next_after: str | None = Field(
        description="pass as `after` for the next page (`YYYY-MM-DD:record_id`); null at the end"
    )


class ListEntryRead(BaseModel):
    id: int
    code: str
    list_kind: str = Field(
        description="abnormal_operations 经营异常名录 | serious_dishonest 严重违法失信名单"
    )
    listed_on: date
    listing_reason: str | None
    listing_record_id: str
    removed_on: date | None
    removal_reason: str | None
    removal_record_id: str | None
    standing: bool = Field(description="listed and not yet removed")
