"""The monthly scan: every rule over the whole population at once, after the monthly
full run. It catches what the per-event hooks could not see (records that overtook their
entity, bulk loads, thresholds an officer just lowered, a window that moved).

Each rule is a handful of set-based queries (GROUP BY address, legal representative,
code …) over the tables, never a loop over entities; only the (few) entities that meet
a rule come back to Python, to be worded by ``findings`` exactly as the hooks word them.
``raise_warnings`` then skips entities with an open warning of the rule and evidence
officers already closed."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, literal_column, or_, select, union_all
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from services.scoring.models import (
    annual_reports,
    entity_projection,
    facts,
    relations,
)
from services.scoring.warnings import findings as F
from services.scoring.warnings import links as L
from services.scoring.warnings import rules as R
from services.scoring.warnings.evaluate import baseline_days, window_start
from services.scoring.warnings.lifecycle import Finding, raise_warnings
from shared.outbox import Outbox

log = logging.getLogger(__name__)
ep = entity_projection


@dataclass
class ScanReport:
    as_of: date
    met: dict[str, int] = field(default_factory=dict)  # entities meeting each rule
    raised: dict[str, int] = field(default_factory=dict)  # new warnings of each rule
    seconds: dict[str, float] = field(default_factory=dict)


def scan_all(session: Session, outbox: Outbox, as_of: date) -> ScanReport:
    """Evaluate every enabled rule population-wide and raise the warnings due (none for
    an entity with one open, none for evidence an officer closed). Runs in the caller's
    transaction: the warnings and their events commit together."""
    report = ScanReport(as_of)
    for rule_id, rule in R.current_rules(session).items():
        if not rule.enabled:
            continue
        started = time.perf_counter()
        found = SCANS[rule_id](session, rule.params, as_of)
        report.met[rule_id] = len(found)
        report.raised[rule_id] = raise_warnings(
            session, outbox, found, as_of=as_of, whole_rule=True
        )
        report.seconds[rule_id] = round(time.perf_counter() - started, 3)
        log.info(
            "warning scan: rule=%s met=%d raised=%d seconds=%.2f",
            rule_id,
            len(found),
            report.raised[rule_id],
            report.seconds[rule_id],
        )
    return report


# How the queries are shaped, learnt on a million entities:
# - The rows a rule reads (the month's registrations, the change facts, the listings …)
#   are first picked by a sequential scan into a MATERIALIZED CTE, then grouped. Grouping
#   the tables directly let SQLite walk an index (address, facts.code) to skip a sort,
#   fetching every row at random: 10-20 times slower.
# - No "status = 'active'" in SQL: SQLite would drive the query from the status index
#   (nine rows in ten match it). Rows carry their status, checked here.


def _materialized(query: Select[Any], name: str) -> Any:
    return query.cte(name).prefix_with("MATERIALIZED")


def _registered_body(table: Any = ep) -> ColumnElement[bool]:
    return table.c.entity_type.not_in(L.NOT_REGISTERED_BODIES)


def _city(table: Any = ep) -> Any:
    # Literal bounds: PostgreSQL matches a GROUP BY expression to the select list only
    # when the two are identical, and two bound parameters are not.
    return func.substr(table.c.region_code, literal_column("1"), literal_column("4"))


def _date(value: Any) -> date:
    # Aggregates over dates come back as text on SQLite.
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _ref(code: str, region_code: str | None) -> dict[str, str]:
    return {"code": code, "region_code": region_code or ""}


# abnormal registration (异常注册) ---------------------------------------------------


def scan_abnormal_registration(
    session: Session, params: R.AbnormalRegistrationParams, as_of: date
) -> list[Finding]:
    since = window_start(as_of, params.window_days)
    window = _materialized(
        select(
            ep.c.code,
            ep.c.region_code,
            ep.c.status,
            ep.c.registered_on,
            ep.c.address,
            ep.c.legal_representative,
            _city().label("city"),
        ).where(ep.c.registered_on > since, ep.c.registered_on <= as_of, _registered_body()),
        "registrations",
    )
    crowded = (
        select(window.c.address)
        .where(window.c.address.is_not(None), window.c.address != "")
        .group_by(window.c.address)
        .having(func.count() >= params.min_entities)
    )
    prolific = (
        select(window.c.legal_representative.label("name"), window.c.city)
        .where(window.c.legal_representative.is_not(None), window.c.legal_representative != "")
        .group_by(window.c.legal_representative, window.c.city)
        .having(func.count() >= params.min_entities)
        .subquery()
    )
    member_cols = (window.c.code, window.c.region_code, window.c.status, window.c.registered_on)
    query = union_all(
        select(
            literal(F.BY_ADDRESS).label("by"), *member_cols, window.c.address.label("value")
        ).where(window.c.address.in_(crowded)),
        select(
            literal(F.BY_LEGAL_REPRESENTATIVE).label("by"),
            *member_cols,
            (prolific.c.city + ":" + prolific.c.name).label("value"),
        ).join_from(
            window,
            prolific,
            and_(
                window.c.legal_representative == prolific.c.name, window.c.city == prolific.c.city
            ),
        ),
    )
    members: dict[tuple[str, str], list[Any]] = {}
    for row in session.execute(query):
        members.setdefault((row.by, row.value), []).append(row)

    clusters_of: dict[str, list[F.RegistrationCluster]] = {}
    region_of: dict[str, str] = {}
    for (by, value), rows in members.items():
        days = [_date(r.registered_on) for r in rows]
        cluster = F.RegistrationCluster(
            by=by,
            value=value,
            members=tuple(_ref(r.code, r.region_code) for r in rows),
            first_registered_on=min(days),
            last_registered_on=max(days),
        )
        for r in rows:
            if r.status == L.ACTIVE:
                clusters_of.setdefault(r.code, []).append(cluster)
                region_of[r.code] = r.region_code
    return [
        F.abnormal_registration(code, region_of[code], clusters, params)
        for code, clusters in clusters_of.items()
    ]


# many licences at one address (一址多证) -------------------------------------------


def scan_licences_at_address(
    session: Session, params: R.LicencesAtAddressParams, as_of: date
) -> list[Finding]:
    n_licences = func.json_array_length(ep.c.licences)
    is_active = case((ep.c.status == L.ACTIVE, 1), else_=0)
    held = _materialized(
        select(
            ep.c.code,
            ep.c.region_code,
            ep.c.address,
            (n_licences * is_active).label("licences"),
            is_active.label("active"),
        ).where(ep.c.address != "", n_licences > 0, _registered_body()),
        "held_licences",
    )
    crowded = (
        select(held.c.address, func.sum(held.c.licences).label("total"))
        .group_by(held.c.address)
        .having(func.sum(held.c.licences) >= params.min_licences)
        .subquery()
    )
    # Every active entity at the address counts, with or without a licence: the address
    # index finds them for the (few) crowded addresses.
    active_there = (
        select(func.count())
        .where(
            ep.c.address == crowded.c.address,
            func.coalesce(ep.c.status, "") == L.ACTIVE,
            _registered_body(),
        )
        .scalar_subquery()
    )
    query = (
        select(held.c.code, held.c.region_code, held.c.address, crowded.c.total)
        .add_columns(active_there.label("entities"))
        .join_from(held, crowded, held.c.address == crowded.c.address)
        .where(held.c.active == 1)
    )
    by_address: dict[str, list[Any]] = {}
    for row in session.execute(query):
        by_address.setdefault(row.address, []).append(row)
    out = []
    for address, rows in by_address.items():
        refs = [_ref(r.code, r.region_code) for r in rows]
        out += [
            F.licences_at_address(
                r.code,
                r.region_code,
                address=address,
                licences=int(r.total),
                entities=int(r.entities),
                holders=refs,
            )
            for r in rows
        ]
    return out


# abnormal changes (异常变更) ---------------------------------------------------------


def scan_abnormal_changes(
    session: Session, params: R.AbnormalChangesParams, as_of: date
) -> list[Finding]:
    general_since = window_start(as_of, params.window_days)
    lr_since = window_start(as_of, params.legal_representative_window_days)
    changes = _materialized(
        select(facts.c.code, facts.c.detail, facts.c.occurred_on).where(
            facts.c.kind == "change",
            facts.c.occurred_on > min(general_since, lr_since),
            facts.c.occurred_on <= as_of,
        ),
        "changes",
    )
    general = func.sum(case((changes.c.occurred_on > general_since, 1), else_=0))
    lr = func.sum(
        case(
            (
                and_(changes.c.detail == "legal_representative", changes.c.occurred_on > lr_since),
                1,
            ),
            else_=0,
        )
    )
    per_code = (
        select(
            changes.c.code,
            general.label("changes"),
            lr.label("lr_changes"),
            func.max(changes.c.occurred_on).label("last_change_on"),
        )
        .group_by(changes.c.code)
        .having(or_(general >= params.min_changes, lr >= params.min_legal_representative_changes))
        .subquery()
    )
    query = select(per_code, ep.c.region_code, ep.c.status).join_from(
        per_code, ep, ep.c.code == per_code.c.code
    )
    return [
        F.abnormal_changes(
            r.code,
            r.region_code,
            changes=int(r.changes),
            legal_representative_changes=int(r.lr_changes),
            last_change_on=_date(r.last_change_on),
            params=params,
        )
        for r in session.execute(query)
        if r.status == L.ACTIVE
    ]


# complaint surge (投诉异常增长) -------------------------------------------------------


def scan_complaint_surge(
    session: Session, params: R.ComplaintSurgeParams, as_of: date
) -> list[Finding]:
    recent_since = window_start(as_of, params.recent_days)
    complaints = _materialized(
        select(facts.c.code, facts.c.occurred_on).where(
            facts.c.kind == "complaint",
            facts.c.occurred_on > window_start(recent_since, baseline_days(params.baseline_months)),
            facts.c.occurred_on <= as_of,
        ),
        "complaints",
    )
    is_recent = complaints.c.occurred_on > recent_since
    recent = func.sum(case((is_recent, 1), else_=0))
    per_code = (
        select(
            complaints.c.code,
            recent.label("recent"),
            func.count().label("total"),
            func.max(case((is_recent, complaints.c.occurred_on))).label("last_on"),
        )
        .group_by(complaints.c.code)
        # The cheap half of the threshold in SQL; the factor half below, with the same
        # arithmetic as the per-event path.
        .having(recent >= params.min_count)
        .subquery()
    )
    query = select(per_code, ep.c.region_code, ep.c.status).join_from(
        per_code, ep, ep.c.code == per_code.c.code
    )
    out = []
    for r in session.execute(query):
        baseline = int(r.total) - int(r.recent)
        if r.status == L.ACTIVE and int(r.recent) >= F.complaint_threshold(baseline, params):
            out.append(
                F.complaint_surge(
                    r.code,
                    r.region_code,
                    recent=int(r.recent),
                    baseline=baseline,
                    last_complaint_on=_date(r.last_on),
                    params=params,
                )
            )
    return out


# all-zero annual report (年报全零) ----------------------------------------------------


def scan_all_zero_annual_report(
    session: Session, params: R.AllZeroAnnualReportParams, as_of: date
) -> list[Finding]:
    query = (
        select(annual_reports.c.code, annual_reports.c.year, ep.c.region_code, ep.c.status)
        .join_from(annual_reports, ep, ep.c.code == annual_reports.c.code)
        .where(
            annual_reports.c.all_zero.is_(True),
            annual_reports.c.year >= F.first_warned_report_year(as_of, params),
        )
    )
    return [
        F.all_zero_annual_report(r.code, r.region_code, year=int(r.year))
        for r in session.execute(query)
        if r.status == L.ACTIVE
    ]


# related to a high-risk entity (关联高风险) ---------------------------------------------


def scan_related_high_risk(
    session: Session, params: R.RelatedHighRiskParams, as_of: date
) -> list[Finding]:
    """One statement: the high-risk entities (a small set) drive index lookups of the
    entities linked to them, by address, by representative and by declared relation."""
    listings = _materialized(
        select(facts.c.code, facts.c.kind, facts.c.occurred_on).where(
            facts.c.kind.in_(L.DISHONEST_KINDS)
        ),
        "listings",
    )
    high_codes = _materialized(L.high_risk_codes(as_of, listings=listings), "high_risk_codes")
    high = _materialized(
        select(
            ep.c.code,
            ep.c.region_code,
            ep.c.address,
            ep.c.legal_representative,
            _city().label("city"),
            ep.c.entity_type,
        ).join_from(high_codes, ep, ep.c.code == high_codes.c.code),
        "high_risk",
    )
    t = ep
    wanted = (t.c.code, t.c.region_code, t.c.status)
    parts = []
    if params.via_same_address:
        parts.append(
            select(*wanted, high.c.code.label("high_code"), high.c.region_code.label("high_region"))
            .add_columns(literal(L.VIA_ADDRESS).label("via"))
            .join_from(high, t, t.c.address == high.c.address)
            .where(
                high.c.address != "",
                high.c.entity_type.not_in(L.NOT_REGISTERED_BODIES),
                _registered_body(t),
                t.c.code != high.c.code,
            )
        )
    if params.via_same_legal_representative:
        parts.append(
            select(*wanted, high.c.code.label("high_code"), high.c.region_code.label("high_region"))
            .add_columns(literal(L.VIA_LEGAL_REPRESENTATIVE).label("via"))
            .join_from(
                high,
                t,
                and_(
                    t.c.legal_representative == high.c.legal_representative,
                    t.c.region_code.startswith(high.c.city),
                ),
            )
            .where(
                high.c.legal_representative != "",
                high.c.entity_type.not_in(L.NOT_REGISTERED_BODIES),
                _registered_body(t),
                t.c.code != high.c.code,
            )
        )
    if params.via_declared_relations:
        # A relation ties both ends: the high-risk entity may be either of them. The
        # high-risk end need not be projected (a listing may overtake its entity).
        for mine, theirs in (
            (relations.c.code, relations.c.counterpart_code),
            (relations.c.counterpart_code, relations.c.code),
        ):
            other = aliased(ep, name="other_end")
            parts.append(
                select(
                    *wanted,
                    high_codes.c.code.label("high_code"),
                    other.c.region_code.label("high_region"),
                )
                .add_columns(literal(L.VIA_DECLARED).label("via"))
                .join_from(high_codes, relations, theirs == high_codes.c.code)
                .join(t, t.c.code == mine)
                .outerjoin(other, other.c.code == high_codes.c.code)
                .where(t.c.code != high_codes.c.code)
            )
    if not parts:
        return []
    links: dict[str, dict[tuple[str, str], dict[str, str]]] = {}
    region_of: dict[str, str] = {}
    for r in session.execute(union_all(*parts)):
        if r.status != L.ACTIVE:
            continue
        region_of[r.code] = r.region_code
        links.setdefault(r.code, {})[(r.high_code, r.via)] = {
            **_ref(r.high_code, r.high_region),
            "via": r.via,
        }
    return [
        F.related_high_risk(code, region_of[code], list(refs.values()))
        for code, refs in links.items()
    ]


SCANS: dict[str, Callable[[Session, Any, date], list[Finding]]] = {
    R.ABNORMAL_REGISTRATION: scan_abnormal_registration,
    R.ABNORMAL_CHANGES: scan_abnormal_changes,
    R.COMPLAINT_SURGE: scan_complaint_surge,
    R.ALL_ZERO_ANNUAL_REPORT: scan_all_zero_annual_report,
    R.RELATED_HIGH_RISK: scan_related_high_risk,
    R.LICENCES_AT_ADDRESS: scan_licences_at_address,
}
