"""Validation errors that carry their reason in Chinese (for officers) and English, so the
HTTP error body and the import report can name the field and say what is wrong."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import BeforeValidator, Field, ValidationError

# Chinese wording for pydantic's own error types (the ones our schemas can raise).
_PYDANTIC_ZH = {
    "missing": "必填字段缺失",
    "string_too_long": "内容过长",
    "string_too_short": "内容不能为空",
    "string_pattern_mismatch": "格式不正确",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "decimal_parsing": "应为数字",
    "decimal_type": "应为数字",
    "float_parsing": "应为数字",
    "int_parsing": "应为整数",
    "bool_parsing": "应为是/否 (true/false)",
    "greater_than_equal": "数值不能小于下限",
    "less_than_equal": "数值超过上限",
    "list_type": "应为列表",
    "dict_type": "应为 JSON 对象",
    "literal_error": "取值不在允许范围内",
    "extra_forbidden": "不允许的字段",
    "string_type": "应为文本",
    "json_invalid": "请求体不是有效的 JSON",
    "int_type": "应为整数",
    "bool_type": "应为是/否 (true/false)",
    "float_type": "应为数字",
    "enum": "取值不在允许范围内",
}


# Integers the stores can hold: SQLite and PostgreSQL keep at most a signed 64-bit integer,
# and a bigger one raised OverflowError deep in the driver (a 500, not a 422).
MAX_STORED_INT = 2**63 - 1
# annotated-types bounds (not pydantic.Field) so that the same alias serves body fields and
# FastAPI path and query parameters.
StoredInt = Annotated[int, Ge(-MAX_STORED_INT), Le(MAX_STORED_INT)]
StoredId = Annotated[int, Ge(1), Le(MAX_STORED_INT)]
StoredCount = Annotated[int, Ge(0), Le(MAX_STORED_INT)]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


NULL_ZH = "不能为空 (null)；不修改该字段请省略它"
NULL_EN = "cannot be null; leave the field out to keep its value"


class BilingualError(ValueError):
    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en


@dataclass(frozen=True)
class FieldProblem:
    field: str
    zh: str
    en: str


def problems_of(exc: ValidationError | Any) -> list[FieldProblem]:
    """Works for pydantic and FastAPI request validation errors alike."""
    out = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err.get("loc", ())) or "(row)"
        ctx_error = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_error, BilingualError):
            out.append(FieldProblem(field, ctx_error.zh, ctx_error.en))
        elif err.get("input", ...) is None and err["type"].endswith("_type"):
            # An explicit null where a value is needed, e.g. {"name": null} in a PATCH
            # body, where leaving the field out keeps its value.
            out.append(FieldProblem(field, NULL_ZH, NULL_EN))
        else:
            zh = _PYDANTIC_ZH.get(err["type"], "字段值无效")
            out.append(FieldProblem(field, zh, err.get("msg", "invalid value")))
    return out


def one_of(vocab: dict[str, str], what_zh: str) -> Callable[[Any], str]:
    """A before-validator accepting a vocabulary key or its Chinese word."""

    def check(value: Any) -> str:
        if value is None:
            raise BilingualError(f"{what_zh}{NULL_ZH}", NULL_EN)
        if not isinstance(value, str):
            raise BilingualError(f"{what_zh}应为文本", "must be a string")
        v = value.strip()
        if v in vocab:
            return v
        for key, zh in vocab.items():
            if zh == v:
                return key
        allowed = "、".join(f"{k}({zh})" for k, zh in vocab.items())
        raise BilingualError(
            f"{what_zh}“{v}”无效，可选: {allowed}", f"'{v}' is not one of {', '.join(vocab)}"
        )

    return check


def _iso_date_only(value: Any) -> Any:
    """Dates are written YYYY-MM-DD. Pydantic alone would read an integer (or a string of
    digits) as a Unix timestamp, so that ``as_of=0`` became 1970-01-01."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        return value.strip()  # pydantic then checks that the day exists
    raise BilingualError("日期格式应为 YYYY-MM-DD", "must be a date written YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]
"""A calendar date as text YYYY-MM-DD (or a date object): never a number."""


def unchanged(**constraints: Any) -> Any:
    """A PATCH field that may be left out (keeping the stored value) but not set to null:
    typed without ``| None`` and defaulting to None, which pydantic never validates, so
    only an explicit null meets the type and is refused naming the field."""
    return Field(default=None, **constraints)
