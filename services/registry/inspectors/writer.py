"""The one write path for inspectors, in batches: the API writes a batch of one, the
importer batches of thousands. Unchanged inspectors (same content hash) are skipped and
emit nothing; a changed one gets version + 1 and one ``InspectorSnapshot``. Only flushes;
the caller's transaction commits the rows and their outbox events together."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

import orjson
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from services.registry.inspectors.schemas import InspectorCreate
from services.registry.models import Inspector
from shared.db import chunks
from shared.events import InspectorSnapshot
from shared.outbox import Outbox

INSPECTORS = cast(Table, Inspector.__table__)
Action = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class InspectorOutcome:
    certificate_no: str
    action: Action
    version: int


def content_hash(item: InspectorCreate) -> str:
    return hashlib.sha256(
        orjson.dumps(item.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    ).hexdigest()


def write_inspectors(
    session: Session, outbox: Outbox, items: Sequence[InspectorCreate]
) -> list[InspectorOutcome]:
    """Create or update ``items`` in order. A certificate number repeated in the batch is
    applied in turn, as if written one after the other."""
    held: dict[str, tuple[str, int]] = {}
    for chunk in chunks(sorted({i.certificate_no for i in items})):
        for no, h, version in session.execute(
            select(Inspector.certificate_no, Inspector.content_hash, Inspector.version).where(
                Inspector.certificate_no.in_(chunk)
            )
        ):
            held[no] = (h, version)

    now = datetime.now(UTC)
    new_rows: dict[str, dict[str, Any]] = {}
    changed_rows: dict[str, dict[str, Any]] = {}
    snapshots: list[InspectorSnapshot] = []
    outcomes: list[InspectorOutcome] = []
    for item in items:
        h = content_hash(item)
        old = held.get(item.certificate_no)
        if old is not None and old[0] == h:
            outcomes.append(InspectorOutcome(item.certificate_no, "unchanged", old[1]))
            continue
        version = 1 if old is None else old[1] + 1
        row = {**item.model_dump(), "content_hash": h, "version": version, "updated_at": now}
        if item.certificate_no in new_rows or old is None:
            new_rows[item.certificate_no] = {**row, "created_at": now}
        else:
            changed_rows[item.certificate_no] = row
        held[item.certificate_no] = (h, version)
        snapshots.append(InspectorSnapshot(version=version, **item.model_dump()))
        outcomes.append(
            InspectorOutcome(item.certificate_no, "created" if old is None else "updated", version)
        )

    if new_rows:
        session.execute(insert(INSPECTORS), list(new_rows.values()))
    if changed_rows:
        session.execute(
            update(INSPECTORS).where(INSPECTORS.c.certificate_no == bindparam("b_no")),
            [
                {
                    **{k: v for k, v in r.items() if k != "certificate_no"},
                    "b_no": r["certificate_no"],
                }
                for r in changed_rows.values()
            ],
        )
    outbox.add(session, *snapshots)
    return outcomes
