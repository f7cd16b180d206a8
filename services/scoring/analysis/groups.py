"""How analysis groups entities: by region (GB/T 2260 prefix of 2, 4 or 6 digits) or by
industry (GB/T 4754 code prefix of 2, 3 or 4 digits — 大类, 中类, 小类 — or level 1, the
门类 section letter derived from the 2-digit division). Also the area a request covers."""

from __future__ import annotations

import re
from bisect import bisect_right

from sqlalchemy import ColumnElement, FromClause, func, literal

from services.scoring.analysis.schemas import By
from shared.auth import Principal, region_prefix
from shared.errors import Forbidden, InvalidInput

UNKNOWN = "unknown"
REGION_LEVELS = (2, 4, 6)
INDUSTRY_LEVELS = (1, 2, 3, 4)
DEFAULT_INDUSTRY_LEVEL = 2

# GB/T 4754-2017: first division of each section (门类) A..T.
_SECTION_STARTS = [1, 6, 13, 44, 47, 51, 53, 61, 63, 66, 70, 71, 73, 76, 80, 83, 84, 86, 91, 97]
_SECTIONS = "ABCDEFGHIJKLMNOPQRST"
_REGION = re.compile(r"^\d{2}(\d{2}){0,2}$")


def section_of(division: str) -> str:
    """门类 letter of a 2-digit division ("52" -> "F"); the division itself if it is none."""
    if not division.isdigit() or not 1 <= int(division) <= 97:
        return division
    return _SECTIONS[bisect_right(_SECTION_STARTS, int(division)) - 1]


def scope_of(principal: Principal, region: str | None) -> str:
    """The region prefix a request covers: the caller's jurisdiction, or the narrower area
    asked for. An area outside (or wider than) the jurisdiction is refused, not narrowed:
    the caller should know the figures are not what was asked."""
    own = principal.region_prefix
    if region is None:
        return own
    region = region.strip()
    if not _REGION.match(region):
        raise InvalidInput(
            "区域须为 GB/T 2260 代码或其 2/4 位前缀",
            message_en="region must be a GB/T 2260 code or its 2- or 4-digit prefix",
            field="region",
        )
    scope = region_prefix(region)
    if not scope.startswith(own):
        raise Forbidden(
            "所查询区域不在您的辖区内",
            message_en="region outside your jurisdiction",
            field="region",
        )
    return scope


def level_of(by: By, level: int | None, scope: str) -> int:
    if by == "region":
        if level is None:
            return min(len(scope) + 2, 6)
        if level not in REGION_LEVELS or level < len(scope):
            raise InvalidInput(
                f"按区域分组时 level 须为 2、4 或 6，且不小于所查询区域的位数 {len(scope)}",
                message_en=f"for region grouping level must be 2, 4 or 6 and at least "
                f"{len(scope)} (the digits of the area)",
                field="level",
            )
        return level
    if level is None:
        return DEFAULT_INDUSTRY_LEVEL
    if level not in INDUSTRY_LEVELS:
        raise InvalidInput(
            "按行业分组时 level 须为 1（门类）、2、3 或 4",
            message_en="for industry grouping level must be 1 (section), 2, 3 or 4",
            field="level",
        )
    return level


def group_column(table: FromClause, by: By, level: int) -> ColumnElement[str]:
    """SQL for the group key. Level 1 groups by division here; ``finish_key`` maps it to
    its section. Literals are inlined so that the expression is the same text wherever it
    is rendered."""
    if by == "region":
        return func.substr(table.c.region_code, 1, _inline(level))
    code = func.nullif(table.c.industry_code, _inline(""))
    return func.substr(code, 1, _inline(max(level, 2)))


def finish_key(by: By, level: int, key: str | None) -> str:
    if key is None or key == "":
        return UNKNOWN
    if by == "industry" and level == 1:
        return section_of(key)
    return key


def _inline(value: object) -> ColumnElement[object]:
    return literal(value, literal_execute=True)
