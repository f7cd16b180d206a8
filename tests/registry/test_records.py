from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from services.registry.records.schemas import RecordCreate
from services.registry.records.writer import write_records
from shared.workdays import china_today
from tests.registry.conftest import Registry, entity_code
from tests.registry.helpers import error_field, outbox_events

ADDED = "registry.record.added"


def record(
    record_id: str,
    code: str,
    kind: str = "penalty",
    occurred_on: str = "2025-03-03",
    **fields: object,
) -> dict[str, object]:
    return {
        "record_id": record_id,
        "code": code,
        "kind": kind,
        "occurred_on": occurred_on,
        "source_department": "晋城市市场监督管理局",
        **fields,
    }


# -- collecting records over HTTP ---------------------------------------------------------


def test_record_emits_event_and_identical_repost_is_a_no_op(
    registry: Registry, new_entity: Callable[..., dict]
) -> None:
    code = new_entity(1)["code"]
    body = record(
        "CF-2025-001",
        code,
        kind="行政处罚",
        payload='{"amount": 5000, "decision_no": "晋市监罚〔2025〕1号"}',
    )
    r = registry.client.post("/v1/records", json=body, headers=registry.headers())
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["kind"] == "penalty" and got["payload"]["amount"] == 5000
    assert got["collected_late"] is True  # occurred in March 2025, collected today
    events = outbox_events(registry, ADDED)
    assert len(events) == 1
    assert events[0]["record_id"] == "CF-2025-001" and events[0]["kind"] == "penalty"
    assert events[0]["payload"]["decision_no"] == "晋市监罚〔2025〕1号"

    # The same record again, payload as an object with its keys in another order.
    again = record(
        "CF-2025-001",
        code,
        kind="penalty",
        payload={"decision_no": "晋市监罚〔2025〕1号", "amount": 5000},
    )
    r = registry.client.post("/v1/records", json=again, headers=registry.headers())
    assert r.status_code == 200, r.text
    assert registry.outbox_count(ADDED) == 1

    r = registry.client.get("/v1/records/CF-2025-001", headers=registry.headers(region="140500"))
    assert r.status_code == 200 and r.json()["code"] == code


def test_different_content_under_a_held_record_id_is_refused(
    registry: Registry, new_entity: Callable[..., dict]
) -> None:
    code = new_entity(1)["code"]
    registry.client.post(
        "/v1/records", json=record("R1", code, payload={"amount": 100}), headers=registry.headers()
    )
    r = registry.client.post(
        "/v1/records", json=record("R1", code, payload={"amount": 200}), headers=registry.headers()
    )
    assert error_field(r) == "record_id"
    assert "不可修改" in r.json()["error"]["message"]
    assert registry.outbox_count(ADDED) == 1
    got = registry.client.get("/v1/records/R1", headers=registry.headers()).json()
    assert got["payload"] == {"amount": 100}


def test_bad_input_names_the_field(registry: Registry, new_entity: Callable[..., dict]) -> None:
    code = new_entity(1)["code"]
    h = registry.headers()
    unknown = entity_code(999)
    r = registry.client.post("/v1/records", json=record("R1", unknown), headers=h)
    assert error_field(r) == "code" and unknown in r.json()["error"]["message"]
    r = registry.client.post(
        "/v1/records", json=record("R2", code, payload='{"amount": '), headers=h
    )
    assert error_field(r) == "payload" and "JSON" in r.json()["error"]["message"]
    r = registry.client.post("/v1/records", json=record("R3", code, payload="[1, 2]"), headers=h)
    assert error_field(r) == "payload"
    tomorrow = (china_today() + timedelta(days=1)).isoformat()
    r = registry.client.post(
        "/v1/records", json=record("R4", code, occurred_on=tomorrow), headers=h
    )
    assert error_field(r) == "occurred_on"
    r = registry.client.post("/v1/records", json=record("R5", code, kind="表扬"), headers=h)
    assert error_field(r) == "kind"
    assert registry.outbox_count() == 1  # only the entity's own snapshot


def test_listing_and_removal_maintain_list_entries(
    registry: Registry, new_entity: Callable[..., dict]
) -> None:
    code = new_entity(1)["code"]
    h = registry.headers()
    listed = record(
        "AB-1",
        code,
        kind="列入经营异常名录",
        occurred_on="2025-03-01",
        payload={"reason": "未按规定报送年度报告"},
    )
    assert registry.client.post("/v1/records", json=listed, headers=h).status_code == 201
    entries = registry.client.get(f"/v1/entities/{code}/list-entries", headers=h).json()
    assert len(entries) == 1 and entries[0]["standing"] is True
    assert entries[0]["list_kind"] == "abnormal_operations"
    assert entries[0]["listed_on"] == "2025-03-01"
    assert entries[0]["listing_reason"] == "未按规定报送年度报告"

    removed = record(
        "AB-2",
        code,
        kind="abnormal_removed",
        occurred_on="2025-06-10",
        payload={"reason": "已补报年度报告"},
    )
    assert registry.client.post("/v1/records", json=removed, headers=h).status_code == 201
    (entry,) = registry.client.get(f"/v1/entities/{code}/list-entries", headers=h).json()
    assert entry["standing"] is False
    assert (entry["removed_on"], entry["removal_reason"], entry["removal_record_id"]) == (
        "2025-06-10",
        "已补报年度报告",
        "AB-2",
    )

    # Nothing stands any more: a second removal, or removal from the other list, is refused.
    r = registry.client.post(
        "/v1/records",
        headers=h,
        json=record("AB-3", code, kind="abnormal_removed", occurred_on="2025-07-01"),
    )
    assert error_field(r) == "kind"
    r = registry.client.post(
        "/v1/records",
        headers=h,
        json=record("SD-1", code, kind="dishonest_removed", occurred_on="2025-07-01"),
    )
    assert error_field(r) == "kind" and "严重违法失信名单" in r.json()["error"]["message"]
    assert registry.outbox_count(ADDED) == 2
    standing = registry.client.get(
        f"/v1/entities/{code}/list-entries", headers=h, params={"standing": "true"}
    ).json()
    assert standing == []


def test_removal_before_its_listing_date_is_refused(
    registry: Registry, new_entity: Callable[..., dict]
) -> None:
    code = new_entity(1)["code"]
    h = registry.headers()
    registry.client.post(
        "/v1/records",
        headers=h,
        json=record("SD-1", code, kind="dishonest_listed", occurred_on="2025-05-01"),
    )
    r = registry.client.post(
        "/v1/records",
        headers=h,
        json=record("SD-2", code, kind="dishonest_removed", occurred_on="2025-04-01"),
    )
    assert error_field(r) == "occurred_on"


def test_records_outside_the_jurisdiction_are_forbidden(
    registry: Registry, new_entity: Callable[..., dict]
) -> None:
    taiyuan = new_entity(1, region="140105")["code"]
    jincheng = new_entity(2, region="140502")["code"]
    province = registry.headers(region="140000")
    for i, code in enumerate((taiyuan, jincheng)):
        r = registry.client.post(
            "/v1/records", headers=province, json=record(f"R{i}", code, kind="abnormal_listed")
        )
        assert r.status_code == 201, r.text

    officer = registry.headers(role="credit_officer", region="140500")
    assert registry.client.get("/v1/records/R0", headers=officer).status_code == 403
    assert registry.client.get("/v1/records/R1", headers=officer).status_code == 200
    r = registry.client.get("/v1/records", headers=officer, params={"code": taiyuan})
    assert r.status_code == 403
    assert (
        registry.client.get(f"/v1/entities/{taiyuan}/list-entries", headers=officer).status_code
        == 403
    )
    listed = registry.client.get("/v1/records", headers=officer).json()["items"]
    assert [x["record_id"] for x in listed] == ["R1"]
    clerk = registry.headers(region="140500")
    r = registry.client.post("/v1/records", headers=clerk, json=record("R9", taiyuan))
    assert r.status_code == 403
    assert registry.outbox_count(ADDED) == 2


def test_search_filters_and_keyset_pages(
    registry: Registry, new_entity: Callable[..., dict]
) -> None:
    a = new_entity(1)["code"]
    b = new_entity(2)["code"]
    h = registry.headers()
    days = ["2025-01-05", "2025-02-01", "2025-02-01", "2025-02-01", "2025-03-15", "2025-04-20"]
    for i, day in enumerate(days):
        kind = "complaint" if i % 2 else "penalty"
        body = record(f"X{9 - i}", a if i < 4 else b, kind=kind, occurred_on=day)
        assert registry.client.post("/v1/records", json=body, headers=h).status_code == 201

    seen: list[tuple[str, str]] = []
    after = None
    while True:
        params: dict[str, object] = {"limit": 2, **({"after": after} if after else {})}
        page = registry.client.get("/v1/records", headers=h, params=params).json()
        seen += [(x["occurred_on"], x["record_id"]) for x in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert seen == sorted(seen) and len(seen) == 6
    assert seen[1:4] == [("2025-02-01", "X6"), ("2025-02-01", "X7"), ("2025-02-01", "X8")]

    r = registry.client.get("/v1/records", headers=h, params={"code": a, "kind": "complaint"})
    assert [x["record_id"] for x in r.json()["items"]] == ["X6", "X8"]
    r = registry.client.get(
        "/v1/records", headers=h, params={"from": "2025-02-01", "to": "2025-03-31"}
    )
    assert len(r.json()["items"]) == 4
    r = registry.client.get("/v1/records", headers=h, params={"after": "garbage"})
    assert error_field(r) == "after"
    assert registry.client.get("/v1/records/NOPE", headers=h).status_code == 404


# -- the batch write path the importer uses ------------------------------------------------


def _items(*rows: dict[str, object]) -> list[RecordCreate]:
    return [RecordCreate.model_validate(r) for r in rows]


def test_batch_honours_order_for_listing_and_removal(
    registry: Registry, new_entity: Callable[..., dict]
) -> None:
    code = new_entity(1)["code"]
    other = new_entity(2)["code"]
    items = _items(
        record(
            "B0", other, kind="abnormal_removed", occurred_on="2025-02-01"
        ),  # before its listing
        record("B1", other, kind="abnormal_listed", occurred_on="2025-01-10"),
        record(
            "B2", code, kind="abnormal_listed", occurred_on="2025-01-10", payload={"reason": "甲"}
        ),
        record(
            "B3", code, kind="abnormal_listed", occurred_on="2025-02-10", payload={"reason": "乙"}
        ),
        record(
            "B4",
            code,
            kind="abnormal_removed",
            occurred_on="2025-03-01",
            payload={"listing_record_id": "B3"},
        ),
        record("B5", code, kind="abnormal_removed", occurred_on="2025-03-02"),
        record("B6", code, kind="abnormal_removed", occurred_on="2025-03-03"),
        record("B7", entity_code(404), kind="complaint"),
        record(
            "B2", code, kind="abnormal_listed", occurred_on="2025-01-10", payload={"reason": "甲"}
        ),
    )
    with registry.runtime.sessions() as s, s.begin():
        outcomes = write_records(s, registry.runtime.outbox, items, today=date(2025, 3, 4))
    assert [(o.record_id, o.action, o.field) for o in outcomes] == [
        ("B0", "error", "kind"),
        ("B1", "created", None),
        ("B2", "created", None),
        ("B3", "created", None),
        ("B4", "created", None),
        ("B5", "created", None),
        ("B6", "error", "kind"),
        ("B7", "error", "code"),
        ("B2", "unchanged", None),
    ]
    assert all(o.reason_zh and o.reason_en for o in outcomes if o.action == "error")
    assert registry.outbox_count(ADDED) == 5

    entries = registry.client.get(
        f"/v1/entities/{code}/list-entries", headers=registry.headers()
    ).json()
    # B4 named its listing (B3); B5 took the oldest one still standing (B2).
    assert [
        (e["listing_record_id"], e["removal_record_id"], e["listing_reason"]) for e in entries
    ] == [("B2", "B5", "甲"), ("B3", "B4", "乙")]

    # A later batch removes the listing of `other` that is now stored.
    with registry.runtime.sessions() as s, s.begin():
        (outcome,) = write_records(
            s,
            registry.runtime.outbox,
            _items(record("B8", other, kind="移出经营异常名录", occurred_on="2025-02-20")),
        )
    assert outcome.action == "created"
    (entry,) = registry.client.get(
        f"/v1/entities/{other}/list-entries", headers=registry.headers()
    ).json()
    assert entry["removed_on"] == "2025-02-20" and entry["removal_record_id"] == "B8"


@pytest.mark.parametrize(
    ("received", "late"),
    [
        # Occurred Sun 28 Sep 2025 (a make-up working day). Counting working days after it
        # by hand: 29 Sep (1), 30 Sep (2), 1-8 Oct National Day holiday, 9 Oct (3),
        # 10 Oct (4), Sat 11 Oct make-up (5), 13 Oct (6), 14 Oct (7), 15 Oct (8).
        (date(2025, 10, 10), False),  # 4 working days, though 12 calendar days
        (date(2025, 10, 14), False),  # exactly 7
        (date(2025, 10, 15), True),  # 8: more than 7
    ],
)
def test_collected_late_counts_working_days_across_national_day(
    registry: Registry, new_entity: Callable[..., dict], received: date, late: bool
) -> None:
    code = new_entity(1)["code"]
    items = _items(record("NDL-1", code, kind="complaint", occurred_on="2025-09-28"))
    with registry.runtime.sessions() as s, s.begin():
        (outcome,) = write_records(s, registry.runtime.outbox, items, today=received)
    assert outcome.action == "created" and outcome.collected_late is late
    got = registry.client.get("/v1/records/NDL-1", headers=registry.headers()).json()
    assert got["collected_late"] is late


def test_csv_import_parses_payload_and_reports_refused_rows(
    registry: Registry, new_entity: Callable[..., dict], tmp_path: Path
) -> None:
    from services.registry.imports.importer import run_import

    code = new_entity(1)["code"]
    path = tmp_path / "records.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["record_id", "code", "kind", "occurred_on", "source_department", "payload"])
        w.writerow(
            ["I1", code, "年报", "2025-06-30", "登记注册科", '{"year": 2024, "all_zero": true}']
        )
        w.writerow(
            ["I2", code, "列入经营异常名录", "2025-07-01", "登记注册科", '{"reason": "年报未报"}']
        )
        w.writerow(["I3", code, "移出经营异常名录", "2025-08-01", "登记注册科", ""])
        w.writerow(["I4", code, "移出经营异常名录", "2025-08-02", "登记注册科", ""])
        w.writerow(["I5", code, "complaint", "2025-08-03", "12315", "{not json"])
        w.writerow(["I6", entity_code(404), "complaint", "2025-08-03", "12315", ""])
    with path.open("rb") as f:
        report = run_import(registry.runtime.sessions, registry.runtime.outbox, "records", f, "csv")
    assert (report.created, report.rejected) == (3, 3)
    assert {(e.row, e.field) for e in report.errors} == {(4, "kind"), (5, "payload"), (6, "code")}
    got = registry.client.get("/v1/records/I1", headers=registry.headers()).json()
    assert got["kind"] == "annual_report" and got["payload"] == {"year": 2024, "all_zero": True}
    with path.open("rb") as f:
        again = run_import(registry.runtime.sessions, registry.runtime.outbox, "records", f, "csv")
    assert (again.created, again.unchanged, again.rejected) == (0, 3, 3)
    assert registry.outbox_count(ADDED) == 3
