"""Early-warning rules (监测预警) evaluated on events: records and snapshots arrive through
the real inbox handlers, and the hooks raise warnings (with their scoring.warnings events)
in the same transaction. Windows are relative to today, as the consumer evaluates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import orjson
import pytest
from sqlalchemy import select

from services.scoring.features.facts import latest_due_report_year
from services.scoring.models import entity_classes, outbox, warning_rules, warnings
from services.scoring.warnings import hooks
from services.scoring.warnings.rules import current_rules, forget_cached_rules
from shared.db import transaction
from shared.events import RelationChanged, WarningChanged
from tests.scoring.conftest import Scoring, entity, record

# The hooks log and skip a failing rule; in these tests that is a failure.
pytestmark = pytest.mark.usefixtures("no_rule_failures")


def warned(scoring: Scoring, rule: str) -> dict[str, dict]:
    """code -> details of the open warnings of ``rule``."""
    with scoring.runtime.sessions() as s:
        rows = s.execute(
            select(warnings.c.code, warnings.c.details).where(
                warnings.c.rule_id == rule, warnings.c.status != "closed"
            )
        )
        return {r.code: r.details for r in rows}


def warning_events(scoring: Scoring) -> list[dict]:
    with scoring.runtime.sessions() as s:
        rows = s.execute(
            select(outbox.c.payload).where(outbox.c.event_type == WarningChanged.TYPE)
        ).scalars()
        return [orjson.loads(p)["data"] for p in rows]


# abnormal registration (异常注册) -----------------------------------------------------


def test_five_registrations_at_one_address_within_30_days_warn_each(
    scoring: Scoring, days_ago: Callable[[int], date]
):
    address = "山西省晋城市城区凤台东街1号201室"
    crowd = [entity(100 + i, address=address, registered_on=days_ago(3 * i)) for i in range(5)]
    scoring.apply(*crowd[:4])
    assert warned(scoring, "abnormal_registration") == {}
    scoring.apply(crowd[4])
    found = warned(scoring, "abnormal_registration")
    assert set(found) == {e.code for e in crowd}
    cluster = found[crowd[0].code]["clusters"][0]
    assert cluster["by"] == "address" and cluster["entities"] == 5
    assert cluster["address"] == address
    events = [e for e in warning_events(scoring) if e["rule"] == "abnormal_registration"]
    assert sorted(e["code"] for e in events) == sorted(e.code for e in crowd)
    assert {e["status"] for e in events} == {"raised"}


def test_old_registrations_at_one_address_do_not_cluster(
    scoring: Scoring, days_ago: Callable[[int], date]
):
    address = "山西省晋城市城区凤台东街2号"
    old = [entity(110 + i, address=address, registered_on=days_ago(40 + i)) for i in range(4)]
    new = entity(115, address=address, registered_on=days_ago(1))
    scoring.apply(*old, new)
    assert warned(scoring, "abnormal_registration") == {}


def test_one_legal_representative_registering_five_firms_in_one_city(
    scoring: Scoring, days_ago: Callable[[int], date]
):
    # Different addresses and counties of one city (晋城 1405): one person.
    firms = [
        entity(120 + i, region, legal_representative="王建国", registered_on=days_ago(i))
        for i, region in enumerate(["140502", "140502", "140521", "140525", "140581"])
    ]
    # The same name in another city is another person.
    elsewhere = entity(126, "140105", legal_representative="王建国", registered_on=days_ago(2))
    scoring.apply(elsewhere, *firms)
    found = warned(scoring, "abnormal_registration")
    assert set(found) == {f.code for f in firms}
    assert found[firms[0].code]["clusters"][0]["legal_representative"] == "王建国"


def test_a_deregistered_member_counts_but_is_not_warned(
    scoring: Scoring, days_ago: Callable[[int], date]
):
    address = "山西省晋城市城区凤台东街3号"
    crowd = [entity(130 + i, address=address, registered_on=days_ago(i)) for i in range(5)]
    gone = entity(130, address=address, registered_on=days_ago(0), version=2, status="deregistered")
    scoring.apply(crowd[0], gone, *crowd[1:])
    assert set(warned(scoring, "abnormal_registration")) == {e.code for e in crowd[1:]}


# many licences at one address (一址多证) ---------------------------------------------


def test_eight_licences_at_one_address_warn_the_holders(scoring: Scoring):
    address = "山西省晋城市城区泽州路8号"
    kinds = ["food_business", "food_production", "drug_retail", "medical_device"]
    holders = [entity(140 + i, address=address, licences=kinds[:2]) for i in range(3)]
    bare = entity(145, address=address)
    scoring.apply(bare, *holders)
    assert warned(scoring, "licences_at_address") == {}  # 6 licences
    fourth = entity(146, address=address, licences=kinds[2:])
    scoring.apply(fourth)
    found = warned(scoring, "licences_at_address")
    assert set(found) == {h.code for h in holders} | {fourth.code}  # not the bare one
    assert found[fourth.code]["licences"] == 8 and found[fourth.code]["entities"] == 5


# abnormal changes (异常变更) -----------------------------------------------------------


def test_four_changes_within_180_days(scoring: Scoring, days_ago: Callable[[int], date]):
    e = entity(150)
    scoring.apply(e)
    fields = ["address", "name", "capital", "scope"]
    scoring.apply(
        *(
            record(e.code, "change", days_ago(30 * k + 1), k, field=f)
            for k, f in enumerate(fields[:3])
        )
    )
    scoring.apply(record(e.code, "change", days_ago(400), 9, field="name"))  # outside
    assert warned(scoring, "abnormal_changes") == {}
    scoring.apply(record(e.code, "change", days_ago(100), 3, field="scope"))
    details = warned(scoring, "abnormal_changes")[e.code]
    assert details["changes"] == 4 and details["window_days"] == 180


def test_two_changes_of_legal_representative_within_a_year(
    scoring: Scoring, days_ago: Callable[[int], date]
):
    e = entity(151)
    scoring.apply(
        e,
        record(e.code, "change", days_ago(300), 0, field="legal_representative"),
        record(e.code, "change", days_ago(5), 1, field="legal_representative"),
    )
    details = warned(scoring, "abnormal_changes")[e.code]
    assert details["legal_representative_changes"] == 2
    assert "法定代表人" in details["summary"]


# complaint surge (投诉异常增长) ---------------------------------------------------------


def test_three_complaints_in_a_month_from_a_quiet_entity(
    scoring: Scoring, days_ago: Callable[[int], date]
):
    e = entity(160)
    scoring.apply(e, *(record(e.code, "complaint", days_ago(k), k) for k in range(2)))
    assert warned(scoring, "complaint_surge") == {}
    scoring.apply(record(e.code, "complaint", days_ago(20), 2))
    details = warned(scoring, "complaint_surge")[e.code]
    assert (details["recent"], details["baseline"]) == (3, 0)


def test_a_habitually_complained_about_entity_needs_three_times_its_average(
    scoring: Scoring, days_ago: Callable[[int], date]
):
    e = entity(161)
    # 24 complaints over the 12 months before: 2 a month, so the bar is 6.
    history = [record(e.code, "complaint", days_ago(40 + 14 * k), k) for k in range(24)]
    recent = [record(e.code, "complaint", days_ago(k), 100 + k) for k in range(6)]
    scoring.apply(e, *history, *recent[:5])
    assert warned(scoring, "complaint_surge") == {}
    scoring.apply(recent[5])
    details = warned(scoring, "complaint_surge")[e.code]
    assert (details["recent"], details["baseline"], details["threshold"]) == (6, 24, 6.0)


# all-zero annual report (年报全零) -----------------------------------------------------


def test_an_all_zero_annual_report(scoring: Scoring, today: date, days_ago: Callable[[int], date]):
    ok, zero = entity(170), entity(171)
    scoring.apply(
        ok,
        zero,
        record(ok.code, "annual_report", days_ago(100), year=today.year - 1, all_zero=False),
        record(zero.code, "annual_report", days_ago(100), year=today.year - 1, all_zero=True),
    )
    assert set(warned(scoring, "all_zero_annual_report")) == {zero.code}
    assert warned(scoring, "all_zero_annual_report")[zero.code]["year"] == today.year - 1


def test_reports_fall_due_on_30_june_of_the_year_after():
    assert latest_due_report_year(date(2026, 6, 30)) == 2024
    assert latest_due_report_year(date(2026, 7, 1)) == 2025
    assert latest_due_report_year(date(2027, 1, 1)) == 2025


def annual_reports_since(code: str, first: int, last: int, zero: set[int], today: date) -> list:
    """One report per year, each filed in the spring after it, oldest first (as an
    imported history arrives)."""
    return [
        record(code, "annual_report", date(y + 1, 3, 1), year=y, all_zero=y in zero)
        for y in range(first, last + 1)
        if date(y + 1, 3, 1) <= today
    ]


def test_an_all_zero_report_of_a_past_year_is_not_warned(scoring: Scoring, today: date):
    """A replayed history: each year's report is the latest for a moment. Only the report
    of the latest year that has fallen due is worth an officer's visit (the demo warned
    2013 reports, ten years after, for entities whose later reports were all fine)."""
    due = latest_due_report_year(today)
    once_zero, last_zero, zero_then_silent = entity(172), entity(173), entity(174)
    scoring.apply(
        once_zero,
        last_zero,
        zero_then_silent,
        *annual_reports_since(once_zero.code, 2013, due, zero={2013}, today=today),
        *annual_reports_since(last_zero.code, 2013, due, zero={2013, due}, today=today),
        *annual_reports_since(zero_then_silent.code, 2013, due - 1, zero={due - 1}, today=today),
    )
    found = warned(scoring, "all_zero_annual_report")
    assert set(found) == {last_zero.code}
    assert found[last_zero.code]["year"] == due


def test_the_report_window_is_a_rule_parameter(scoring: Scoring, today: date):
    h = scoring.headers()
    url = "/v1/warnings/rules/all_zero_annual_report"
    rules = {r["rule_id"]: r for r in scoring.client.get("/v1/warnings/rules", headers=h).json()}
    assert rules["all_zero_annual_report"]["params"] == {"report_years": 1}
    for bad in (0, 21, "two"):
        r = scoring.client.put(
            url, json={"enabled": True, "params": {"report_years": bad}}, headers=h
        )
        assert r.status_code == 422, (bad, r.text)
    r = scoring.client.put(url, json={"enabled": True, "params": {"report_years": 2}}, headers=h)
    assert r.status_code == 200, r.text
    due = latest_due_report_year(today)
    year_before, two_before = entity(175), entity(176)
    scoring.apply(
        year_before,
        two_before,
        record(year_before.code, "annual_report", date(due, 3, 1), year=due - 1, all_zero=True),
        record(two_before.code, "annual_report", date(due - 1, 3, 1), year=due - 2, all_zero=True),
    )
    assert set(warned(scoring, "all_zero_annual_report")) == {year_before.code}


# related to a high-risk entity (关联高风险) ---------------------------------------------


def relation(code: str, counterpart: str) -> RelationChanged:
    return RelationChanged(
        change="added",
        code=code,
        kind="shareholder",
        counterpart_name="某公司",
        counterpart_code=counterpart,
    )


def test_a_dishonest_listing_warns_the_related_entities(
    scoring: Scoring, days_ago: Callable[[int], date]
):
    bad, shareholder_of_bad, neighbour, stranger = (
        entity(180, address="山西省晋城市城区某路180号"),
        entity(181),
        entity(182, address="山西省晋城市城区某路180号"),
        entity(183),
    )
    scoring.apply(
        bad, shareholder_of_bad, neighbour, stranger, relation(shareholder_of_bad.code, bad.code)
    )
    assert warned(scoring, "related_high_risk") == {}
    scoring.apply(record(bad.code, "dishonest_listed", days_ago(1)))
    found = warned(scoring, "related_high_risk")
    assert set(found) == {shareholder_of_bad.code, neighbour.code}
    links = found[shareholder_of_bad.code]["links"]
    assert links == [{"code": bad.code, "region_code": "140502", "via": "declared_relation"}]
    assert found[neighbour.code]["links"][0]["via"] == "same_address"
    # The wording covers both kinds of high risk and names no class.
    summary = found[neighbour.code]["summary_en"]
    assert "high-risk or serious-dishonest" in summary
    assert "class" not in orjson.dumps(found).decode().lower()


def test_a_removal_after_the_listing_ends_the_high_risk(
    scoring: Scoring, days_ago: Callable[[int], date]
):
    bad, other = entity(184), entity(185)
    scoring.apply(
        bad,
        other,
        record(bad.code, "dishonest_listed", days_ago(100)),
        record(bad.code, "dishonest_removed", days_ago(10)),
    )
    scoring.apply(relation(other.code, bad.code))
    assert warned(scoring, "related_high_risk") == {}


def test_a_relation_declared_to_a_high_risk_entity(
    scoring: Scoring, days_ago: Callable[[int], date]
):
    bad, newcomer = entity(186), entity(187)
    scoring.apply(bad, newcomer, record(bad.code, "dishonest_listed", days_ago(3)))
    assert warned(scoring, "related_high_risk") == {}
    # Declared by either end, the relation ties both.
    scoring.apply(relation(bad.code, newcomer.code))
    assert set(warned(scoring, "related_high_risk")) == {newcomer.code}


def test_a_firm_registered_at_a_dishonest_firms_address_is_warned_at_once(
    scoring: Scoring, days_ago: Callable[[int], date]
):
    address = "山西省晋城市城区某路200号"
    bad = entity(192, address=address)
    scoring.apply(bad, record(bad.code, "dishonest_listed", days_ago(30)))
    newcomer = entity(193, "140581", address=address, registered_on=days_ago(1))
    scoring.apply(newcomer)
    assert set(warned(scoring, "related_high_risk")) == {newcomer.code}
    # A county officer elsewhere is told that a link exists, not which entity it is.
    h = scoring.headers(region="140581")
    w = scoring.client.get("/v1/warnings", params={"code": newcomer.code}, headers=h).json()
    details = w["items"][0]["details"]
    assert details["links"] == [] and details["links_outside_jurisdiction"] == 1
    assert details["related"] == 1


def test_becoming_class_d_warns_the_same_legal_representatives_firms(scoring: Scoring, today: date):
    bad = entity(188, "140502", legal_representative="赵某")
    same_person = entity(189, "140581", legal_representative="赵某")  # same city
    scoring.apply(bad, same_person)
    with _tx(scoring) as s:
        s.execute(
            entity_classes.update().where(entity_classes.c.code == bad.code).values(risk_class="D")
        )
        hooks.on_class_changed(s, scoring.runtime.outbox, bad.code, "D", as_of=today)
    found = warned(scoring, "related_high_risk")
    assert set(found) == {same_person.code}
    assert found[same_person.code]["links"][0]["via"] == "same_legal_representative"


def _tx(scoring: Scoring):
    return transaction(scoring.runtime.sessions)


# rules as data ------------------------------------------------------------------------


def test_a_disabled_rule_raises_nothing(
    scoring: Scoring, today: date, days_ago: Callable[[int], date]
):
    r = scoring.client.put(
        "/v1/warnings/rules/all_zero_annual_report",
        json={"enabled": False, "params": {"report_years": 1}},
        headers=scoring.headers(),
    )
    assert r.status_code == 200, r.text
    e = entity(190)
    scoring.apply(
        e, record(e.code, "annual_report", days_ago(9), year=today.year - 1, all_zero=True)
    )
    assert warned(scoring, "all_zero_annual_report") == {}


def test_a_lowered_threshold_applies_to_the_next_event(
    scoring: Scoring, days_ago: Callable[[int], date]
):
    with _tx(scoring) as s:
        current_rules(s)
        s.execute(
            warning_rules.update()
            .where(warning_rules.c.rule_id == "abnormal_changes")
            .values(params={"min_changes": 2})  # the other params keep their defaults
        )
        forget_cached_rules(s)  # as the API does; other processes wait out the cache
    e = entity(191)
    scoring.apply(
        e,
        record(e.code, "change", days_ago(10), 0, field="name"),
        record(e.code, "change", days_ago(5), 1, field="address"),
    )
    assert warned(scoring, "abnormal_changes")[e.code]["changes"] == 2
