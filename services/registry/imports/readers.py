"""Streaming readers for CSV and JSON Lines: one row in memory at a time, whatever the
file size. Rows are numbered from 1 (the CSV header is not a row)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Literal, NamedTuple

import orjson

Format = Literal["csv", "jsonl"]


class RawRow(NamedTuple):
    # A named tuple, not a frozen dataclass: one per row, cheaper to make.
    number: int
    values: dict[str, Any] | None  # None when the line itself could not be parsed
    error_zh: str | None = None
    error_en: str | None = None


def guess_format(name: str) -> Format:
    lower = name.lower()
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lower.endswith((".csv", ".txt")):
        return "csv"
    raise ValueError(f"cannot tell the format of {name}: use .csv or .jsonl")


def read_rows(stream: BinaryIO, fmt: Format) -> Iterator[RawRow]:
    if fmt == "csv":
        yield from _read_csv(stream)
    else:
        yield from _read_jsonl(stream)


def _read_csv(stream: BinaryIO) -> Iterator[RawRow]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        reader = csv.DictReader(text)
        for number, row in enumerate(reader, start=1):
            if None in row:  # more cells than header columns
                yield RawRow(number, None, "列数多于表头", "more cells than header columns")
                continue
            # An empty CSV cell means "not given", so defaults apply.
            yield RawRow(number, {k: v for k, v in row.items() if v not in ("", None)})
    finally:
        # The caller owns the stream (and reads its position for progress): a wrapper
        # left to the collector would close it.
        text.detach()


def _read_jsonl(stream: BinaryIO) -> Iterator[RawRow]:
    number = 0
    for line in stream:
        if not line.strip():
            continue
        number += 1
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as e:
            yield RawRow(number, None, f"不是有效的 JSON: {e}", f"not valid JSON: {e}")
            continue
        if not isinstance(value, dict):
            yield RawRow(number, None, "每行应为一个 JSON 对象", "each line must be a JSON object")
            continue
        if None in value.values():  # null means "not given" (checked first: rarely so)
            value = {k: v for k, v in value.items() if v is not None}
        yield RawRow(number, value)


def open_rows(path: Path, fmt: Format | None = None) -> Iterator[RawRow]:
    with path.open("rb") as f:
        yield from read_rows(f, fmt or guess_format(path.name))
