"""The rules applied to one entity, as one event touches it (the per-event path).

Each function returns the findings of one rule; the hooks raise them. Windows end on the
evaluation day ``as_of`` inclusive: "within D days" is (as_of − D, as_of]. Warnings go to
active entities only; the evidence may include entities in any status (a shell firm
deregistered since still counts as registered at that address)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.scoring.models import annual_reports, facts
from services.scoring.warnings import findings as F
from services.scoring.warnings import links as L
from services.scoring.warnings import rules as R
from services.scoring.warnings.lifecycle import Finding


def window_start(as_of: date, days: int) -> date:
    """The last day before a window of ``days`` days ending on ``as_of``."""
    return as_of - timedelta(days=days)


def baseline_days(months: int) -> int:
    return round(months * 365 / 12)


# abnormal registration (异常注册) ---------------------------------------------------


def abnormal_registration(
    e: L.EntityRef, hood: L.Neighbourhood, params: R.AbnormalRegistrationParams, as_of: date
) -> list[Finding]:
    """Only a registration inside the window can form a cluster with others; each active
    member of a cluster is warned (each may sit in another county's jurisdiction, and
    each is a candidate shell firm, not only the newest)."""
    since = window_start(as_of, params.window_days)
    if not e.registered_body or e.registered_on is None or not since < e.registered_on <= as_of:
        return []
    clusters: list[tuple[F.RegistrationCluster, list[L.EntityRef]]] = []
    groups = (
        (F.BY_ADDRESS, e.address, hood.at_address),
        (
            F.BY_LEGAL_REPRESENTATIVE,
            f"{e.city}:{e.legal_representative}" if e.legal_representative else None,
            hood.same_legal_representative,
        ),
    )
    for by, value, group in groups:
        members = [
            p
            for p in group
            if p.registered_body
            and p.registered_on is not None
            and since < p.registered_on <= as_of
        ]
        if value is None or len(members) < params.min_entities:
            continue
        days = [p.registered_on for p in members if p.registered_on is not None]
        cluster = F.RegistrationCluster(
            by=by,
            value=value,
            members=tuple(L.peer_ref(p) for p in members),
            first_registered_on=min(days),
            last_registered_on=max(days),
        )
        clusters.append((cluster, members))
    targets: dict[str, L.EntityRef] = {}
    for _, members in clusters:
        targets.update((p.code, p) for p in members if p.active)
    return [
        F.abnormal_registration(
            t.code,
            t.region_code,
            [c for c, members in clusters if any(m.code == t.code for m in members)],
            params,
        )
        for t in targets.values()
    ]


# many licences at one address (一址多证) -------------------------------------------


def licences_at_address(
    e: L.EntityRef, hood: L.Neighbourhood, params: R.LicencesAtAddressParams
) -> list[Finding]:
    """Only a licence holder can tip an address over the threshold; every active
    licence holder there is warned (the licences, not the address, are what is lent)."""
    if not e.active or not e.licences or not e.address:
        return []
    active = [p for p in hood.at_address if p.active]
    total = sum(len(p.licences) for p in active)
    if total < params.min_licences:
        return []
    holders = [p for p in active if p.licences]
    refs = [L.peer_ref(p) for p in holders]
    return [
        F.licences_at_address(
            p.code,
            p.region_code,
            address=e.address,
            licences=total,
            entities=len(active),
            holders=refs,
        )
        for p in holders
    ]


# abnormal changes (异常变更) ---------------------------------------------------------


def abnormal_changes(
    session: Session, e: L.EntityRef, params: R.AbnormalChangesParams, as_of: date
) -> list[Finding]:
    since = window_start(as_of, max(params.window_days, params.legal_representative_window_days))
    rows = session.execute(
        select(facts.c.detail, facts.c.occurred_on).where(
            facts.c.code == e.code,
            facts.c.kind == "change",
            facts.c.occurred_on > since,
            facts.c.occurred_on <= as_of,
        )
    ).all()
    general_since = window_start(as_of, params.window_days)
    lr_since = window_start(as_of, params.legal_representative_window_days)
    changes = sum(1 for _, on in rows if on > general_since)
    lr_changes = sum(1 for d, on in rows if d == "legal_representative" and on > lr_since)
    if not e.active or not F.changes_qualify(changes, lr_changes, params):
        return []
    return [
        F.abnormal_changes(
            e.code,
            e.region_code,
            changes=changes,
            legal_representative_changes=lr_changes,
            last_change_on=max(on for _, on in rows),
            params=params,
        )
    ]


# complaint surge (投诉异常增长) -------------------------------------------------------


def complaint_surge(
    session: Session, e: L.EntityRef, params: R.ComplaintSurgeParams, as_of: date
) -> list[Finding]:
    recent_since = window_start(as_of, params.recent_days)
    since = recent_since - timedelta(days=baseline_days(params.baseline_months))
    dates = list(
        session.execute(
            select(facts.c.occurred_on).where(
                facts.c.code == e.code,
                facts.c.kind == "complaint",
                facts.c.occurred_on > since,
                facts.c.occurred_on <= as_of,
            )
        ).scalars()
    )
    recent = [d for d in dates if d > recent_since]
    baseline = len(dates) - len(recent)
    if not e.active or not recent or len(recent) < F.complaint_threshold(baseline, params):
        return []
    return [
        F.complaint_surge(
            e.code,
            e.region_code,
            recent=len(recent),
            baseline=baseline,
            last_complaint_on=max(recent),
            params=params,
        )
    ]


# all-zero annual report (年报全零) ----------------------------------------------------


def all_zero_annual_report(
    session: Session, e: L.EntityRef, params: R.AllZeroAnnualReportParams, as_of: date
) -> list[Finding]:
    """The entity's latest report (the one stored), if it is recent enough to act on."""
    report = session.execute(
        select(annual_reports.c.year, annual_reports.c.all_zero).where(
            annual_reports.c.code == e.code
        )
    ).first()
    if report is None or not report.all_zero or not e.active:
        return []
    if report.year < F.first_warned_report_year(as_of, params):
        return []
    return [F.all_zero_annual_report(e.code, e.region_code, year=report.year)]


# related to a high-risk entity (关联高风险) ---------------------------------------------


def _links(
    session: Session,
    e: L.EntityRef,
    hood: L.Neighbourhood,
    params: R.RelatedHighRiskParams,
    counterparts: list[L.EntityRef] | None = None,
) -> list[L.Link]:
    return L.links_of(
        session,
        e,
        hood,
        declared=params.via_declared_relations,
        address=params.via_same_address,
        legal_representative=params.via_same_legal_representative,
        counterparts=counterparts,
    )


def links_for_related_high_risk(
    session: Session,
    e: L.EntityRef,
    hood: L.Neighbourhood,
    params: R.RelatedHighRiskParams,
    counterparts: list[L.EntityRef],
) -> list[L.Link]:
    """The links ``related_high_risk`` follows, with ``e``'s declared counterparts read
    already (no query)."""
    return _links(session, e, hood, params, counterparts)


def related_high_risk(
    session: Session,
    e: L.EntityRef,
    hood: L.Neighbourhood,
    params: R.RelatedHighRiskParams,
    as_of: date,
) -> list[Finding]:
    """Both directions at once: ``e`` linked to a high-risk entity is warned, and if
    ``e`` itself is high-risk, every active entity linked to it is warned."""
    links = _links(session, e, hood, params)
    high = L.high_risk_among(session, {e.code} | {link.entity.code for link in links}, as_of=as_of)
    return related_high_risk_of(e, links, high)


def related_high_risk_of(e: L.EntityRef, links: Sequence[L.Link], high: set[str]) -> list[Finding]:
    """``related_high_risk`` given ``e``'s links and which of them (and ``e``) are
    high-risk: the batch of a consumer reads those for all its entities at once."""
    out: list[Finding] = []
    risky_links = [link for link in links if link.entity.code in high]
    if e.active and risky_links:
        out.append(F.related_high_risk(e.code, e.region_code, _refs(risky_links)))
    if e.code in high:
        out += _linked_to_high_risk(e, links, high)
    return out


def _linked_to_high_risk(e: L.EntityRef, links: Sequence[L.Link], high: set[str]) -> list[Finding]:
    """Findings for the entities linked to high-risk ``e``. Each one's evidence is ``e``
    and the other high-risk entities of the same groups (address, representative); its
    own other links are left to its own events and to the monthly scan."""
    vias: dict[str, list[str]] = {}
    targets: dict[str, L.EntityRef] = {}
    for link in links:
        if link.entity.active:
            vias.setdefault(link.entity.code, []).append(link.via)
            targets[link.entity.code] = link.entity
    group_risky = {
        via: [link.entity for link in links if link.via == via and link.entity.code in high]
        for via in (L.VIA_ADDRESS, L.VIA_LEGAL_REPRESENTATIVE)
    }
    out = []
    for code, target in targets.items():
        evidence = [L.Link(e, via) for via in vias[code]]
        for via in vias[code]:
            evidence += [L.Link(p, via) for p in group_risky.get(via, []) if p.code != code]
        out.append(F.related_high_risk(code, target.region_code, _refs(evidence)))
    return out


def _refs(links: Sequence[L.Link]) -> list[dict[str, str]]:
    unique = {(link.entity.code, link.via): link for link in links}
    return [{**L.peer_ref(link.entity), "via": link.via} for link in unique.values()]
