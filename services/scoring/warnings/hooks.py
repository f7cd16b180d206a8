"""Where incoming changes meet the early-warning rules.

The consumer calls these inside its transaction, after the fact is stored and the entity
reclassified, so a warning and its ``scoring.warnings`` event commit with the fact. Each
hook evaluates only the rules its change can affect, through indexed lookups.

A failing rule must not cost the fact or the class it rides with (the event would go to
the dead-letter topic): a failure is logged and skipped, and the monthly ``scan_all``
catches up on whatever was missed. Writes run in a savepoint for that; the reads before
them are plain indexed SELECTs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date

from sqlalchemy.orm import Session

from services.scoring.warnings import evaluate as E
from services.scoring.warnings import links as L
from services.scoring.warnings import rules as R
from services.scoring.warnings.lifecycle import Finding, due, raise_due
from shared.outbox import Outbox

log = logging.getLogger(__name__)


def on_entities(session: Session, outbox: Outbox, codes: Sequence[str], *, as_of: date) -> None:
    """Entities were registered or changed (abnormal registration, licences at one
    address, and links to high-risk entities through their address or representative),
    with one read of each kind for all of them: entities, neighbourhoods, declared
    relations, high-risk entities among all their links. Measured: the rules per entity
    held the entity
    consumer near 1,300 events/s. A failure skips the batch's warnings (logged; the
    monthly scan catches up), never its facts or classes."""
    if not codes:
        return
    try:
        rules = R.load_rules(session)
        refs = list(L.entities(session, codes).values())
        hoods = L.neighbourhoods(session, refs)
        findings: list[Finding] = []
        for e in refs:
            if rule := _enabled(rules, R.ABNORMAL_REGISTRATION):
                findings += E.abnormal_registration(e, hoods[e.code], rule.params, as_of)
            if rule := _enabled(rules, R.LICENCES_AT_ADDRESS):
                findings += E.licences_at_address(e, hoods[e.code], rule.params)
        if rule := _enabled(rules, R.RELATED_HIGH_RISK):
            findings += _related_high_risk(session, refs, hoods, rule.params, as_of)
        findings = due(session, findings)
    except Exception:
        log.exception("warning rules failed in on_entities for %d entities; skipped", len(codes))
        return
    _raise(session, outbox, findings, "on_entities", f"{len(codes)} entities", as_of)


def _related_high_risk(
    session: Session,
    refs: Sequence[L.EntityRef],
    hoods: dict[str, L.Neighbourhood],
    params: R.RelatedHighRiskParams,
    as_of: date,
) -> list[Finding]:
    declared = L.declared_counterparts_of(session, [e.code for e in refs])
    links = {
        e.code: E.links_for_related_high_risk(session, e, hoods[e.code], params, declared[e.code])
        for e in refs
    }
    linked = {e.code for e in refs} | {x.entity.code for ls in links.values() for x in ls}
    high = L.high_risk_among(session, linked, as_of=as_of)
    return [f for e in refs for f in E.related_high_risk_of(e, links[e.code], high)]


def on_record(session: Session, outbox: Outbox, code: str, kind: str, *, as_of: date) -> None:
    """A fact or annual report of ``code`` was stored (changes, complaints, all-zero
    report; a serious-dishonest listing makes the entity's links high-risk-related)."""
    if kind not in ("change", "complaint", "annual_report", "dishonest_listed"):
        return

    def evaluate(rules: dict[str, R.Rule], e: L.EntityRef) -> list[Finding]:
        if kind == "change" and (rule := _enabled(rules, R.ABNORMAL_CHANGES)):
            return E.abnormal_changes(session, e, rule.params, as_of)
        if kind == "complaint" and (rule := _enabled(rules, R.COMPLAINT_SURGE)):
            return E.complaint_surge(session, e, rule.params, as_of)
        if kind == "annual_report" and (rule := _enabled(rules, R.ALL_ZERO_ANNUAL_REPORT)):
            return E.all_zero_annual_report(session, e, rule.params, as_of)
        if kind == "dishonest_listed" and (rule := _enabled(rules, R.RELATED_HIGH_RISK)):
            return E.related_high_risk(session, e, L.neighbourhood(session, e), rule.params, as_of)
        return []

    _run(session, outbox, code, as_of, "on_record", evaluate)


def on_relation(session: Session, outbox: Outbox, code: str, *, as_of: date) -> None:
    """A relation of ``code`` was added: ``code`` may now be related to a high-risk
    entity, or (being high-risk itself) make its new counterpart so."""

    def evaluate(rules: dict[str, R.Rule], e: L.EntityRef) -> list[Finding]:
        if rule := _enabled(rules, R.RELATED_HIGH_RISK):
            return E.related_high_risk(session, e, L.neighbourhood(session, e), rule.params, as_of)
        return []

    _run(session, outbox, code, as_of, "on_relation", evaluate)


def on_class_changed(
    session: Session, outbox: Outbox, code: str, risk_class: str, *, as_of: date
) -> None:
    """``code`` changed class: if it became high-risk, its related entities are warned.
    (The class itself is never logged: 内部参考.)"""
    if risk_class != L.HIGH_RISK_CLASS:
        return

    def evaluate(rules: dict[str, R.Rule], e: L.EntityRef) -> list[Finding]:
        if rule := _enabled(rules, R.RELATED_HIGH_RISK):
            return E.related_high_risk(session, e, L.neighbourhood(session, e), rule.params, as_of)
        return []

    # Not named in a log line: only entities that just became high-risk come here.
    _run(session, outbox, code, as_of, "on_class_changed", evaluate, name=False)


def _enabled(rules: dict[str, R.Rule], rule_id: str) -> R.Rule | None:
    rule = rules[rule_id]
    return rule if rule.enabled else None


def _run(
    session: Session,
    outbox: Outbox,
    code: str,
    as_of: date,
    hook: str,
    evaluate: Callable[[dict[str, R.Rule], L.EntityRef], list[Finding]],
    *,
    name: bool = True,
) -> None:
    """Evaluate ``code``'s rules and raise what is due; ``name``: whether a log line may
    name the entity (not where the hook itself says something of its class)."""
    what = code if name else "an entity"
    try:
        e = L.entity(session, code)
        if e is None:
            # Not projected yet (records may overtake the entity on another topic);
            # without its region the warning has no jurisdiction. The scan catches up.
            return
        findings = due(session, evaluate(R.load_rules(session), e))
    except Exception:
        log.exception("warning rules failed in %s for %s; skipped", hook, what)
        return
    _raise(session, outbox, findings, hook, what, as_of)


def _raise(
    session: Session, outbox: Outbox, findings: list[Finding], hook: str, what: str, as_of: date
) -> None:
    if not findings:
        return
    try:
        # Only writes need the savepoint (most events raise nothing and pay no round
        # trip for it): a failed write must not abort the consumer's transaction.
        with session.begin_nested():
            raise_due(session, outbox, findings, as_of=as_of)
    except Exception:
        log.exception("raising warnings failed in %s for %s; skipped", hook, what)
