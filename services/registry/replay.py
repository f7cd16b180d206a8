"""The registry's streams for resync (``shared.replay``): its current state as the events
that would rebuild a consumer's copy, and the figures consumers compare theirs with."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from services.registry.entities.writer import Change, snapshot_data
from services.registry.models import (
    CreditRecord,
    Entity,
    EntityLicence,
    EntityTag,
    Inspector,
    Relation,
    Tag,
)
from shared.access import DIRECTORY_READ, INSPECTOR_DIRECTORY_READ
from shared.db import chunks
from shared.events import (
    TOPIC_ENTITIES,
    TOPIC_INSPECTORS,
    TOPIC_RECORDS,
    CreditRecordEvent,
    EntitySnapshot,
    InspectorSnapshot,
    RelationChanged,
)
from shared.replay import ReplayStream, SnapshotBatch, keyset_pages
from shared.resync import StreamFigures, table_figures

ENTITIES = cast(Table, Entity.__table__)
INSPECTORS = cast(Table, Inspector.__table__)
RECORDS = cast(Table, CreditRecord.__table__)
RELATIONS = cast(Table, Relation.__table__)


def _by_code(session: Session, query: Any, codes: list[str]) -> dict[str, list[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for chunk in chunks(codes):
        for code, value in session.execute(query(chunk)):
            found[code].add(value)
    return {code: sorted(values) for code, values in found.items()}


def entity_snapshot(session: Session) -> Iterator[list[SnapshotBatch]]:
    for rows in keyset_pages(session, ENTITIES, "code"):
        codes = [r.code for r in rows]
        licences = _by_code(
            session,
            lambda c: select(EntityLicence.code, EntityLicence.kind).where(
                EntityLicence.code.in_(c)
            ),
            codes,
        )
        tags = _by_code(
            session,
            lambda c: (
                select(EntityTag.code, Tag.name)
                .join(Tag, Tag.id == EntityTag.tag_id)
                .where(EntityTag.code.in_(c))
            ),
            codes,
        )
        items = []
        for r in rows:
            # A stored row read as the writer's item (licences kept apart, hence added).
            stored = SimpleNamespace(**r._mapping, licences=licences.get(r.code, []))
            data = snapshot_data(
                stored, version=r.version, change=_change_of(r), tags=tags.get(r.code, [])
            )
            items.append((r.code, data))
        yield [SnapshotBatch(EntitySnapshot, items, [r.updated_at for r in rows])]


def _change_of(row: Any) -> Change:
    """The change kind a snapshot restates: the one its version's event had."""
    if row.status != "active":
        return "deregistered"
    return "registered" if row.version == 1 else "changed"


def inspector_snapshot(session: Session) -> Iterator[list[SnapshotBatch]]:
    fields = list(InspectorSnapshot.model_fields)
    for rows in keyset_pages(session, INSPECTORS, "certificate_no"):
        items = [(r.certificate_no, {f: getattr(r, f) for f in fields}) for r in rows]
        yield [SnapshotBatch(InspectorSnapshot, items, [r.updated_at for r in rows])]


def records_snapshot(session: Session) -> Iterator[list[SnapshotBatch]]:
    """Every record, then every standing relation (removed ones need no event: a consumer
    that never saw them holds nothing to remove)."""
    fields = list(CreditRecordEvent.model_fields)
    for rows in keyset_pages(session, RECORDS, "record_id"):
        items = [(r.code, {f: getattr(r, f) for f in fields}) for r in rows]
        yield [SnapshotBatch(CreditRecordEvent, items, [r.received_at for r in rows])]
    for rows in keyset_pages(session, RELATIONS, "id"):
        standing = [r for r in rows if r.removed_on is None]
        items = [
            (
                r.code,
                {
                    "change": "added",
                    "code": r.code,
                    "kind": r.kind,
                    "counterpart_name": r.counterpart_name,
                    "counterpart_code": r.counterpart_code,
                    "since": r.since,
                },
            )
            for r in standing
        ]
        # Relations keep no change time: the replay's moment stands for it.
        now = datetime.now(UTC)
        yield [SnapshotBatch(RelationChanged, items, [now] * len(items))]


def _figures(stream: str, table: Table, versioned: bool) -> Any:
    def figures(session: Session) -> StreamFigures:
        return table_figures(session, stream, table, table.c.version if versioned else None)

    return figures


STREAMS = [
    ReplayStream(
        "entities",
        TOPIC_ENTITIES,
        DIRECTORY_READ,
        _figures(TOPIC_ENTITIES, ENTITIES, True),
        entity_snapshot,
    ),
    ReplayStream(
        "inspectors",
        TOPIC_INSPECTORS,
        INSPECTOR_DIRECTORY_READ,
        _figures(TOPIC_INSPECTORS, INSPECTORS, True),
        inspector_snapshot,
    ),
    # Records carry no versions (they are immutable): their figure is a count, of records
    # only. No consumer checks it yet: scoring keeps only the records an indicator reads.
    ReplayStream(
        "records",
        TOPIC_RECORDS,
        DIRECTORY_READ,
        _figures(TOPIC_RECORDS, RECORDS, False),
        records_snapshot,
    ),
]
