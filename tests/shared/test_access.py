"""One table of who may do what, followed by every route of every service (issue 9,
items 2 and 3): the same data is guarded the same way wherever it is served, and
province-wide acts need a province token whatever the role."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from services.registry.app import build_app as registry_app
from services.registry.settings import RegistrySettings
from shared.access import (
    ACCESS,
    CREDIT,
    DIRECTORY_READ,
    INSPECTOR_DIRECTORY_READ,
    OPERATIONS,
    Guard,
)
from shared.auth import Role, mint_token
from tests.services_skeletons.helpers import SAMPLING, SCORING, SKELETONS, inspector, running

README = Path(__file__).resolve().parents[2] / "README.md"


def _apps(tmp_path: Path) -> dict[str, FastAPI]:
    apps = {
        s.name: s.build_app(
            s.settings_cls(
                environment="test",
                database_url=f"sqlite:///{tmp_path / s.name}.sqlite3",
                run_relay=False,
                run_consumers=False,
            )
        )
        for s in SKELETONS
    }
    apps["registry"] = registry_app(
        RegistrySettings(
            environment="test",
            database_url=f"sqlite:///{tmp_path / 'registry'}.sqlite3",
            run_relay=False,
            run_consumers=False,
        )
    )
    return apps


def _guards(call_tree: Any) -> Iterator[Guard]:
    for dep in call_tree.dependencies:
        guard = getattr(dep.call, "guard", None)
        if guard is not None:
            yield guard
        yield from _guards(dep)


def _routes(app: FastAPI) -> Iterator[tuple[str, str, list[Guard]]]:
    for router in app.state.routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                for method in sorted(route.methods):
                    yield method, route.path, list(_guards(route.dependant))


def test_every_route_has_exactly_one_guard(tmp_path: Path) -> None:
    unguarded = [
        f"{name} {method} {path}: {[g.name for g in guards]}"
        for name, app in _apps(tmp_path).items()
        for method, path, guards in _routes(app)
        if len(guards) != 1
    ]
    assert unguarded == []


def test_the_same_data_has_the_same_guard_in_every_service(tmp_path: Path) -> None:
    by_route = {
        (name, method, path): guards[0]
        for name, app in _apps(tmp_path).items()
        for method, path, guards in _routes(app)
    }
    for name in ("scoring", "sampling", "publication"):
        assert by_route[(name, "GET", "/v1/projection/stats")] is DIRECTORY_READ
    for name in ("scoring", "sampling"):
        assert by_route[(name, "GET", "/v1/projection/entities/{code}")] is DIRECTORY_READ
    assert by_route[("registry", "GET", "/v1/entities/{code}")] is DIRECTORY_READ
    assert by_route[("registry", "GET", "/v1/inspectors/{certificate_no}")] is (
        INSPECTOR_DIRECTORY_READ
    )
    assert by_route[("sampling", "GET", "/v1/projection/inspectors/{certificate_no}")] is (
        INSPECTOR_DIRECTORY_READ
    )
    # Replays and resync checks are the system administrator's, in every service.
    admin = {k for k in by_route if k[2].startswith("/v1/admin/")}
    assert {k[0] for k in admin} == {"registry", "scoring", "sampling", "publication"}
    assert all(by_route[k] is OPERATIONS for k in admin)
    scoring_own = {
        path
        for (name, _m, path), guard in by_route.items()
        if name == "scoring" and not path.startswith(("/v1/projection", "/v1/admin/"))
    }
    assert scoring_own and all(
        by_route[k] is CREDIT for k in by_route if k[0] == "scoring" and k[2] in scoring_own
    )


def test_the_readme_table_is_the_code_table() -> None:
    rows = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\|\s*`(\w+)`\s*\|[^|]*\|([^|]*)\|", line)
        if m:
            rows[m.group(1)] = set(re.findall(r"`(\w+)`", m.group(2)))
    assert rows == {g.name: {r.value for r in g.roles} | {"admin"} for g in ACCESS}


def test_403_names_roles_in_words_not_enum_reprs(tmp_path: Path) -> None:
    with running(SCORING, f"sqlite:///{tmp_path / 's.sqlite3'}") as svc:
        r = svc.client.get("/v1/models", headers=svc.headers(role=Role.INSPECTOR))
    assert r.status_code == 403
    error = r.json()["error"]
    assert "<Role" not in error["message_en"] and "Role." not in error["message_en"]
    assert "credit_officer" in error["message_en"] and "inspector" in error["message_en"]
    assert "信用监管人员" in error["message"] and "执法检查人员" in error["message"]


def test_inspectors_cannot_read_colleagues_declarations_through_sampling(tmp_path: Path) -> None:
    with running(SAMPLING, f"sqlite:///{tmp_path / 's.sqlite3'}") as svc:
        svc.apply("inspectors", *inspector("14050001", 1, avoid_persons=["李四"]))
        path = "/v1/projection/inspectors/14050001"
        denied = svc.client.get(path, headers=svc.headers(role=Role.INSPECTOR))
        assert denied.status_code == 403
        assert "avoid" not in denied.text
        allowed = svc.client.get(path, headers=svc.headers(role=Role.BUSINESS_OFFICER))
        assert allowed.status_code == 200 and "avoid_persons" in allowed.json()


@pytest.fixture
def scoring_client(tmp_path: Path) -> Iterator[Any]:
    with running(SCORING, f"sqlite:///{tmp_path / 's.sqlite3'}") as svc:
        yield svc


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/runs", {"month": "2026-10"}),
        ("POST", "/v1/models/general/activate", {"version": 1, "note": "回滚"}),
        ("GET", "/v1/audit", None),
        ("GET", "/v1/audit/verify", None),
        (
            "PUT",
            "/v1/warnings/rules/abnormal_registration",
            {"enabled": True, "params": {"min_entities": 5, "window_days": 30}},
        ),
        ("GET", "/v1/exports/classes", None),
    ],
)
@pytest.mark.parametrize("region", ["140525", "140500"])
def test_province_wide_acts_refuse_a_county_or_city_admin(
    scoring_client: Any, method: str, path: str, body: Any, region: str
) -> None:
    headers = scoring_client.headers(region, role=Role.ADMIN)
    r = scoring_client.client.request(method, path, json=body, headers=headers)
    assert r.status_code == 403, r.text
    assert r.json()["error"]["message"] == "仅省级人员可执行此操作"


def test_a_province_admin_may_read_the_audit_log(scoring_client: Any) -> None:
    r = scoring_client.client.get("/v1/audit", headers=scoring_client.headers(role=Role.ADMIN))
    assert r.status_code == 200


def test_a_registry_admin_of_a_county_cannot_set_tag_rules(tmp_path: Path) -> None:
    settings = RegistrySettings(
        environment="test",
        database_url=f"sqlite:///{tmp_path / 'r.sqlite3'}",
        run_relay=False,
        run_consumers=False,
    )
    with TestClient(registry_app(settings)) as client:
        token = mint_token(settings.auth_secret, subject="t", role=Role.ADMIN, region="140525")
        r = client.post(
            "/v1/tags/rules",
            json={"tag": "食品生产", "industry_prefixes": ["14"]},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert r.status_code == 403
