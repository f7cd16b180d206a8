"""Indicator models are data: read by credit officers, changed by province-level ones,
every change a new version with the old ones kept."""

from __future__ import annotations

from tests.scoring.conftest import Scoring


def general(scoring: Scoring) -> dict:
    r = scoring.client.get("/v1/models/general", headers=scoring.headers())
    assert r.status_code == 200, r.text
    return r.json()


def test_the_shipped_models_are_version_one(scoring: Scoring):
    r = scoring.client.get("/v1/models", headers=scoring.headers())
    ids = {m["model_id"]: m["version"] for m in r.json()}
    assert ids == {
        "general": 1,
        "individual_business": 1,
        "food_production": 1,
        "special_equipment": 1,
    }


def test_a_change_is_a_new_version_and_the_old_one_stays(scoring: Scoring):
    spec = general(scoring)["spec"]
    spec["cutoffs"]["D"] = spec["cutoffs"]["D"] + 5
    r = scoring.client.put(
        "/v1/models/general",
        json={"base_version": 1, "note": "上调D类分数线", "spec": spec},
        headers=scoring.headers(),
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.json()["active"]
    versions = scoring.client.get("/v1/models/general/versions", headers=scoring.headers()).json()
    assert [(v["version"], v["active"]) for v in versions] == [(1, False), (2, True)]
    # someone still editing version 1 is refused rather than overwriting version 2
    stale = scoring.client.put(
        "/v1/models/general",
        json={"base_version": 1, "note": "x", "spec": spec},
        headers=scoring.headers(),
    )
    assert stale.status_code == 409 and stale.json()["error"]["field"] == "base_version"
    back = scoring.client.post(
        "/v1/models/general/activate",
        json={"version": 1, "note": "回退"},
        headers=scoring.headers(),
    )
    assert back.status_code == 200 and back.json()["version"] == 1
    # Read again: version 1 is the active one, with its own cut-off.
    active = general(scoring)
    assert active["version"] == 1 and active["spec"]["cutoffs"]["D"] == spec["cutoffs"]["D"] - 5
    versions = scoring.client.get("/v1/models/general/versions", headers=scoring.headers()).json()
    assert [(v["version"], v["active"]) for v in versions] == [(1, True), (2, False)]


def test_county_officers_may_read_but_not_change_models(scoring: Scoring):
    county = scoring.headers(region="140502")
    assert scoring.client.get("/v1/models/general", headers=county).status_code == 200
    spec = general(scoring)["spec"]
    r = scoring.client.put(
        "/v1/models/general", json={"base_version": 1, "note": "x", "spec": spec}, headers=county
    )
    assert r.status_code == 403


def test_a_broken_model_is_refused_naming_the_field(scoring: Scoring):
    spec = general(scoring)["spec"]
    spec["indicators"][0]["bins"]["risk"] = [0.5]
    r = scoring.client.put(
        "/v1/models/general",
        json={"base_version": 1, "note": "bad", "spec": spec},
        headers=scoring.headers(),
    )
    assert r.status_code == 422
    assert "spec.indicators.0.bins" in r.json()["error"]["field"]
    assert (
        scoring.client.get("/v1/models/general", headers=scoring.headers()).json()["version"] == 1
    )
