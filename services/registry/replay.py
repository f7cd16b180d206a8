"""The registry's streams for resync (``shared.replay``): its current state as the events
that would rebuild a consumer's copy, and the figures consumers compare theirs with."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

# The writer's own row layout and event builder (private to it, shared here on purpose:
# a snapshot event must be exactly what the writer would have written for the row).
from services.registry.entities.writer import ENTITY_COLUMNS, Change, entity_event_data
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


def _codes_values(
    session: Session, query: Any, code: Any, first: str, last: str
) -> dict[str, list[str]]:
    """code -> sorted values of ``query`` (code, value) for the codes of one page: a range
    scan of the child table's key (code first), not IN lists of 900 codes."""
    found: dict[str, set[str]] = defaultdict(set)
    for key, value in session.execute(query.where(code.between(first, last))):
        found[key].add(value)
    return {key: sorted(values) for key, values in found.items()}


def entity_snapshot(session: Session) -> Iterator[list[SnapshotBatch]]:
    # The row in the writer's column order is what its event builder takes: measured,
    # rebuilding an item object per row cost a tenth of a 200,000-entity snapshot.
    columns = (*ENTITY_COLUMNS, "updated_at")
    for rows in keyset_pages(session, ENTITIES, "code", columns):
        first, last = rows[0].code, rows[-1].code
        licences = _codes_values(
            session, select(EntityLicence.code, EntityLicence.kind), EntityLicence.code, first, last
        )
        tags = _codes_values(
            session,
            select(EntityTag.code, Tag.name).join(Tag, Tag.id == EntityTag.tag_id),
            EntityTag.code,
            first,
            last,
        )
        items = [
            (
                r.code,
                entity_event_data(
                    tuple(r[: len(ENTITY_COLUMNS)]),
                    _change_of(r),
                    licences.get(r.code, []),
                    tags.get(r.code, []),
                ),
            )
            for r in rows
        ]
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
