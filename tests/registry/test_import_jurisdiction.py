"""An officer's upload stays inside the jurisdiction the token carries, as the single-object
endpoints do: rows outside it are rejected by row number and nothing of them is written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from tests.registry.conftest import Registry, entity_code

MINE, NEIGHBOUR = "140502", "140521"  # 晋城 城区 and 沁水县


def upload(registry: Registry, kind: str, rows: list[dict[str, Any]], region: str) -> Any:
    body = b"\n".join(orjson.dumps(r) for r in rows)
    r = registry.client.post(
        f"/v1/imports/{kind}",
        headers=registry.headers(region=region),
        files={"file": (f"{kind}.jsonl", body, "application/x-ndjson")},
    )
    assert r.status_code == 200, r.text
    return r.json()


def entity(i: int, region: str, *, code_region: str | None = None) -> dict[str, Any]:
    return {
        "code": entity_code(i, code_region or region),
        "entity_type": "enterprise",
        "name": f"辖区测试{i}有限公司",
        "region_code": region,
    }


def rejected(result: dict[str, Any]) -> dict[int, tuple[str, str]]:
    return {e["row"]: (e["field"], e["reason_zh"]) for e in result["errors"]}


def test_a_county_clerk_imports_entities_of_the_county_only(registry: Registry) -> None:
    upload(registry, "entities", [entity(9, NEIGHBOUR)], region="140000")  # the province's
    rows = [
        entity(1, MINE),
        entity(2, NEIGHBOUR),
        entity(9, MINE, code_region=NEIGHBOUR),  # moving the neighbour's entity in
    ]

    result = upload(registry, "entities", rows, region=MINE)

    assert (result["created"], result["updated"], result["rejected"]) == (1, 0, 2)
    assert rejected(result) == {
        2: ("region_code", f"不在您的辖区（{MINE}）内"),
        3: ("region_code", f"不在您的辖区（{MINE}）内"),
    }
    province = registry.headers(region="140000")
    get = registry.client.get
    assert get(f"/v1/entities/{entity_code(1, MINE)}", headers=province).status_code == 200
    assert get(f"/v1/entities/{entity_code(2, NEIGHBOUR)}", headers=province).status_code == 404
    moved = get(f"/v1/entities/{entity_code(9, NEIGHBOUR)}", headers=province).json()
    assert moved["region_code"] == NEIGHBOUR and moved["version"] == 1


def test_records_follow_their_entity_and_inspectors_their_region(
    registry: Registry, new_entity: Callable[..., dict]
) -> None:
    mine, neighbours = new_entity(1, MINE)["code"], new_entity(2, NEIGHBOUR)["code"]
    record = {"kind": "complaint", "occurred_on": "2025-08-03", "source_department": "12315"}
    records = [
        {"record_id": "J1", "code": mine, **record},
        {"record_id": "J2", "code": neighbours, **record},
    ]
    inspector = {"name": "王检查", "department": "市场监管所"}
    inspectors = [
        {"certificate_no": "JC-1", "region_code": MINE, **inspector},
        {"certificate_no": "JC-2", "region_code": NEIGHBOUR, **inspector},
    ]

    got_records = upload(registry, "records", records, region=MINE)
    got_inspectors = upload(registry, "inspectors", inspectors, region=MINE)

    assert (got_records["created"], list(rejected(got_records))) == (1, [2])
    assert rejected(got_records)[2][0] == "code"
    assert (got_inspectors["created"], list(rejected(got_inspectors))) == (1, [2])
    province = registry.headers(region="140000")
    assert registry.client.get("/v1/records/J2", headers=province).status_code == 404
    assert registry.client.get("/v1/inspectors/JC-2", headers=province).status_code == 404


def test_the_province_imports_every_county(registry: Registry) -> None:
    result = upload(registry, "entities", [entity(1, MINE), entity(2, NEIGHBOUR)], "140000")
    assert (result["created"], result["rejected"]) == (2, 0)
