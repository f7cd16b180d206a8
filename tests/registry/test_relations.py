from __future__ import annotations

from collections.abc import Callable

from shared.workdays import china_today
from tests.registry.conftest import Registry, entity_code
from tests.registry.helpers import error_field, outbox_events

CHANGED = "registry.relation.changed"


def test_declare_repeat_remove_and_redeclare(
    registry: Registry, new_entity: Callable[..., dict]
) -> None:
    code = new_entity(1)["code"]
    parent = new_entity(2)["code"]
    h = registry.headers()
    body = {
        "code": code,
        "kind": "股东",
        "counterpart_name": "测试企业2有限公司",
        "counterpart_code": parent,
        "since": "2020-05-01",
    }
    r = registry.client.post("/v1/relations", json=body, headers=h)
    assert r.status_code == 201, r.text
    rel = r.json()
    assert (rel["kind"], rel["counterpart_code"], rel["source"]) == (
        "shareholder",
        parent,
        "declared",
    )
    assert registry.client.post("/v1/relations", json=body, headers=h).status_code == 200
    assert registry.outbox_count(CHANGED) == 1

    r = registry.client.delete(f"/v1/relations/{rel['id']}", headers=h)
    assert r.status_code == 200 and r.json()["removed_on"] == china_today().isoformat()
    # Ending it again changes nothing.
    assert registry.client.delete(f"/v1/relations/{rel['id']}", headers=h).status_code == 200
    events = outbox_events(registry, CHANGED)
    assert [e["change"] for e in events] == ["added", "removed"]
    assert events[1]["counterpart_code"] == parent and events[1]["since"] == "2020-05-01"

    listed = registry.client.get(f"/v1/entities/{code}/relations", headers=h).json()
    assert [i for i in listed["items"] if i["source"] == "declared"] == []
    listed = registry.client.get(
        f"/v1/entities/{code}/relations", headers=h, params={"include_removed": "true"}
    ).json()
    assert [i["id"] for i in listed["items"]] == [rel["id"]]

    # Declared again: the same row stands again, announced as added.
    r = registry.client.post("/v1/relations", json=body, headers=h)
    assert r.status_code == 201 and r.json()["id"] == rel["id"] and r.json()["removed_on"] is None
    assert [e["change"] for e in outbox_events(registry, CHANGED)] == ["added", "removed", "added"]


def test_bad_input_names_the_field(registry: Registry, new_entity: Callable[..., dict]) -> None:
    code = new_entity(1)["code"]
    h = registry.headers()
    base = {"code": code, "kind": "shareholder", "counterpart_name": "张三"}
    bad = code[:-1] + ("0" if code[-1] != "0" else "1")
    r = registry.client.post("/v1/relations", json={**base, "counterpart_code": bad}, headers=h)
    assert error_field(r) == "counterpart_code"
    r = registry.client.post("/v1/relations", json={**base, "kind": "朋友"}, headers=h)
    assert error_field(r) == "kind"
    r = registry.client.post("/v1/relations", json={**base, "code": entity_code(404)}, headers=h)
    assert error_field(r) == "code"
    r = registry.client.post("/v1/relations", json={**base, "counterpart_code": code}, headers=h)
    assert error_field(r) == "counterpart_code"
    assert registry.client.delete("/v1/relations/999", headers=h).status_code == 404
    assert registry.outbox_count(CHANGED) == 0


def test_directory_relations_same_address_and_legal_representative(
    registry: Registry, new_entity: Callable[..., dict]
) -> None:
    address = "晋城市城区泽州路1号"
    a = new_entity(1, address=address, legal_representative="王建国")["code"]
    b = new_entity(2, address=address, legal_representative="李四")["code"]
    c = new_entity(3, address="晋城市城区凤台街9号", legal_representative="王建国")["code"]
    new_entity(4, address="晋城市城区凤台街10号", legal_representative="赵六")
    # Same address string in another city's jurisdiction (a data-entry duplicate).
    far = new_entity(5, region="140105", address=address)["code"]

    officer = registry.headers(role="business_officer", region="140500")
    got = registry.client.get(f"/v1/entities/{a}/relations", headers=officer).json()
    derived = {(i["kind"], i["counterpart_code"], i["shared_value"]) for i in got["items"]}
    assert derived == {("same_address", b, address), ("legal_representative", c, "王建国")}
    assert all(i["source"] == "directory" and i["id"] is None for i in got["items"])
    assert got["truncated"] is False

    province = registry.headers(role="business_officer", region="140000")
    got = registry.client.get(
        f"/v1/entities/{a}/relations", headers=province, params={"limit": 1}
    ).json()
    same_address = [i for i in got["items"] if i["kind"] == "same_address"]
    assert len(same_address) == 1 and got["truncated"] is True
    got = registry.client.get(f"/v1/entities/{a}/relations", headers=province).json()
    assert {i["counterpart_code"] for i in got["items"] if i["kind"] == "same_address"} == {b, far}


def test_relations_outside_the_jurisdiction_are_forbidden(
    registry: Registry, new_entity: Callable[..., dict]
) -> None:
    taiyuan = new_entity(1, region="140105")["code"]
    body = {"code": taiyuan, "kind": "legal_representative", "counterpart_name": "张三"}
    r = registry.client.post("/v1/relations", json=body, headers=registry.headers(region="140000"))
    assert r.status_code == 201
    rel_id = r.json()["id"]
    jincheng = registry.headers(region="140500")
    assert (
        registry.client.get(f"/v1/entities/{taiyuan}/relations", headers=jincheng).status_code
        == 403
    )
    assert registry.client.delete(f"/v1/relations/{rel_id}", headers=jincheng).status_code == 403
    assert (
        registry.client.post(
            "/v1/relations", json={**body, "counterpart_name": "李四"}, headers=jincheng
        ).status_code
        == 403
    )
    reader = registry.headers(role="inspector", region="140000")
    assert registry.client.post("/v1/relations", json=body, headers=reader).status_code == 403
    assert registry.outbox_count(CHANGED) == 1
