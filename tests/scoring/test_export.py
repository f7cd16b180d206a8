"""The national export of current classes: CSV format, row count, jurisdiction, audit,
snapshot consistency and chunked streaming."""

from __future__ import annotations

import csv
import io

import orjson
from sqlalchemy import insert

from services.scoring.exports import service
from services.scoring.models import entity_classes
from shared.auth import Principal, Role
from tests.scoring.conftest import Scoring, code_of
from tests.scoring.test_analysis import AS_OF, audit_rows, class_rows, put_classes

HEADER = "credit_code,risk_class,as_of,model_id,model_version,region_code,industry_code"


def small_population(scoring: Scoring) -> None:
    put_classes(
        scoring,
        [
            (1, "A", "140502", "5261"),
            (2, "D", "140525", None),
            (3, "B", "140105", "1391"),
        ],
    )


def test_province_officer_exports_all_current_classes(scoring: Scoring) -> None:
    small_population(scoring)
    r = scoring.client.get("/v1/exports/classes", headers=scoring.headers())
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["x-row-count"] == "3"
    assert r.headers["x-region-prefix"] == "14"
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["content-disposition"].startswith('attachment; filename="entity-classes-14-')
    raw = r.content
    assert not raw.startswith(b"\xef\xbb\xbf")  # no BOM
    text = raw.decode("utf-8")
    lines = text.split("\r\n")
    assert lines[0] == HEADER and lines[-1] == ""  # every line ends with CRLF
    assert len(lines) - 2 == int(r.headers["x-row-count"])  # the documented check
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["credit_code"] for row in rows] == sorted(row["credit_code"] for row in rows)
    by_code = {row["credit_code"]: row for row in rows}
    assert by_code[code_of(2, "140525")] == {
        "credit_code": code_of(2, "140525"),
        "risk_class": "D",
        "as_of": AS_OF.isoformat(),
        "model_id": "general",
        "model_version": "1",
        "region_code": "140525",
        "industry_code": "",
    }
    assert "score" not in rows[0]


def test_export_is_audited_with_its_row_count(scoring: Scoring) -> None:
    small_population(scoring)
    r = scoring.client.get("/v1/exports/classes", headers=scoring.headers(Role.ADMIN, "140000"))
    assert r.status_code == 200 and r.headers["x-row-count"] == "3"
    [row] = audit_rows(scoring, "export_classes")
    assert row.target == "classes:14"
    assert str(row.seq) == r.headers["x-audit-seq"]
    details = orjson.loads(row.details)
    assert details["rows"] == 3 and details["region"] == "14"
    assert details["format"] == "scoring-classes-csv/1"


def test_only_province_level_credit_officers_and_admins_export(scoring: Scoring) -> None:
    small_population(scoring)
    for role, region in [
        (Role.CREDIT_OFFICER, "140500"),
        (Role.CREDIT_OFFICER, "140502"),
        (Role.BUSINESS_OFFICER, "140000"),
        (Role.SERVICE, "140000"),
        (
            Role.ADMIN,
            "140500",
        ),  # the export is the province's: a city admin's role does not widen it
    ]:
        r = scoring.client.get("/v1/exports/classes", headers=scoring.headers(role, region))
        assert r.status_code == 403, (role, region)
    assert audit_rows(scoring, "export_classes") == []


def test_empty_jurisdiction_exports_a_header_only(scoring: Scoring) -> None:
    r = scoring.client.get("/v1/exports/classes", headers=scoring.headers())
    assert r.status_code == 200
    assert r.headers["x-row-count"] == "0"
    assert r.text == HEADER + "\r\n"


def test_count_audit_and_rows_come_from_one_snapshot(scoring: Scoring) -> None:
    put_classes(scoring, [(i, "B", "140502", "5261") for i in range(12_001)])
    officer = Principal(subject="officer-1", role=Role.CREDIT_OFFICER, region="140000")
    export = service.open_export(scoring.runtime.engine, scoring.runtime.sessions, officer)
    try:
        assert export.rows == 12_001
        # The audit row is committed before the first byte leaves.
        assert [r.seq for r in audit_rows(scoring, "export_classes")] == [export.audit_seq]
        # A class written after the count is not in this export: count and rows agree.
        with scoring.runtime.sessions() as s:
            s.execute(insert(entity_classes), class_rows([(99_999, "C", "140502", "5261")]))
            s.commit()
        chunks = list(export.chunks)
    finally:
        export.close()
    assert export.conn.closed
    # Streamed CHUNK_ROWS at a time: a header chunk and three row chunks.
    assert len(chunks) == 1 + 3
    lines = b"".join(chunks).decode().split("\r\n")
    assert len(lines) - 2 == export.rows
    export.close()  # idempotent


def test_an_export_that_is_never_read_releases_its_connection(scoring: Scoring) -> None:
    small_population(scoring)
    officer = Principal(subject="officer-1", role=Role.ADMIN, region="140000")
    export = service.open_export(scoring.runtime.engine, scoring.runtime.sessions, officer)
    export.close()
    assert export.conn.closed
    # The store is not held: a writer gets through at once.
    with scoring.runtime.sessions() as s:
        s.execute(insert(entity_classes), class_rows([(7, "A", "140502", None)]))
        s.commit()
