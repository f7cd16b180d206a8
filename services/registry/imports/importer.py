"""Bulk import of entities, records and inspectors.

Rows stream in, are validated one by one against the same schemas as the API, and go to
the store in batches through each concept's single write path, one transaction per
batch. A bad row is reported (row number, field, reason in Chinese and English) and the
good rows are kept. Importing the same file again changes nothing and emits no events,
because every writer skips rows identical to what it holds."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal, Protocol

from pydantic import BaseModel, ValidationError
from sqlalchemy import Table
from sqlalchemy.orm import Session, sessionmaker

from services.registry.entities.schemas import EntityCreate
from services.registry.entities.writer import ENTITIES, TagCache, write_entities
from services.registry.imports.fast_entities import fast_entity
from services.registry.imports.readers import (
    Format,
    RawRow,
    UnreadableFile,
    guess_format,
    read_rows,
)
from services.registry.tags.rules import RuleSet
from shared.collector import cyclic_gc_paused
from shared.db import bulk_load, refresh_statistics, select_by_keys
from shared.outbox import Outbox
from shared.validation import problems_of

Kind = Literal["entities", "records", "inspectors"]
ERRORS_KEPT_IN_MEMORY = 1000
# Rows per transaction. Each commit writes every index page the batch touched, and the
# random keys (code, address, legal representative) touch a page per row once the
# indexes are large: measured on SQLite at 500,000 entities, 5,000 a batch spent a third
# of the import writing pages (10,500 entities/s), 20,000 shared them (12,700/s) and
# kept peak RSS at 340 MB; 50,000 gained nothing more and passed 500 MB.
DEFAULT_BATCH_SIZE = 20_000
# Rows written by one import past which the store's planner statistics are refreshed.
REFRESH_STATISTICS_AFTER = 50_000


class Outcome(Protocol):
    action: str


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    reason_zh: str
    reason_en: str


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first ERRORS_KEPT_IN_MEMORY
    # Where reading stopped when the rest of the file could not be read (its encoding).
    unreadable: RowError | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }


@dataclass(frozen=True)
class Jurisdiction:
    """Where a row of a kind lies, for imports limited to an officer's jurisdiction: the
    region it carries, if any, and the region of the stored object it would change,
    looked up in ``table`` by ``key_column``."""

    field: str  # named in the rejection
    own_region: Callable[[Any], str | None]
    table: Table
    key_column: str
    stored_key: Callable[[Any], str]


@dataclass(frozen=True)
class ImportKind:
    schema: type[BaseModel]
    key: Callable[[Any], str]
    jurisdiction: Jurisdiction
    # write(session, outbox, items) -> per-item outcomes, in order; an outcome whose
    # action is "error" carries field/reason_zh/reason_en.
    make_writer: Callable[[Session], Callable[[Session, Outbox, Sequence[Any]], Sequence[Any]]]
    # Validates plainly valid rows without the schema, giving what it would; None: ask it.
    fast: Callable[[dict[str, Any]], BaseModel | None] | None = None


def import_kind(kind: Kind) -> ImportKind:
    """Schema, key and batch writer of each kind; each concept owns its one write path."""
    if kind == "entities":

        def entity_writer(session: Session) -> Any:
            rules, tags = RuleSet.load(session), TagCache()
            return lambda s, o, items: write_entities(s, o, items, rules=rules, tags=tags)

        where = Jurisdiction("region_code", _region, ENTITIES, "code", _code)
        return ImportKind(EntityCreate, _code, where, entity_writer, fast_entity)
    if kind == "records":
        from services.registry.records.schemas import RecordCreate
        from services.registry.records.writer import write_records

        # A record lies where its entity does; an unknown entity is the writer's rejection.
        where = Jurisdiction("code", lambda _m: None, ENTITIES, "code", _code)
        return ImportKind(RecordCreate, lambda m: m.record_id, where, lambda _s: write_records)
    from services.registry.inspectors.schemas import InspectorCreate
    from services.registry.inspectors.writer import INSPECTORS, write_inspectors

    def certificate(m: Any) -> str:
        return m.certificate_no

    where = Jurisdiction("region_code", _region, INSPECTORS, "certificate_no", certificate)
    return ImportKind(InspectorCreate, certificate, where, lambda _s: write_inspectors)


def _code(item: Any) -> str:
    return item.code


def _region(item: Any) -> str | None:
    return item.region_code


def csv_report(out: IO[str]) -> Callable[[RowError], None]:
    """Streams every rejection to ``out`` as CSV, header first: the full report (the
    CLI's file, the import job's download)."""
    writer = csv.writer(out)
    writer.writerow(["row", "field", "reason_zh", "reason_en"])
    return lambda err: writer.writerow([err.row, err.field, err.reason_zh, err.reason_en])


class ErrorSink:
    """Keeps the first errors for the answer and hands every one to ``on_error``."""

    def __init__(self, report: ImportReport, on_error: Callable[[RowError], None] | None) -> None:
        self.report = report
        self.on_error = on_error

    def reject(self, errors: Sequence[RowError]) -> None:
        """One rejected row, with every problem found in it."""
        self.report.rejected += 1
        for err in errors:
            if len(self.report.errors) < ERRORS_KEPT_IN_MEMORY:
                self.report.errors.append(err)
            if self.on_error:
                self.on_error(err)


def run_import(
    sessions: sessionmaker[Session],
    outbox: Outbox,
    kind: Kind,
    stream: BinaryIO,
    fmt: Format,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_error: Callable[[RowError], None] | None = None,
    progress: Callable[[ImportReport], None] | None = None,
    record: Callable[[Session, ImportReport], None] | None = None,
    scope: str | None = None,
) -> ImportReport:
    """Import ``stream``. ``on_error`` gets every rejection (the report keeps the first
    ERRORS_KEPT_IN_MEMORY); ``progress`` the report after each batch has committed.
    ``record`` writes bookkeeping (an import job's counts and heartbeat) in each batch's
    own transaction, after its rows: the counts commit with the rows they count, and on
    the bulk load's connection. A commit from any other connection checkpoints SQLite's
    WAL, which ``bulk_load`` lets grow: measured at 1,000,000 entities, a job's progress
    written on its own connection after every batch wrote the batch's pages back each
    time, 20 s of a 141 s import. ``scope``: the region prefix of the importing
    officer's jurisdiction; rows outside it (or changing an object outside it) are
    rejected. None for imports run on the server itself (the CLI)."""
    spec = import_kind(kind)
    report = ImportReport(kind=kind)
    sink = ErrorSink(report, on_error)
    with sessions() as session:
        write = spec.make_writer(session)
    batch: list[tuple[int, BaseModel]] = []
    keys: set[str] = set()

    def flush() -> None:
        if batch:
            _write_batch(batch_session, outbox, write, batch, report, sink, spec, scope, record)
            batch.clear()
            keys.clear()
            if progress:
                progress(report)

    with bulk_load(sessions) as batch_session, cyclic_gc_paused():
        try:
            for raw in read_rows(stream, fmt):
                report.rows += 1
                item = _validate(spec, raw, sink)
                if item is None:
                    continue
                key = spec.key(item)
                if key in keys:  # the same key twice in a batch: first the first
                    flush()
                batch.append((raw.number, item))
                keys.add(key)
                if len(batch) >= batch_size:
                    flush()
        except UnreadableFile as e:  # the rows read so far are still written
            report.unreadable = RowError(e.row, "file", e.zh, e.en)
        flush()
    if report.created + report.updated >= REFRESH_STATISTICS_AFTER:
        refresh_statistics(sessions)
    return report


def _validate(spec: ImportKind, raw: RawRow, sink: ErrorSink) -> BaseModel | None:
    if raw.values is None:
        sink.reject([RowError(raw.number, "(row)", raw.error_zh or "", raw.error_en or "")])
        return None
    if spec.fast is not None:
        item = spec.fast(raw.values)
        if item is not None:
            return item
    try:
        return spec.schema.model_validate(raw.values)
    except ValidationError as exc:
        sink.reject([RowError(raw.number, p.field, p.zh, p.en) for p in problems_of(exc)])
        return None


def _write_batch(
    sessions: Callable[[], Session],
    outbox: Outbox,
    write: Callable[[Session, Outbox, Sequence[Any]], Sequence[Any]],
    batch: Sequence[tuple[int, BaseModel]],
    report: ImportReport,
    sink: ErrorSink,
    spec: ImportKind,
    scope: str | None,
    record: Callable[[Session, ImportReport], None] | None,
) -> None:
    with sessions() as session, session.begin():
        if scope is not None:
            batch = _within(session, spec.jurisdiction, scope, batch, sink)
        outcomes = write(session, outbox, [item for _, item in batch])
        _count(batch, outcomes, report, sink)
        if record:
            record(session, report)


def _count(
    batch: Sequence[tuple[int, BaseModel]],
    outcomes: Sequence[Any],
    report: ImportReport,
    sink: ErrorSink,
) -> None:
    for (number, _), outcome in zip(batch, outcomes, strict=True):
        action = outcome.action
        if action == "created":
            report.created += 1
        elif action == "updated":
            report.updated += 1
        elif action == "unchanged":
            report.unchanged += 1
        else:
            sink.reject([RowError(number, outcome.field, outcome.reason_zh, outcome.reason_en)])


def _within(
    session: Session,
    where: Jurisdiction,
    scope: str,
    batch: Sequence[tuple[int, BaseModel]],
    sink: ErrorSink,
) -> list[tuple[int, BaseModel]]:
    """The rows of ``batch`` inside ``scope``; the others are rejected. A row is inside
    when the region it carries and the stored object's region both are: an officer may
    neither create outside the jurisdiction nor move an object in from outside."""
    keys = [where.stored_key(item) for _, item in batch]
    columns = (where.key_column, "region_code")
    stored: dict[str, str] = {
        key: region
        for key, region in select_by_keys(session, where.table, columns, where.key_column, keys)
    }
    kept = []
    for (number, item), key in zip(batch, keys, strict=True):
        regions = [where.own_region(item), stored.get(key)]
        if all(r is None or r.startswith(scope) for r in regions):
            kept.append((number, item))
        else:
            zh = f"不在您的辖区（{scope}）内"
            sink.reject([RowError(number, where.field, zh, f"outside your jurisdiction ({scope})")])
    return kept


def import_file(
    sessions: sessionmaker[Session], outbox: Outbox, kind: Kind, path: Path, **kwargs: Any
) -> ImportReport:
    with path.open("rb") as f:
        return run_import(sessions, outbox, kind, f, guess_format(path.name), **kwargs)
