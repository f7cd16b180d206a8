from __future__ import annotations

from tests.registry.conftest import Registry, entity_code


def test_invalid_credit_code_is_422_naming_the_field(registry: Registry) -> None:
    good = entity_code(1)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    r = registry.client.post(
        "/v1/entities",
        headers=registry.headers(),
        json={"code": bad, "entity_type": "enterprise", "name": "某公司", "region_code": "140502"},
    )
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["field"] == "code"
    assert "校验位" in err["message"]
    assert registry.outbox_count() == 0


def test_create_read_update_deregister_emit_versioned_snapshots(
    registry: Registry, new_entity
) -> None:
    created = new_entity(1, industry_code="1431", licences=["food_production"], tags=["重点对象"])
    assert created["version"] == 1 and created["tags"] == ["重点对象"]
    code = created["code"]
    r = registry.client.patch(
        f"/v1/entities/{code}", headers=registry.headers(), json={"address": "城区1号"}
    )
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["address"] == "城区1号"
    r = registry.client.post(
        f"/v1/entities/{code}/deregister", headers=registry.headers(), json={"status": "注销"}
    )
    assert r.json()["status"] == "deregistered" and r.json()["version"] == 3
    assert registry.outbox_count("registry.entity.changed") == 3
    # An unchanged PATCH is not a change: no new version, no event.
    r = registry.client.patch(
        f"/v1/entities/{code}", headers=registry.headers(), json={"address": "城区1号"}
    )
    assert r.json()["version"] == 3
    assert registry.outbox_count() == 3


def test_duplicate_create_is_409(registry: Registry, new_entity) -> None:
    body = new_entity(2)
    r = registry.client.post(
        "/v1/entities",
        headers=registry.headers(),
        json={
            "code": body["code"],
            "entity_type": "enterprise",
            "name": "x",
            "region_code": "140502",
        },
    )
    assert r.status_code == 409 and r.json()["error"]["field"] == "code"


def test_search_filters_and_keyset_pages(registry: Registry, new_entity) -> None:
    for i in range(7):
        new_entity(
            i,
            name=f"晋城市城区{'食品' if i % 2 else '五金'}{i}有限公司",
            industry_code="1431" if i % 2 else "5211",
        )
    new_entity(100, region="140105", name="太原食品厂")
    h = registry.headers()
    r = registry.client.get("/v1/entities", headers=h, params={"name": "食品", "region": "140500"})
    names = [e["name"] for e in r.json()["items"]]
    assert len(names) == 3 and all("食品" in n for n in names)
    seen, after = [], None
    while True:
        params = {"limit": 3, **({"after": after} if after else {})}
        page = registry.client.get("/v1/entities", headers=h, params=params).json()
        seen += [e["code"] for e in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert len(seen) == 8 and seen == sorted(seen)
    r = registry.client.get("/v1/entities", headers=h, params={"industry": "52"})
    assert {e["industry_code"] for e in r.json()["items"]} == {"5211"}


def test_county_officer_sees_only_their_county(registry: Registry, new_entity) -> None:
    new_entity(1, region="140502")
    other = new_entity(2, region="140105")
    county = registry.headers(role="business_officer", region="140502")
    items = registry.client.get("/v1/entities", headers=county).json()["items"]
    assert [e["region_code"] for e in items] == ["140502"]
    assert registry.client.get(f"/v1/entities/{other['code']}", headers=county).status_code == 403
    assert registry.client.get("/v1/entities").status_code == 401


def test_reader_role_cannot_write(registry: Registry) -> None:
    r = registry.client.post(
        "/v1/entities",
        headers=registry.headers(role="inspector"),
        json={
            "code": entity_code(9),
            "entity_type": "enterprise",
            "name": "x",
            "region_code": "140502",
        },
    )
    assert r.status_code == 403


def test_tag_rule_tags_matching_entities_and_follows_changes(
    registry: Registry, new_entity
) -> None:
    station = new_entity(1, industry_code="5265", licences=["fuel_retail"])
    shop = new_entity(2, industry_code="5211")
    h = registry.headers()
    r = registry.client.post(
        "/v1/tags/rules", headers=h, json={"tag": "加油站", "industry_prefixes": ["5265"]}
    )
    assert r.status_code == 201 and r.json()["entities_retagged"] == 1
    assert registry.client.get(f"/v1/entities/{station['code']}", headers=h).json()["tags"] == [
        "加油站"
    ]
    # The shop changes industry: the rule now applies to it too (re-evaluated on change).
    r = registry.client.patch(
        f"/v1/entities/{shop['code']}", headers=h, json={"industry_code": "5265"}
    )
    assert r.json()["tags"] == ["加油站"]
    found = registry.client.get("/v1/entities", headers=h, params={"tag": "加油站"}).json()["items"]
    assert len(found) == 2
    rule_id = registry.client.get("/v1/tags/rules", headers=h).json()[0]["id"]
    r = registry.client.delete(f"/v1/tags/rules/{rule_id}", headers=h)
    assert r.json()["entities_retagged"] == 2
    assert (
        registry.client.get("/v1/entities", headers=h, params={"tag": "加油站"}).json()["items"]
        == []
    )


def test_the_tag_list_and_rules_are_the_provinces_and_counts_stay_in_jurisdiction(
    registry: Registry, new_entity
) -> None:
    new_entity(1, region="140502", tags=["重点"])
    new_entity(2, region="140521", tags=["重点"])
    county = registry.headers(region="140502")
    rule = {"tag": "加油站", "industry_prefixes": ["5265"]}
    for method, url, body in [
        ("post", "/v1/tags", {"name": "县里新标签"}),
        ("post", "/v1/tags/rules", rule),
    ]:
        r = registry.client.request(method, url, headers=county, json=body)
        assert r.status_code == 403, (url, r.text)
        assert r.json()["error"]["message"] == "仅省级人员可执行此操作"
    rule_id = registry.client.post("/v1/tags/rules", headers=registry.headers(), json=rule).json()
    r = registry.client.delete(f"/v1/tags/rules/{rule_id['id']}", headers=county)
    assert r.status_code == 403

    def count(headers: dict[str, str]) -> int:
        tags = registry.client.get("/v1/tags", headers=headers).json()
        return next(t["entities"] for t in tags if t["name"] == "重点")

    assert count(registry.headers()) == 2
    assert count(county) == 1  # the other county's entity is not counted


def test_openapi_lists_registry_endpoints(registry: Registry) -> None:
    paths = registry.client.get("/openapi.json").json()["paths"]
    for p in (
        "/v1/entities",
        "/v1/entities/{code}",
        "/v1/tags/rules",
        "/v1/imports/{kind}",
        "/v1/import-jobs",
        "/v1/import-jobs/{job_id}",
        "/healthz",
    ):
        assert p in paths
