"""A fast path through entity validation for the rows a bulk import mostly holds.

A row whose every field is already in plain form (stripped text within its length, a
known vocabulary word, an ISO date, a decimal of at most two places, a valid code) is
accepted here with exactly the values ``EntityCreate.model_validate`` gives it. Every
other row, and so every row with a problem, returns None and goes through the schema as
before: rejections and their bilingual reasons stay the schema's own. The limits and
vocabularies are read from the schema, so the two cannot drift apart. Measured: pydantic
validation was the largest single cost of a million-row import."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, get_args

from annotated_types import MaxLen, MinLen

from services.registry.entities.schemas import (
    EntityCreate,
    IndustryCode,
    RegionCode,
    TagName,
    split_list,
)
from services.registry.vocab import (
    ENTITY_STATUSES,
    ENTITY_TYPES,
    LICENCE_KINDS,
    OBJECT_CODE_PATTERN,
    OBJECT_TYPES,
)
from shared.credit_code import (
    AUTHORITY_TYPES,
    CHARSET,
    InvalidCreditCode,
    parse_credit_code,
    uscc_check_char,
)
from shared.workdays import china_today

_FIELDS = EntityCreate.model_fields
_CODE_CHARS = frozenset(CHARSET)
_OBJECT_CODE = re.compile(OBJECT_CODE_PATTERN)  # the schema's rule, applied with .match too
_PLAIN_DECIMAL = re.compile(r"[0-9]{1,14}(?:\.[0-9]{1,2})?")


def _words(vocab: dict[str, str]) -> dict[str, str]:
    """Key or Chinese word -> key, as ``shared.validation.one_of`` reads them (keys win)."""
    return {**{zh: key for key, zh in vocab.items()}, **{key: key for key in vocab}}


_ENTITY_TYPE = _words(ENTITY_TYPES)
_STATUS = _words(ENTITY_STATUSES)
_LICENCE = _words(LICENCE_KINDS)


def _word(words: dict[str, str], value: Any) -> str | None:
    return words.get(value.strip()) if type(value) is str else None


def _text(metadata: list[Any]) -> Callable[[Any], bool]:
    """A check for text that needs no stripping and is within the field's lengths."""
    lo = next((m.min_length for m in metadata if isinstance(m, MinLen)), 0)
    hi = next((m.max_length for m in metadata if isinstance(m, MaxLen)), math.inf)
    return lambda v: type(v) is str and lo <= len(v) <= hi and v == v.strip()


def _pattern(annotated: Any) -> Callable[[Any], bool]:
    """A check for ASCII text matching the field's pattern (pydantic's ``\\d`` would
    also take other scripts' digits; those rows go the slow way)."""
    (info,) = get_args(annotated)[1:]
    regex = re.compile(next(m.pattern for m in info.metadata if getattr(m, "pattern", None)))
    return lambda v: type(v) is str and v.isascii() and regex.fullmatch(v) is not None


_NAME = _text(_FIELDS["name"].metadata)
_LEGAL_REPRESENTATIVE = _text(_FIELDS["legal_representative"].metadata)
_ADDRESS = _text(_FIELDS["address"].metadata)
_TAG = _text(get_args(TagName)[1].metadata)
_REGION = _pattern(RegionCode)
_INDUSTRY = _pattern(IndustryCode)
_OPTIONAL_TEXT = {
    "legal_representative": _LEGAL_REPRESENTATIVE,
    "address": _ADDRESS,
    "industry_code": _INDUSTRY,
}


def fast_entity(values: dict[str, Any]) -> EntityCreate | None:
    """The validated entity when the row is plainly valid, else None (use the schema)."""
    if not values.keys() <= _FIELDS.keys():
        return None
    entity_type = _word(_ENTITY_TYPE, values.get("entity_type"))
    if entity_type is None:
        return None
    code = _code(values.get("code"), entity_type)
    name = values.get("name")
    region_code = values.get("region_code")
    if code is None or not _NAME(name) or not _REGION(region_code):
        return None
    for key, check in _OPTIONAL_TEXT.items():
        if key in values and not check(values[key]):
            return None
    registered_on = _date(values["registered_on"]) if "registered_on" in values else None
    capital = _decimal(values["registered_capital"]) if "registered_capital" in values else None
    status = _word(_STATUS, values.get("status", "active"))
    licences = _licences(values.get("licences", []))
    tags = _tags(values.get("tags", []))
    if (
        (registered_on is None and "registered_on" in values)
        or (capital is None and "registered_capital" in values)
        or status is None
        or licences is None
        or tags is None
    ):
        return None
    # In the schema's field order, as model_validate fills __dict__.
    fields = {
        "name": name,
        "legal_representative": values.get("legal_representative"),
        "address": values.get("address"),
        "region_code": region_code,
        "industry_code": values.get("industry_code"),
        "registered_on": registered_on,
        "registered_capital": capital,
        "status": status,
        "licences": licences,
        "tags": tags,
        "entity_type": entity_type,
        "code": code,
    }
    return _constructed(fields, set(values))


def _constructed(fields: dict[str, Any], fields_set: set[str]) -> EntityCreate:
    """``EntityCreate.model_construct(fields_set, **fields)`` for a complete, ordered
    ``fields``: the same four attributes it sets, without its per-field alias and default
    search, which cost as much as the rest of this path."""
    item = EntityCreate.__new__(EntityCreate)
    _set(item, "__dict__", fields)
    _set(item, "__pydantic_fields_set__", fields_set)
    _set(item, "__pydantic_extra__", None)
    _set(item, "__pydantic_private__", None)
    return item


_set = object.__setattr__


def _code(value: Any, entity_type: str) -> str | None:
    if type(value) is not str or value != value.strip():
        return None
    if entity_type in OBJECT_TYPES:
        return value if _OBJECT_CODE.match(value) else None
    if _plain_uscc(value):
        return value
    try:
        return parse_credit_code(value).value
    except InvalidCreditCode:
        return None


def _plain_uscc(code: str) -> bool:
    """True for a code parse_credit_code accepts as it is: 18 characters of the code's
    alphabet, a known authority and type, a numeric region and the right check
    character. Cheaper than parsing (no exception paths, no CreditCode object); the
    other forms (lower case, 15-digit numbers, bad codes) go to parse_credit_code."""
    return (
        len(code) == 18
        and _CODE_CHARS.issuperset(code)
        and code[1] in AUTHORITY_TYPES.get(code[0], "")
        and code[2:8].isdigit()
        and uscc_check_char(code[:17]) == code[17]
    )


def _date(value: Any) -> date | None:
    """A YYYY-MM-DD date not after today (China), else None."""
    if type(value) is not str or len(value) != 10 or not value.isascii():
        return None
    if value[4] != "-" or value[7] != "-":  # fromisoformat would also read other forms
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return day if day <= china_today() else None


def _decimal(value: Any) -> Decimal | None:
    """A non-negative amount of at most 14 whole digits and 2 decimal places, converted as
    pydantic converts it (a float through its shortest repr), else None."""
    if type(value) is float:
        text = repr(value)
    elif type(value) is int or type(value) is str:
        text = str(value)
    else:
        return None
    return Decimal(text) if _PLAIN_DECIMAL.fullmatch(text) else None


def _licences(value: Any) -> list[str] | None:
    items = split_list(value)
    if type(items) is not list:
        return None
    keys = set()
    for item in items:
        key = _word(_LICENCE, item)
        if key is None:
            return None
        keys.add(key)
    return sorted(keys)


def _tags(value: Any) -> list[str] | None:
    items = split_list(value)
    if type(items) is not list or not all(_TAG(t) for t in items):
        return None
    return sorted(set(items))
