"""The monthly scan (scan_all): every rule population-wide in set-based SQL. It must find
what the per-event hooks find, worded alike (same evidence key), raise nothing twice, and
not bring back a warning an officer closed on the same evidence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import orjson
import pytest
from sqlalchemy import delete, select

from services.scoring.features.facts import latest_due_report_year
from services.scoring.models import annual_reports, entity_classes, outbox, warnings
from services.scoring.warnings.scan import scan_all
from shared.db import transaction
from shared.events import EventData, RelationChanged, WarningChanged
from tests.scoring.conftest import Scoring, entity, record

# The hooks log and skip a failing rule; in these tests that is a failure.
pytestmark = pytest.mark.usefixtures("no_rule_failures")


def population(today: date, days_ago: Callable[[int], date]) -> list[EventData]:
    """A small population meeting every rule once or more, beside entities that do not."""
    events: list[EventData] = []
    # abnormal registration: five at one address, five of one person across one city
    events += [
        entity(i, address="山西省晋城市城区红星街1号", registered_on=days_ago(i)) for i in range(5)
    ]
    events += [
        entity(10 + i, region, legal_representative="孙某", registered_on=days_ago(2 * i))
        for i, region in enumerate(["140502", "140521", "140525", "140581", "140581"])
    ]
    events += [
        entity(20 + i, address="山西省晋城市城区红星街2号", registered_on=days_ago(50 + i))
        for i in range(5)
    ]
    # licences at one address
    events += [
        entity(
            30 + i, address="山西省晋城市城区红星街3号", licences=["food_business", "drug_retail"]
        )
        for i in range(4)
    ]
    # abnormal changes, complaint surge, all-zero report
    changed, complained, zero, fine = entity(40), entity(41), entity(42), entity(43)
    events += [changed, complained, zero, fine]
    events += [
        record(changed.code, "change", days_ago(10 * k + 1), k, field="name") for k in range(4)
    ]
    events += [
        record(fine.code, "change", days_ago(100 * k + 1), k, field="name") for k in range(4)
    ]
    events += [record(complained.code, "complaint", days_ago(k), k) for k in range(3)]
    events += [record(fine.code, "complaint", days_ago(40 * k), k) for k in range(3)]
    events += [record(zero.code, "annual_report", days_ago(60), year=today.year - 1, all_zero=True)]
    # related to a serious-dishonest entity: declared, and by address
    bad, partner, neighbour = (
        entity(50, address="山西省晋城市城区红星街5号"),
        entity(51),
        entity(52, address="山西省晋城市城区红星街5号"),
    )
    events += [bad, partner, neighbour]
    events += [
        RelationChanged(
            change="added",
            code=partner.code,
            kind="shareholder",
            counterpart_name="乙公司",
            counterpart_code=bad.code,
        ),
        record(bad.code, "dishonest_listed", days_ago(5)),
    ]
    return events


def open_warnings(scoring: Scoring) -> dict[tuple[str, str], str]:
    """(code, rule) -> basis of the open warnings."""
    with scoring.runtime.sessions() as s:
        rows = s.execute(
            select(warnings.c.code, warnings.c.rule_id, warnings.c.details).where(
                warnings.c.status != "closed"
            )
        )
        return {(r.code, r.rule_id): r.details["basis"] for r in rows}


def scan(scoring: Scoring, today: date):
    with transaction(scoring.runtime.sessions) as s:
        return scan_all(s, scoring.runtime.outbox, today)


@pytest.fixture
def populated(scoring: Scoring, today: date, days_ago: Callable[[int], date]) -> Scoring:
    scoring.apply(*population(today, days_ago))
    return scoring


def test_the_scan_finds_what_the_events_found_with_the_same_evidence(
    populated: Scoring, today: date
):
    by_events = open_warnings(populated)
    assert {rule for _, rule in by_events} == {
        "abnormal_registration",
        "licences_at_address",
        "abnormal_changes",
        "complaint_surge",
        "all_zero_annual_report",
        "related_high_risk",
    }
    assert len(by_events) == 5 + 5 + 4 + 1 + 1 + 1 + 2
    with transaction(populated.runtime.sessions) as s:
        s.execute(delete(warnings))
    report = scan(populated, today)
    assert open_warnings(populated) == by_events
    assert sum(report.raised.values()) == len(by_events)
    assert set(report.seconds) == set(report.raised)


def test_a_second_scan_raises_nothing(populated: Scoring, today: date):
    before = open_warnings(populated)
    with populated.runtime.sessions() as s:
        events_before = s.execute(
            select(outbox.c.id).where(outbox.c.event_type == WarningChanged.TYPE)
        ).all()
    report = scan(populated, today)
    assert sum(report.raised.values()) == 0
    assert sum(report.met.values()) == len(before)
    assert open_warnings(populated) == before
    with populated.runtime.sessions() as s:
        events_after = s.execute(
            select(outbox.c.id).where(outbox.c.event_type == WarningChanged.TYPE)
        ).all()
    assert len(events_after) == len(events_before)


def test_the_scan_does_not_bring_back_what_an_officer_closed(populated: Scoring, today: date):
    h = populated.headers()
    items = populated.client.get(
        "/v1/warnings", params={"rule": "all_zero_annual_report"}, headers=h
    ).json()["items"]
    url = f"/v1/warnings/{items[0]['warning_id']}"
    populated.client.post(url + "/action", json={"action": "警示"}, headers=h)
    populated.client.post(url + "/close", json={"note": "已警示"}, headers=h)
    report = scan(populated, today)
    assert report.raised["all_zero_annual_report"] == 0
    assert (items[0]["code"], "all_zero_annual_report") not in open_warnings(populated)


def test_the_scan_warns_the_links_of_a_class_d_entity(scoring: Scoring, today: date):
    d, same_address, same_person, unrelated = (
        entity(60, address="山西省晋城市城区红星街6号", legal_representative="周某"),
        entity(61, address="山西省晋城市城区红星街6号"),
        entity(62, "140581", legal_representative="周某"),
        entity(63, "140105", legal_representative="周某"),  # another city
    )
    scoring.apply(d, same_address, same_person, unrelated)
    with transaction(scoring.runtime.sessions) as s:
        # As the monthly full run would leave it: no per-event hook saw the change.
        s.execute(
            entity_classes.update().where(entity_classes.c.code == d.code).values(risk_class="D")
        )
    scan(scoring, today)
    found = {code for code, rule in open_warnings(scoring) if rule == "related_high_risk"}
    assert found == {same_address.code, same_person.code}
    with scoring.runtime.sessions() as s:
        details = s.execute(
            select(warnings.c.details).where(warnings.c.code == same_person.code)
        ).scalar_one()
    assert details["links"] == [
        {"code": d.code, "region_code": "140502", "via": "same_legal_representative"}
    ]
    assert "class" not in orjson.dumps(details).decode().lower()


def test_the_scan_leaves_all_zero_reports_of_past_years_alone(
    scoring: Scoring, today: date, days_ago: Callable[[int], date]
):
    due = latest_due_report_year(today)
    old, current = entity(70), entity(71)
    scoring.apply(old, current)
    with transaction(scoring.runtime.sessions) as s:
        # As a bootstrap leaves them: no per-event hook saw the reports.
        s.execute(
            annual_reports.insert(),
            [
                {"code": old.code, "year": due - 1, "all_zero": True, "reported_on": days_ago(400)},
                {"code": current.code, "year": due, "all_zero": True, "reported_on": days_ago(30)},
            ],
        )
    report = scan(scoring, today)
    assert report.met["all_zero_annual_report"] == 1
    assert (current.code, "all_zero_annual_report") in open_warnings(scoring)
    assert (old.code, "all_zero_annual_report") not in open_warnings(scoring)
