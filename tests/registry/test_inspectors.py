from __future__ import annotations

from typing import Any

from services.registry.inspectors.schemas import InspectorCreate
from services.registry.inspectors.writer import write_inspectors
from tests.registry.conftest import Registry, entity_code
from tests.registry.helpers import error_field, outbox_events

CHANGED = "registry.inspector.changed"


def inspector(no: str, **fields: Any) -> dict[str, Any]:
    return {
        "certificate_no": no,
        "name": "张检查",
        "department": "食品生产科",
        "region_code": "140502",
        "certificate_expires_on": "2099-12-31",
        **fields,
    }


def post(registry: Registry, body: dict[str, Any], **headers: Any) -> Any:
    return registry.client.post("/v1/inspectors", json=body, headers=registry.headers(**headers))


def test_create_with_chinese_words_and_csv_lists(registry: Registry) -> None:
    avoided = entity_code(7)
    body = inspector(
        "14050001",
        status="在岗",
        specialties="food; measurement;food",
        avoid_entities=avoided,
        avoid_regions="140581",
        avoid_persons="王五;赵六",
    )
    r = post(registry, body)
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["status"] == "on_duty" and got["version"] == 1
    assert got["specialties"] == ["food", "measurement"]
    assert (got["avoid_entities"], got["avoid_regions"], got["avoid_persons"]) == (
        [avoided],
        ["140581"],
        ["王五", "赵六"],
    )
    assert got["certificate_valid"] is True and got["can_act_alone"] is True
    (event,) = outbox_events(registry, CHANGED)
    assert event["certificate_no"] == "14050001" and event["version"] == 1
    assert event["specialties"] == ["food", "measurement"]

    # The same inspector again, lists as arrays in another order: nothing changes.
    again = inspector(
        "14050001",
        status="on_duty",
        specialties=["measurement", "food"],
        avoid_entities=[avoided],
        avoid_regions=["140581"],
        avoid_persons=["赵六", "王五"],
    )
    r = post(registry, again)
    assert r.status_code == 200 and r.json()["version"] == 1
    assert registry.outbox_count(CHANGED) == 1
    # Other content under a held certificate number is a conflict: PATCH changes it.
    r = post(registry, {**again, "name": "张检察"})
    assert r.status_code == 409 and r.json()["error"]["field"] == "certificate_no"


def test_bad_input_names_the_field(registry: Registry) -> None:
    assert error_field(post(registry, inspector("1", specialties="food;fishing"))) == "specialties"
    assert error_field(post(registry, inspector("2", specialties=["烹饪"]))) == "specialties"
    assert error_field(post(registry, inspector("3", status="休假"))) == "status"
    r = post(registry, inspector("4", avoid_entities=["91140502MA0000000X"]))
    assert error_field(r) == "avoid_entities"
    assert error_field(post(registry, inspector("5", avoid_regions="1405"))) == "avoid_regions"
    assert error_field(post(registry, inspector("6", region_code="14050"))) == "region_code"
    assert registry.outbox_count(CHANGED) == 0


def test_status_changes_and_patch(registry: Registry) -> None:
    h = registry.headers()
    post(registry, inspector("14050002", specialties=["special_equipment"]))
    r = registry.client.post("/v1/inspectors/14050002/status", json={"status": "调离"}, headers=h)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["version"], r.json()["can_act_alone"]) == (
        "transferred",
        2,
        False,
    )
    # The same status again is no change.
    r = registry.client.post(
        "/v1/inspectors/14050002/status", json={"status": "transferred"}, headers=h
    )
    assert r.json()["version"] == 2
    r = registry.client.post("/v1/inspectors/14050002/status", json={"status": "退休"}, headers=h)
    assert (r.json()["status"], r.json()["version"]) == ("retired", 3)
    r = registry.client.post("/v1/inspectors/14050002/status", json={"status": "停职"}, headers=h)
    assert error_field(r) == "status"

    r = registry.client.patch(
        "/v1/inspectors/14050002",
        headers=h,
        json={"status": "在岗", "specialties": "special_equipment;food"},
    )
    assert r.json()["version"] == 4 and r.json()["specialties"] == ["food", "special_equipment"]
    r = registry.client.patch(
        "/v1/inspectors/14050002", headers=h, json={"specialties": ["food", "special_equipment"]}
    )
    assert r.json()["version"] == 4
    events = outbox_events(registry, CHANGED)
    assert [(e["version"], e["status"]) for e in events] == [
        (1, "on_duty"),
        (2, "transferred"),
        (3, "retired"),
        (4, "on_duty"),
    ]
    assert registry.client.get("/v1/inspectors/NOPE", headers=h).status_code == 404


def test_certificate_and_professional_staff(registry: Registry) -> None:
    expired = post(registry, inspector("A1", certificate_expires_on="2020-06-30")).json()
    assert expired["certificate_valid"] is False and expired["can_act_alone"] is False
    professional = post(registry, inspector("A2", is_professional=True)).json()
    assert professional["certificate_valid"] is True and professional["can_act_alone"] is False
    unknown_expiry = post(registry, inspector("A3", certificate_expires_on=None)).json()
    assert unknown_expiry["certificate_valid"] is True


def test_search_filters_and_keyset_pages(registry: Registry) -> None:
    post(registry, inspector("C01", specialties=["food"]))
    post(registry, inspector("C02", specialties=["drugs"]))
    post(registry, inspector("C03", specialties=["food", "drugs"], is_professional=True))
    post(registry, inspector("C04", specialties=["food"], certificate_expires_on="2021-01-01"))
    post(registry, inspector("C05", department="特设科", status="退休", region_code="140581"))
    post(registry, inspector("T01", specialties=["food"], region_code="140105"))

    def codes(**params: Any) -> list[str]:
        r = registry.client.get(
            "/v1/inspectors",
            params=params,
            headers=registry.headers(role="business_officer", region="140500"),
        )
        assert r.status_code == 200, r.text
        return [i["certificate_no"] for i in r.json()["items"]]

    assert codes() == ["C01", "C02", "C03", "C04", "C05"]
    assert codes(specialty="food") == ["C01", "C03", "C04"]
    assert codes(specialty="drugs", professional="false") == ["C02"]
    assert codes(certificate_valid="false") == ["C04"]
    assert codes(certificate_valid="true", status="on_duty", professional="false") == ["C01", "C02"]
    assert codes(department="特设科") == ["C05"] == codes(region="140581")
    assert codes(status="retired") == ["C05"]

    seen, after = [], None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"after": after} if after else {})}
        page = registry.client.get(
            "/v1/inspectors", params=params, headers=registry.headers()
        ).json()
        seen += [i["certificate_no"] for i in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert seen == ["C01", "C02", "C03", "C04", "C05", "T01"]


def test_inspectors_outside_the_jurisdiction_are_forbidden(registry: Registry) -> None:
    assert post(registry, inspector("T02", region_code="140105")).status_code == 201
    jincheng = registry.headers(region="140500")
    assert registry.client.get("/v1/inspectors/T02", headers=jincheng).status_code == 403
    assert (
        registry.client.patch(
            "/v1/inspectors/T02", json={"name": "x"}, headers=jincheng
        ).status_code
        == 403
    )
    r = registry.client.post(
        "/v1/inspectors", json=inspector("T03", region_code="140105"), headers=jincheng
    )
    assert r.status_code == 403
    # Moving one's own inspector out of one's jurisdiction is refused too.
    post(registry, inspector("J01"))
    r = registry.client.patch(
        "/v1/inspectors/J01", json={"region_code": "140105"}, headers=jincheng
    )
    assert r.status_code == 403
    r = registry.client.post(
        "/v1/inspectors",
        json=inspector("J02"),
        headers=registry.headers(role="inspector", region="140500"),
    )
    assert r.status_code == 403
    assert registry.outbox_count(CHANGED) == 2


def test_avoidance_declarations_are_not_open_to_fellow_inspectors(registry: Registry) -> None:
    post(registry, inspector("P01", avoid_persons="李某某"))
    colleague = registry.headers(role="inspector", region="140500")
    assignor = registry.headers(role="business_officer", region="140500")
    for url in ("/v1/inspectors/P01", "/v1/inspectors"):
        assert registry.client.get(url, headers=colleague).status_code == 403
        assert registry.client.get(url, headers=assignor).status_code == 200
    got = registry.client.get("/v1/inspectors/P01", headers=assignor).json()
    assert got["avoid_persons"] == ["李某某"]


def test_batch_writer_is_idempotent_and_versions_changes(registry: Registry) -> None:
    rows = [
        InspectorCreate.model_validate(inspector(f"B{i}", specialties="food")) for i in range(3)
    ]
    with registry.runtime.sessions() as s, s.begin():
        first = write_inspectors(s, registry.runtime.outbox, rows)
    assert [(o.action, o.version) for o in first] == [("created", 1)] * 3

    changed = InspectorCreate.model_validate(inspector("B1", specialties="food", status="退休"))
    with registry.runtime.sessions() as s, s.begin():
        second = write_inspectors(s, registry.runtime.outbox, [rows[0], changed, rows[2]])
    assert [(o.certificate_no, o.action, o.version) for o in second] == [
        ("B0", "unchanged", 1),
        ("B1", "updated", 2),
        ("B2", "unchanged", 1),
    ]

    # One certificate twice in a batch: applied in turn.
    new = InspectorCreate.model_validate(inspector("B9"))
    renamed = InspectorCreate.model_validate(inspector("B9", name="李检查"))
    with registry.runtime.sessions() as s, s.begin():
        third = write_inspectors(s, registry.runtime.outbox, [new, renamed])
    assert [(o.action, o.version) for o in third] == [("created", 1), ("updated", 2)]
    got = registry.client.get("/v1/inspectors/B9", headers=registry.headers()).json()
    assert (got["name"], got["version"]) == ("李检查", 2)
    assert registry.outbox_count(CHANGED) == 3 + 1 + 2
