"""Classes are internal (内部参考): analysis, audit and export need a credit officer's (or
admin's) token, answer within the jurisdiction only, and no error body or log line gives
a class or score away."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import insert

from services.scoring.models import entity_classes
from shared.auth import Role
from tests.scoring.conftest import Scoring, code_of
from tests.scoring.test_analysis import class_rows, put_classes

ENDPOINTS = [
    "/v1/analysis/distribution",
    "/v1/analysis/hotspots",
    "/v1/audit/verify",
    "/v1/audit",
    "/v1/exports/classes",
]
NON_CREDIT_ROLES = [Role.BUSINESS_OFFICER, Role.INSPECTOR, Role.REGISTRY_CLERK, Role.SERVICE]
SECRET_SCORE = 12.3456  # distinctive, so that any leak of it is found
LEAKY_KEYS = {"risk_class", "class", "score", "points", "counts", "shares", "share_cd"}
CLASS_LETTERS = {"A", "B", "C", "D"}


def neighbours(scoring: Scoring) -> str:
    """A D-class entity in 泽州县 140525 and a few in 城区 140502; returns the former's code."""
    put_classes(scoring, [(i, "A", "140502", "5261") for i in range(3)])
    secret = class_rows([(500, "D", "140525", "5261")])[0] | {"score": SECRET_SCORE}
    with scoring.runtime.sessions() as s:
        s.execute(insert(entity_classes), [secret])
        s.commit()
    return code_of(500, "140525")


def assert_reveals_no_class(body: Any) -> None:
    """No class or score field anywhere in an error body, and no bare class letter."""
    if isinstance(body, dict):
        assert not LEAKY_KEYS & set(body), body
        for value in body.values():
            assert_reveals_no_class(value)
    elif isinstance(body, list):
        for value in body:
            assert_reveals_no_class(value)
    else:
        assert body not in CLASS_LETTERS and body != SECRET_SCORE, body
        assert str(SECRET_SCORE) not in str(body)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_no_token_is_401(scoring: Scoring, path: str) -> None:
    neighbours(scoring)
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic x"}):
        r = scoring.client.get(path, headers=headers)
        assert r.status_code == 401, (path, headers)
        assert r.headers["www-authenticate"] == "Bearer"
        assert_reveals_no_class(r.json())


@pytest.mark.parametrize("path", ENDPOINTS)
def test_non_credit_roles_are_403(scoring: Scoring, path: str) -> None:
    neighbours(scoring)
    for role in NON_CREDIT_ROLES:
        r = scoring.client.get(path, headers=scoring.headers(role, "140000"))
        assert r.status_code == 403, (path, role)
        body = r.json()
        assert body["error"]["code"] == "forbidden" and body["error"]["message"]
        assert_reveals_no_class(body)


def test_county_officer_sees_only_their_county(scoring: Scoring) -> None:
    neighbours(scoring)
    h = scoring.headers(region="140502")
    dist = scoring.client.get("/v1/analysis/distribution", headers=h).json()
    assert dist["region_prefix"] == "140502"
    assert [g["group"] for g in dist["groups"]] == ["140502"]
    assert dist["counts"]["D"] == 0 and dist["total"] == 3
    for by in ("region", "industry"):
        for level in (None, 1, 2, 4, 6):
            params: dict[str, Any] = {"by": by, "min_size": 1}
            if level is not None:
                params["level"] = level
            for path in ("/v1/analysis/distribution", "/v1/analysis/hotspots"):
                r = scoring.client.get(path, params=params, headers=h)
                if r.status_code == 422:  # level not valid for this grouping
                    continue
                body = r.json()
                groups = body.get("groups", body.get("items"))
                assert sum(g["counts"]["D"] for g in groups) == 0, (path, params)


@pytest.mark.parametrize("region", ["140525", "1405", "140500", "14", "140000", "110000"])
def test_county_officer_cannot_ask_for_another_area(scoring: Scoring, region: str) -> None:
    neighbours(scoring)
    h = scoring.headers(region="140502")
    for path in ("/v1/analysis/distribution", "/v1/analysis/hotspots"):
        r = scoring.client.get(path, params={"region": region, "min_size": 1}, headers=h)
        assert r.status_code == 403, (path, region)
        body = r.json()
        assert body["error"]["field"] == "region"
        assert "辖区" in body["error"]["message"]
        assert_reveals_no_class(body)


def test_county_and_city_officers_cannot_export_or_read_the_audit_log(scoring: Scoring) -> None:
    neighbours(scoring)
    for region in ("140502", "140500"):
        for path in ("/v1/exports/classes", "/v1/audit", "/v1/audit/verify"):
            r = scoring.client.get(path, headers=scoring.headers(region=region))
            assert r.status_code == 403, (path, region)
            assert "省级" in r.json()["error"]["message"]
            assert_reveals_no_class(r.json())


def test_out_of_jurisdiction_entity_403_does_not_reveal_its_class(scoring: Scoring) -> None:
    code = neighbours(scoring)
    h = scoring.headers(region="140502")
    for path in (f"/v1/classes/{code}", f"/v1/classes/{code}/history"):
        r = scoring.client.get(path, headers=h)
        assert r.status_code == 403, path
        assert_reveals_no_class(r.json())
    # The same entity's own county does see it, so the 403 above is about jurisdiction.
    own = scoring.client.get(f"/v1/classes/{code}", headers=scoring.headers(region="140525"))
    assert own.status_code == 200 and own.json()["risk_class"] == "D"


def test_404_and_422_bodies_reveal_no_class(scoring: Scoring) -> None:
    neighbours(scoring)
    h = scoring.headers()
    missing = scoring.client.get(f"/v1/classes/{code_of(999, '140525')}", headers=h)
    assert missing.status_code == 404
    assert_reveals_no_class(missing.json())
    unknown = scoring.client.get("/v1/analysis/nothing", headers=h)
    assert unknown.status_code == 404
    assert_reveals_no_class(unknown.json())
    for path, params in [
        ("/v1/analysis/distribution", {"level": 5}),
        ("/v1/analysis/distribution", {"by": "D"}),
        ("/v1/analysis/hotspots", {"top": "x"}),
        ("/v1/audit", {"after_seq": -1}),
        ("/v1/audit/verify", {"anchor_seq": 1}),
    ]:
        r = scoring.client.get(path, params=params, headers=h)
        assert r.status_code == 422, (path, params)
        assert r.json()["error"]["field"]
        assert_reveals_no_class(r.json())


def test_no_class_or_score_in_log_lines(scoring: Scoring, caplog: pytest.LogCaptureFixture) -> None:
    code = neighbours(scoring)
    caplog.set_level(logging.DEBUG)
    h = scoring.headers()
    for path, params in [
        ("/v1/analysis/distribution", {}),
        ("/v1/analysis/hotspots", {"min_size": 1}),
        ("/v1/exports/classes", {}),
        (f"/v1/classes/{code}/history", {}),
    ]:
        assert scoring.client.get(path, params=params, headers=h).status_code == 200, path
    # A read that hands the class and the score out, by the entity's own county.
    read = scoring.client.get(f"/v1/classes/{code}", headers=scoring.headers(region="140525"))
    assert read.status_code == 200
    assert (read.json()["risk_class"], read.json()["score"]) == ("D", SECRET_SCORE)
    lines = [rec.getMessage() for rec in caplog.records if rec.levelno >= logging.INFO]
    # The successful read was logged (the client logs each request), so it is checked too.
    assert any(f"/v1/classes/{code} " in line for line in lines), lines
    for message in lines:
        assert str(SECRET_SCORE) not in message, message
        assert "risk_class" not in message and "score" not in message.lower(), message
