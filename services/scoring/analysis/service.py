"""Class distributions by region and industry, their change between the two latest monthly
runs, and the highest-risk groups — always within the caller's jurisdiction, every read
audited. Counting happens in SQL (GROUP BY over at most a few hundred groups), so a
million classified entities never come into memory."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, sessionmaker

from services.scoring.analysis.groups import UNKNOWN, finish_key, group_column, level_of, scope_of
from services.scoring.analysis.schemas import (
    By,
    ClassCounts,
    ClassShares,
    Distribution,
    GroupStats,
    GroupTrend,
    Hotspots,
    RunRef,
)
from services.scoring.audit import log as audit
from services.scoring.models import class_history, class_runs, entity_classes
from shared.auth import Principal

CLASSES = ("A", "B", "C", "D")
HIGH_RISK = ("C", "D")
_SHARE_DIGITS = 4


@dataclass
class _Tally:
    """Class counts per group."""

    counts: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))

    def add(self, group: str, risk_class: str, n: int) -> None:
        if risk_class in CLASSES:
            per = self.counts[group]
            per[risk_class] = per.get(risk_class, 0) + n

    def share_cd(self, group: str) -> float | None:
        per = self.counts.get(group)
        total = sum(per.values()) if per else 0
        return _share(sum(per.get(c, 0) for c in HIGH_RISK), total) if per and total else None


@dataclass
class _Analysis:
    by: By
    level: int
    scope: str
    groups: list[GroupStats]
    current: RunRef | None
    previous: RunRef | None


def distribution(
    session: Session,
    audit_sessions: sessionmaker[Session],
    principal: Principal,
    *,
    by: By,
    region: str | None,
    level: int | None,
) -> Distribution:
    a = _analyse(session, principal, by=by, region=region, level=level)
    totals = ClassCounts(**{c: sum(getattr(g.counts, c) for g in a.groups) for c in CLASSES})
    _audit(audit_sessions, principal, "distribution", a, {"groups": len(a.groups)})
    return Distribution(
        by=a.by,
        level=a.level,
        region_prefix=a.scope,
        total=sum(g.total for g in a.groups),
        counts=totals,
        groups=a.groups,
        current_run=a.current,
        previous_run=a.previous,
    )


def hotspots(
    session: Session,
    audit_sessions: sessionmaker[Session],
    principal: Principal,
    *,
    by: By,
    region: str | None,
    level: int | None,
    top: int,
    min_size: int,
) -> Hotspots:
    """Groups with the highest share of C+D. Groups smaller than ``min_size`` are left out:
    one high-risk firm alone would otherwise top the list at 100%."""
    a = _analyse(session, principal, by=by, region=region, level=level)
    ranked = sorted(
        (g for g in a.groups if g.total >= min_size and g.group != UNKNOWN),
        key=lambda g: (-g.share_cd, -g.total, g.group),
    )[:top]
    _audit(
        audit_sessions,
        principal,
        "hotspots",
        a,
        {"top": top, "min_size": min_size, "returned": len(ranked)},
    )
    return Hotspots(
        by=a.by,
        level=a.level,
        region_prefix=a.scope,
        min_size=min_size,
        items=ranked,
        current_run=a.current,
        previous_run=a.previous,
    )


def _audit(
    audit_sessions: sessionmaker[Session],
    principal: Principal,
    kind: str,
    a: _Analysis,
    extra: dict[str, Any],
) -> None:
    # Committed on its own before the figures are returned: the request's transaction
    # commits only after the response is sent, too late to guarantee the read is logged.
    audit.record_committed(
        audit_sessions,
        principal,
        "read_analysis",
        f"{kind}:{a.by}:{a.scope}",
        {"kind": kind, "by": a.by, "level": a.level, "region": a.scope, **extra},
    )


def _analyse(
    session: Session, principal: Principal, *, by: By, region: str | None, level: int | None
) -> _Analysis:
    scope = scope_of(principal, region)
    lvl = level_of(by, level, scope)
    current = _current_tally(session, by, lvl, scope)
    runs = _latest_runs(session)
    trends: dict[str, GroupTrend] = {}
    if len(runs) == 2:
        trends = _trends(session, by, lvl, scope, current_run=runs[0], previous_run=runs[1])
    groups = [
        _stats(group, per, trends.get(group))
        for group, per in sorted(current.counts.items(), key=lambda kv: _order(kv[0]))
    ]
    return _Analysis(
        by=by,
        level=lvl,
        scope=scope,
        groups=groups,
        current=runs[0] if runs else None,
        previous=runs[1] if len(runs) == 2 else None,
    )


def _current_tally(session: Session, by: By, level: int, scope: str) -> _Tally:
    t = entity_classes
    inner = (
        select(group_column(t, by, level).label("g"), t.c.risk_class)
        .where(t.c.region_code.startswith(scope, autoescape=True))
        .subquery()
    )
    tally = _Tally()
    for g, risk_class, n in session.execute(
        select(inner.c.g, inner.c.risk_class, func.count()).group_by(inner.c.g, inner.c.risk_class)
    ):
        tally.add(finish_key(by, level, g), risk_class, n)
    return tally


def _latest_runs(session: Session) -> list[RunRef]:
    """The two most recent finished monthly runs, newest first (a run still in progress
    has only part of the population and would skew the comparison)."""
    rows = session.execute(
        select(class_runs.c.id, class_runs.c.month, class_runs.c.as_of)
        .where(class_runs.c.finished_at.is_not(None))
        .order_by(class_runs.c.month.desc())
        .limit(2)
    ).all()
    return [RunRef(run_id=r.id, month=r.month, as_of=r.as_of) for r in rows]


def _trends(
    session: Session, by: By, level: int, scope: str, *, current_run: RunRef, previous_run: RunRef
) -> dict[str, GroupTrend]:
    h = class_history
    in_scope = h.c.region_code.startswith(scope, autoescape=True)

    per_run = (
        select(h.c.run_id, group_column(h, by, level).label("g"), h.c.risk_class)
        .where(h.c.run_id.in_([current_run.run_id, previous_run.run_id]), in_scope)
        .subquery()
    )
    tallies = {current_run.run_id: _Tally(), previous_run.run_id: _Tally()}
    for run_id, g, risk_class, n in session.execute(
        select(per_run.c.run_id, per_run.c.g, per_run.c.risk_class, func.count()).group_by(
            per_run.c.run_id, per_run.c.g, per_run.c.risk_class
        )
    ):
        tallies[run_id].add(finish_key(by, level, g), risk_class, n)

    # Entities in both runs, grouped by where they are now. Class letters sort in risk
    # order (A < B < C < D), so a string comparison tells up from down.
    cur, prev = h.alias("cur"), h.alias("prev")
    moves = (
        select(
            group_column(cur, by, level).label("g"),
            case((cur.c.risk_class > prev.c.risk_class, 1), else_=0).label("up"),
            case((cur.c.risk_class < prev.c.risk_class, 1), else_=0).label("down"),
        )
        .join_from(cur, prev, (prev.c.code == cur.c.code) & (prev.c.run_id == previous_run.run_id))
        .where(
            cur.c.run_id == current_run.run_id,
            cur.c.region_code.startswith(scope, autoescape=True),
        )
        .subquery()
    )
    ups: dict[str, int] = defaultdict(int)
    downs: dict[str, int] = defaultdict(int)
    for g, up, down in session.execute(
        select(moves.c.g, func.sum(moves.c.up), func.sum(moves.c.down)).group_by(moves.c.g)
    ):
        key = finish_key(by, level, g)
        ups[key] += int(up or 0)
        downs[key] += int(down or 0)

    now, before = tallies[current_run.run_id], tallies[previous_run.run_id]
    out: dict[str, GroupTrend] = {}
    for key in set(now.counts) | set(before.counts) | set(ups):
        cur_share, prev_share = now.share_cd(key), before.share_cd(key)
        delta = (
            round(cur_share - prev_share, _SHARE_DIGITS)
            if cur_share is not None and prev_share is not None
            else None
        )
        out[key] = GroupTrend(
            share_cd_current=cur_share,
            share_cd_previous=prev_share,
            share_cd_delta=delta,
            risk_up=ups.get(key, 0),
            risk_down=downs.get(key, 0),
        )
    return out


def _stats(group: str, per: dict[str, int], trend: GroupTrend | None) -> GroupStats:
    total = sum(per.values())
    counts = ClassCounts(**per)
    shares = ClassShares(**{c: _share(per.get(c, 0), total) for c in CLASSES})
    return GroupStats(
        group=group,
        total=total,
        counts=counts,
        shares=shares,
        share_cd=_share(sum(per.get(c, 0) for c in HIGH_RISK), total),
        trend=trend,
    )


def _share(part: int, total: int) -> float:
    return round(part / total, _SHARE_DIGITS) if total else 0.0


def _order(group: str) -> tuple[int, str]:
    return (1 if group == UNKNOWN else 0, group)
