from __future__ import annotations

import csv
import io
from pathlib import Path

from sqlalchemy import func, select

from services.registry.imports.importer import csv_report, run_import
from services.registry.models import Entity
from tests.registry.conftest import Registry, entity_code

HEADER = [
    "code",
    "entity_type",
    "name",
    "region_code",
    "industry_code",
    "registered_on",
    "registered_capital",
    "status",
    "licences",
    "tags",
]
# Row number (1-based) -> (column to break, bad value, field the report must name)
BROKEN = {
    17: ("code", "91140502MA000017XX", "code"),
    503: ("region_code", "1405", "region_code"),
    1200: ("entity_type", "公司", "entity_type"),
    2048: ("registered_on", "2020-13-01", "registered_on"),
    3333: ("registered_capital", "-5", "registered_capital"),
    4000: ("status", "休眠", "status"),
    5555: ("licences", "food_production;pilot_licence", "licences.1"),
    7000: ("name", "", "name"),
    8191: ("industry_code", "C1512", "industry_code"),
    9999: ("code", "12345", "code"),
}


def write_csv(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for row in range(1, n + 1):
            values = {
                "code": entity_code(row),
                "entity_type": "enterprise" if row % 3 else "个体工商户",
                "name": f"晋城市城区测试{row}号商贸有限公司",
                "region_code": "140502",
                "industry_code": "5211",
                "registered_on": "2019-05-01",
                "registered_capital": "100",
                "status": "存续",
                "licences": "food_business" if row % 2 else "",
                "tags": "",
            }
            if row in BROKEN:
                column, value, _ = BROKEN[row]
                values[column] = value
            w.writerow([values[c] for c in HEADER])


def write_csv_not_text_from(path: Path, bad_row: int, n: int = 3000) -> Path:
    """A UTF-8 CSV of ``n`` rows whose row ``bad_row`` holds GB18030 bytes: past the
    encoding sample, so the file is read as UTF-8 until that row."""
    write_csv(path, n)
    lines = path.read_bytes().split(b"\n")
    lines[bad_row] = lines[bad_row].replace("晋城".encode(), "晋城".encode("gb18030"))
    path.write_bytes(b"\n".join(lines))
    return path


def entity_count(registry: Registry) -> int:
    with registry.runtime.sessions() as s:
        return s.execute(select(func.count()).select_from(Entity)).scalar_one()


def test_10000_rows_with_10_broken_keeps_9990_and_reimport_changes_nothing(
    registry: Registry, tmp_path: Path
) -> None:
    path = tmp_path / "entities.csv"
    write_csv(path, 10_000)
    report_out = io.StringIO()
    with path.open("rb") as f:
        report = run_import(
            registry.runtime.sessions,
            registry.runtime.outbox,
            "entities",
            f,
            "csv",
            on_error=csv_report(report_out),
        )
    assert (report.rows, report.created, report.rejected) == (10_000, 9_990, 10)
    assert entity_count(registry) == 9_990
    assert registry.outbox_count("registry.entity.changed") == 9_990
    assert {(e.row, e.field) for e in report.errors} == {
        (row, f) for row, (_, _, f) in BROKEN.items()
    }
    assert all(e.reason_zh and e.reason_en for e in report.errors)
    rows = list(csv.reader(io.StringIO(report_out.getvalue())))
    assert rows[0] == ["row", "field", "reason_zh", "reason_en"] and len(rows) == 11

    with path.open("rb") as f:
        again = run_import(registry.runtime.sessions, registry.runtime.outbox, "entities", f, "csv")
    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 9_990, 10)
    assert entity_count(registry) == 9_990
    assert registry.outbox_count() == 9_990  # no new events


def test_changed_row_on_reimport_updates_once(registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    code = entity_code(1)
    path.write_text(
        f'{{"code": "{code}", "entity_type": "enterprise", "name": "甲公司", "region_code": "140502"}}\n',
        encoding="utf-8",
    )
    with path.open("rb") as f:
        run_import(registry.runtime.sessions, registry.runtime.outbox, "entities", f, "jsonl")
    path.write_text(
        f'{{"code": "{code}", "entity_type": "enterprise", "name": "甲公司（更名）", "region_code": "140502"}}\n'
        "not json\n",
        encoding="utf-8",
    )
    with path.open("rb") as f:
        report = run_import(
            registry.runtime.sessions, registry.runtime.outbox, "entities", f, "jsonl"
        )
    assert (report.updated, report.rejected) == (1, 1)
    assert report.errors[0].row == 2
    got = registry.client.get(f"/v1/entities/{entity_code(1)}", headers=registry.headers()).json()
    assert got["name"] == "甲公司（更名）" and got["version"] == 2


def test_http_upload_reports_rows(registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    write_csv(path, 30)
    with path.open("rb") as f:
        r = registry.client.post(
            "/v1/imports/entities",
            headers=registry.headers(),
            files={"file": ("e.csv", f, "text/csv")},
        )
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 29 and r.json()["errors"][0]["row"] == 17
    r = registry.client.post(
        "/v1/imports/entities",
        headers=registry.headers(),
        files={"file": ("e.xlsx", b"x", "application/octet-stream")},
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "file"


def test_a_gb18030_csv_from_a_chinese_spreadsheet_imports_as_text(
    registry: Registry, tmp_path: Path
) -> None:
    utf8 = tmp_path / "utf8.csv"
    write_csv(utf8, 30)
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(utf8.read_text(encoding="utf-8").encode("gb18030"))
    with gbk.open("rb") as f:
        report = run_import(
            registry.runtime.sessions, registry.runtime.outbox, "entities", f, "csv"
        )
    assert (report.created, report.rejected, report.unreadable) == (29, 1, None)
    got = registry.client.get(f"/v1/entities/{entity_code(1)}", headers=registry.headers())
    assert got.json()["name"] == "晋城市城区测试1号商贸有限公司"


def test_bytes_that_are_not_text_stop_the_import_after_keeping_the_rows_before(
    registry: Registry, tmp_path: Path
) -> None:
    bad_row = 2000
    path = write_csv_not_text_from(tmp_path / "mixed.csv", bad_row)

    with path.open("rb") as f:
        r = registry.client.post(
            "/v1/imports/entities",
            headers=registry.headers(),
            files={"file": ("mixed.csv", f, "text/csv")},
        )

    assert r.status_code == 200, r.text
    result = r.json()
    stopped = result["unreadable"]
    assert stopped["field"] == "file" and "UTF-8" in stopped["reason_zh"]
    assert 1 < stopped["row"] <= bad_row  # read in chunks: near the bad row, not after it
    assert result["rows"] == stopped["row"] - 1
    assert result["created"] + result["rejected"] == result["rows"]
    assert entity_count(registry) == result["created"]  # the rows read are kept
