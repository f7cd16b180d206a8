"""Streaming readers for CSV and JSON Lines: one row in memory at a time, whatever the
file size. Rows are numbered from 1 (the CSV header is not a row)."""

from __future__ import annotations

import codecs
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


class UnreadableFile(ValueError):
    """The file cannot be read as text at all (not a row's problem): the import stops
    there, keeping the batches written before."""

    def __init__(self, row: int, zh: str, en: str) -> None:
        super().__init__(en)
        self.row, self.zh, self.en = row, zh, en


# Spreadsheet programs on Chinese Windows save CSV as GB18030 (GBK); others as UTF-8.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
ENCODING_SAMPLE_BYTES = 1 << 16


def csv_encoding(stream: BinaryIO) -> str:
    """UTF-8 if the file's start decodes as UTF-8, else GB18030 if it decodes as that.
    Reads a sample and rewinds; a stream that cannot rewind is taken as UTF-8."""
    if not stream.seekable():
        return CSV_ENCODINGS[0]
    start = stream.tell()
    sample = stream.read(ENCODING_SAMPLE_BYTES)
    stream.seek(start)
    for encoding in CSV_ENCODINGS:
        try:
            codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
        except UnicodeDecodeError:
            continue
        return encoding
    return CSV_ENCODINGS[0]


def _read_csv(stream: BinaryIO) -> Iterator[RawRow]:
    encoding = csv_encoding(stream)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    number = 0
    try:
        reader = csv.DictReader(text)
        for number, row in enumerate(reader, start=1):
            if None in row:  # more cells than header columns
                yield RawRow(number, None, "列数多于表头", "more cells than header columns")
                continue
            # An empty CSV cell means "not given", so defaults apply.
            yield RawRow(number, {k: v for k, v in row.items() if v not in ("", None)})
    except UnicodeDecodeError as e:
        name = "UTF-8" if encoding == "utf-8-sig" else "GB18030"
        raise UnreadableFile(
            number + 1,
            f"第{number + 1}行附近的内容不是 {name} 编码，无法读取；此前的行已导入，"
            "请将文件另存为 UTF-8 后重新导入（重复导入不会产生重复数据）",
            f"the bytes near row {number + 1} are not {name}: rows before it were imported; "
            "save the file as UTF-8 and import it again (re-importing is idempotent)",
        ) from e
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
