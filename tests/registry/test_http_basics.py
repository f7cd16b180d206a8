"""What every service's HTTP layer owes its callers (issue 9, item 6): per-route metrics,
an Allow header on 405, and times with their zone on both stores."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from tests.registry.conftest import Registry


def test_metrics_are_labelled_by_route_template(
    registry: Registry, new_entity: Callable[..., dict]
) -> None:
    code = new_entity(1)["code"]
    assert (
        registry.client.get(f"/v1/entities/{code}", headers=registry.headers()).status_code == 200
    )
    assert registry.client.get("/no/such/path").status_code == 404
    text = registry.client.get("/metrics").text
    # The counters are the process's (other tests count too): the labels are what matter.
    assert (
        'registry_http_requests_total{method="GET",route="/v1/entities/{code}",status="200"}'
        in (text)
    )
    assert 'route="/v1/entities",status="201"' in text  # the POST of new_entity
    assert code not in text  # templates, not raw paths: ids do not become labels
    assert 'route="unmatched",status="404"' in text


def test_405_lists_every_allowed_method(registry: Registry) -> None:
    r = registry.client.put("/v1/entities", headers=registry.headers())
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, POST"
    assert r.json()["error"]["code"] == "http_405"
    r = registry.client.post("/v1/entities/91140500MA0K00000X", headers=registry.headers())
    assert r.status_code == 405
    assert set(r.headers["allow"].split(", ")) == {"GET", "PATCH"}


def test_timestamps_carry_their_time_zone(
    registry: Registry, new_entity: Callable[..., dict]
) -> None:
    created = new_entity(2)
    again = registry.client.get(f"/v1/entities/{created['code']}", headers=registry.headers())
    for body in (created, again.json()):
        for field in ("created_at", "updated_at"):
            moment = datetime.fromisoformat(body[field])
            assert moment.utcoffset() is not None, (field, body[field])
            assert moment.utcoffset().total_seconds() == 0


def test_a_body_that_is_not_json_is_named_in_chinese(registry: Registry) -> None:
    def post_raw(content: bytes) -> Any:
        headers = {**registry.headers(), "content-type": "application/json"}
        return registry.client.post("/v1/entities", content=content, headers=headers)

    r = post_raw(b'{"code": "x",')
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "body"
    assert r.json()["error"]["message"] == "body: 请求体不是有效的 JSON"
    r = post_raw(b"\x80\x81")
    assert r.status_code == 400
    assert r.json()["error"]["message"] == "请求体无法解析"


def test_openapi_declares_the_error_answers(registry: Registry) -> None:
    spec = registry.client.get("/openapi.json").json()
    ref = "#/components/schemas/ErrorResponse"
    for path, ops in spec["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, op in ops.items():
            for status in ("401", "403", "404", "409", "422"):
                content = op["responses"][status]["content"]["application/json"]
                assert content["schema"] == {"$ref": ref}, (method, path, status)
    assert "HTTPValidationError" not in spec["components"]["schemas"]
