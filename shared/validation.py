"""Validation errors that carry their reason in Chinese (for officers) and English, so the
HTTP error body and the import report can name the field and say what is wrong."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

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
}


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
        else:
            zh = _PYDANTIC_ZH.get(err["type"], "字段值无效")
            out.append(FieldProblem(field, zh, err.get("msg", "invalid value")))
    return out


def one_of(vocab: dict[str, str], what_zh: str) -> Callable[[Any], str]:
    """A before-validator accepting a vocabulary key or its Chinese word."""

    def check(value: Any) -> str:
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
