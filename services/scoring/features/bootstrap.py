"""Bootstrap scoring's store from the registry's export files (imports/FORMAT.md JSON
Lines, as the generator writes them) without replaying millions of events one by one:
the same projection rows and the same facts (features/facts.py) the consumers would keep.

Used by the evaluation command and the full-run benchmark, and to seed a new province;
afterwards the consumers keep the store current from the broker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.orm import Session, sessionmaker

from services.scoring.features import facts as fact_of
from services.scoring.models import annual_reports, entity_projection, facts
from shared.db import bulk_insert, refresh_statistics

ENTITY_COLUMNS = (
    "code", "code_kind", "name", "entity_type", "region_code", "industry_code", "status",
    "legal_representative", "address", "registered_on", "registered_capital", "tags",
    "licences", "version", "updated_at",
)  # fmt: skip
FACT_COLUMNS = ("source_id", "code", "kind", "detail", "occurred_on", "amount")
CHUNK = 50_000


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as f:
        for line in f:
            if line.strip():
                yield orjson.loads(line)


def code_kind(code: str) -> str:
    return "uscc" if len(code) == 18 else "legacy" if len(code) == 15 else "object"


def _entity_rows(path: Path, now: datetime) -> Iterator[tuple[Any, ...]]:
    for e in _lines(path):
        yield (
            e["code"], code_kind(e["code"]), e["name"], e["entity_type"], e["region_code"],
            e.get("industry_code"), e.get("status", "active"), e.get("legal_representative"),
            e.get("address"),
            date.fromisoformat(e["registered_on"]) if e.get("registered_on") else None,
            e.get("registered_capital"), e.get("tags", []), e.get("licences", []), 1, now,
        )  # fmt: skip


def _chunked(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for r in rows:
        batch.append(r)
        if len(batch) >= CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def bootstrap(
    sessions: sessionmaker[Session],
    folder: Path,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Load ``entities.jsonl`` and ``records.jsonl`` of ``folder`` into an empty store."""
    say = progress or (lambda _what, _n: None)
    now = datetime.now(UTC)
    counts = {"entities": 0, "facts": 0, "annual_reports": 0}
    with sessions() as session, session.begin():
        conn = session.connection()
        for batch in _chunked(_entity_rows(folder / "entities.jsonl", now)):
            bulk_insert(conn, entity_projection, ENTITY_COLUMNS, batch)
            counts["entities"] += len(batch)
            say("entities", counts["entities"])
        reports: dict[str, fact_of.AnnualReport] = {}
        fact_rows: list[tuple[Any, ...]] = []
        for r in _lines(folder / "records.jsonl"):
            fact = fact_of.from_record(
                r["record_id"], r["code"], r["kind"], date.fromisoformat(r["occurred_on"]),
                r.get("payload") or {},
            )  # fmt: skip
            if isinstance(fact, fact_of.AnnualReport):
                known = reports.get(fact.code)
                if known is None or known.year <= fact.year:
                    reports[fact.code] = fact
            elif fact is not None:
                fact_rows.append(
                    (
                        fact.source_id,
                        fact.code,
                        fact.kind,
                        fact.detail,
                        fact.occurred_on,
                        fact.amount,
                    )
                )
                if len(fact_rows) >= CHUNK:
                    bulk_insert(conn, facts, FACT_COLUMNS, fact_rows)
                    counts["facts"] += len(fact_rows)
                    say("facts", counts["facts"])
                    fact_rows = []
        bulk_insert(conn, facts, FACT_COLUMNS, fact_rows)
        counts["facts"] += len(fact_rows)
        bulk_insert(
            conn,
            annual_reports,
            ("code", "year", "all_zero", "reported_on"),
            ((a.code, a.year, a.all_zero, a.reported_on) for a in reports.values()),
        )
        counts["annual_reports"] = len(reports)
    # Without statistics PostgreSQL believes the million-row facts table empty and answers
    # each incremental event with a full scan.
    refresh_statistics(sessions)
    return counts
