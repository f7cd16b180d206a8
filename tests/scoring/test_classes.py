"""Classes through the service: records arrive through the inbox handlers, the entity is
reclassified at once, a change (and only a change) is announced on scoring.classes, and
officers read classes within their jurisdiction with the points that explain them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from services.scoring.indicators.store import get as get_model
from services.scoring.models import class_history, entity_classes, facts, outbox
from shared.auth import Role
from shared.events import ClassChanged, InspectionResultEvent
from shared.workdays import china_today
from tests.scoring.conftest import Scoring, code_of, entity, record
from tests.waiting import wait_until


def class_events(scoring: Scoring, code: str) -> list[dict]:
    import orjson

    with scoring.runtime.sessions() as s:
        rows = s.execute(
            select(outbox.c.payload).where(
                outbox.c.event_type == ClassChanged.TYPE, outbox.c.key == code
            )
        ).scalars()
        return [orjson.loads(p)["data"] for p in rows]


def current(scoring: Scoring, code: str) -> str | None:
    with scoring.runtime.sessions() as s:
        return s.execute(
            select(entity_classes.c.risk_class).where(entity_classes.c.code == code)
        ).scalar_one_or_none()


def penalties(code: str, n: int, start: int = 0) -> list:
    today = china_today()
    return [
        record(code, "penalty", today - timedelta(days=10 + k), start + k, amount=50000)
        for k in range(n)
    ]


def test_a_new_entity_gets_a_class_and_one_event(scoring: Scoring):
    e = entity(1)
    scoring.apply(e)
    assert current(scoring, e.code) == "A"
    events = class_events(scoring, e.code)
    assert [(ev["risk_class"], ev["previous_class"], ev["cause"]) for ev in events] == [
        ("A", None, "incremental")
    ]


def test_penalties_raise_the_class_and_only_changes_are_announced(scoring: Scoring):
    e = entity(2)
    scoring.apply(e, *penalties(e.code, 1))
    first = current(scoring, e.code)
    scoring.apply(record(e.code, "complaint", china_today(), 0, category="服务质量"))
    scoring.apply(*penalties(e.code, 4, start=10), record(e.code, "abnormal_listed", china_today()))
    last = current(scoring, e.code)
    assert "ABCD".index(last) > "ABCD".index(first)
    events = class_events(scoring, e.code)
    # one event per distinct change, each naming the class it left
    assert all(a["risk_class"] != a["previous_class"] for a in events)
    assert events[-1]["risk_class"] == last
    with scoring.runtime.sessions() as s:
        history = s.execute(
            select(class_history.c.risk_class).where(class_history.c.code == e.code)
        ).scalars()
        assert list(history) == [ev["risk_class"] for ev in events]


def test_a_redelivered_record_counts_once(scoring: Scoring):
    e = entity(3)
    pen = penalties(e.code, 1)[0]
    scoring.apply(e, pen)
    # the same record again (e.g. a replay from the registry's outbox, new event id)
    scoring.apply(pen)
    with scoring.runtime.sessions() as s:
        n = s.execute(
            select(func.count()).select_from(facts).where(facts.c.code == e.code)
        ).scalar_one()
    assert n == 1


def test_the_serious_dishonest_list_forces_d_and_removal_lifts_it(scoring: Scoring):
    e = entity(4)
    day = china_today() - timedelta(days=30)
    scoring.apply(e, record(e.code, "dishonest_listed", day))
    assert current(scoring, e.code) == "D"
    scoring.apply(record(e.code, "dishonest_removed", day + timedelta(days=5)))
    assert current(scoring, e.code) != "D"


def test_an_inspection_result_closes_the_loop(scoring: Scoring):
    e = entity(5)
    scoring.apply(e)
    r = scoring.client.get(f"/v1/classes/{e.code}", headers=scoring.headers())
    before = r.json()["score"]
    for k in range(3):
        scoring.apply(
            InspectionResultEvent(
                visit_id=f"V{k}",
                task_no="JC-2026-001",
                code=e.code,
                item="登记事项检查",
                results=["ordered_to_rectify"],
                finished_on=china_today() - timedelta(days=k),
            )
        )
    after = scoring.client.get(f"/v1/classes/{e.code}", headers=scoring.headers()).json()
    assert after["score"] > before
    assert any(
        c["indicator"] == "inspection_problems" and c["points"] > 0 for c in after["contributions"]
    )


def test_deregistration_removes_the_current_class_but_keeps_history(scoring: Scoring):
    e = entity(6)
    scoring.apply(e)
    scoring.apply(entity(6, version=2, change="deregistered", status="deregistered"))
    assert current(scoring, e.code) is None
    r = scoring.client.get(f"/v1/classes/{e.code}", headers=scoring.headers())
    assert r.status_code == 404


def test_social_organisations_get_no_class(scoring: Scoring):
    e = entity(7, entity_type="social_organisation")
    scoring.apply(e)
    assert current(scoring, e.code) is None


def test_the_explanation_adds_up_to_the_score(scoring: Scoring):
    e = entity(8, registered_on=china_today() - timedelta(days=200), registered_capital=3)
    scoring.apply(e, *penalties(e.code, 2))
    body = scoring.client.get(f"/v1/classes/{e.code}", headers=scoring.headers()).json()
    total = sum(c["points"] for c in body["contributions"])
    assert abs(total - body["score"]) < 0.05
    assert body["contributions"][0]["points"] >= body["contributions"][-1]["points"]
    assert {c["group"] for c in body["contributions"]} >= {"基础属性", "监管信息"}


def test_indicators_without_points_are_stored_out_but_explained(scoring: Scoring):
    e = entity(9)  # no records: most indicators give no points
    scoring.apply(e)
    with scoring.runtime.sessions() as s:
        stored = s.execute(
            select(entity_classes.c.points, entity_classes.c.model_id).where(
                entity_classes.c.code == e.code
            )
        ).one()
        model = get_model(s, stored.model_id.partition("+")[0])
    assert 0 not in stored.points.values()
    body = scoring.client.get(f"/v1/classes/{e.code}", headers=scoring.headers()).json()
    listed = [c["indicator"] for c in body["contributions"]]
    assert sorted(listed) == sorted(ind.id for ind in model.spec.indicators)
    assert any(c["points"] == 0 for c in body["contributions"])


def test_only_credit_officers_of_the_jurisdiction_read_classes(scoring: Scoring):
    e = entity(9, region="140502")
    scoring.apply(e)
    url = f"/v1/classes/{e.code}"
    assert scoring.client.get(url).status_code == 401
    for role in (Role.BUSINESS_OFFICER, Role.INSPECTOR, Role.REGISTRY_CLERK, Role.SERVICE):
        r = scoring.client.get(url, headers=scoring.headers(role=role))
        assert r.status_code == 403, role
    other_county = scoring.client.get(url, headers=scoring.headers(region="140525"))
    assert other_county.status_code == 403
    assert "risk_class" not in other_county.text and '"A"' not in other_county.text
    assert scoring.client.get(url, headers=scoring.headers(region="140502")).status_code == 200
    assert scoring.client.get(url, headers=scoring.headers(region="140500")).status_code == 200


def test_the_class_list_stays_in_jurisdiction(scoring: Scoring):
    scoring.apply(entity(10, region="140502"), entity(11, region="140525"))
    county = scoring.client.get("/v1/classes", headers=scoring.headers(region="140502")).json()
    assert [i["code"] for i in county["items"]] == [code_of(10, "140502")]
    r = scoring.client.get(
        "/v1/classes", params={"region": "140525"}, headers=scoring.headers(region="140502")
    )
    assert r.status_code == 403
    r = scoring.client.get("/v1/classes", params={"risk_class": "E"}, headers=scoring.headers())
    assert r.status_code == 422 and "risk_class" in r.text


def test_the_monthly_run_dates_a_class_for_everyone(scoring: Scoring):
    scoring.apply(*(entity(20 + i) for i in range(5)))
    r = scoring.client.post(
        "/v1/runs", json={"month": "2026-10", "as_of": "2026-10-31"}, headers=scoring.headers()
    )
    assert r.status_code == 202, r.text
    runs = wait_until(
        lambda: [
            run
            for run in scoring.client.get("/v1/runs", headers=scoring.headers()).json()
            if run["month"] == "2026-10" and run["status"] == "finished"
        ],
        timeout=120,
        what="the October run to finish (a failed run removes its row)",
    )
    assert runs[0]["entities"] == 5 and sum(runs[0]["class_counts"].values()) == 5
    again = scoring.client.post("/v1/runs", json={"month": "2026-10"}, headers=scoring.headers())
    assert again.status_code == 409 and again.json()["error"]["field"] == "month"
    county = scoring.client.post(
        "/v1/runs", json={"month": "2026-09"}, headers=scoring.headers(region="140502")
    )
    assert county.status_code == 403
    history = scoring.client.get(
        f"/v1/classes/{code_of(20)}/history", headers=scoring.headers()
    ).json()
    # dated: the run's class as of 31 October, then the incremental one of today
    assert [(h["cause"], h["as_of"]) for h in history] == [
        ("monthly_run", "2026-10-31"),
        ("incremental", china_today().isoformat()),
    ]
