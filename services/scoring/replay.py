"""Scoring's streams for resync (``shared.replay``): current classes and warnings as the
events that would rebuild a consumer's copy. Classes are secret (内部参考): their figures
are a count of classified entities, never anything per class, and every route serving
them is behind the credit guard."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import case
from sqlalchemy.orm import Session

from services.scoring.models import entity_classes, warnings
from shared.access import CREDIT
from shared.events import TOPIC_CLASSES, TOPIC_WARNINGS, ClassChanged, WarningChanged
from shared.replay import ReplayStream, SnapshotBatch, keyset_pages
from shared.resync import StreamFigures, table_figures

# A warning only moves forward (raised → actioned → closed): its step is its version.
WARNING_STEP = case(
    (warnings.c.status == "raised", 1), (warnings.c.status == "actioned", 2), else_=3
)


def class_snapshot(session: Session) -> Iterator[list[SnapshotBatch]]:
    for rows in keyset_pages(session, entity_classes, "code"):
        items = [
            (
                r.code,
                {
                    "code": r.code,
                    "risk_class": r.risk_class,
                    "previous_class": None,  # a restatement, not a change
                    "model_id": r.model_id,
                    "model_version": r.model_version,
                    "as_of": r.as_of,
                    "cause": r.cause,
                },
            )
            for r in rows
        ]
        yield [SnapshotBatch(ClassChanged, items, [r.updated_at for r in rows])]


def warning_snapshot(session: Session) -> Iterator[list[SnapshotBatch]]:
    for rows in keyset_pages(session, warnings, "warning_id"):
        items = [
            (
                r.code,
                {
                    "warning_id": r.warning_id,
                    "code": r.code,
                    "rule": r.rule_id,
                    "status": r.status,
                    "action": r.action,
                    "raised_on": r.raised_on,
                },
            )
            for r in rows
        ]
        times = [r.closed_at or r.actioned_at or r.raised_at for r in rows]
        yield [SnapshotBatch(WarningChanged, items, times)]


def class_figures(session: Session) -> StreamFigures:
    # ClassChanged carries no version: a count of classified entities is all there is.
    return table_figures(session, TOPIC_CLASSES, entity_classes)


def warning_figures(session: Session) -> StreamFigures:
    return table_figures(session, TOPIC_WARNINGS, warnings, WARNING_STEP)


STREAMS = [
    ReplayStream("classes", TOPIC_CLASSES, CREDIT, class_figures, class_snapshot),
    ReplayStream("warnings", TOPIC_WARNINGS, CREDIT, warning_figures, warning_snapshot),
]
