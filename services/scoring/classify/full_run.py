"""The monthly full run (按月动态更新): classify every active entity with the active
models, vectorised, in one transaction. It records a dated class per entity under the
run, replaces the current classes, announces every change on ``scoring.classes`` and
reports stability against the previous run (PSI of the class mix and of each indicator)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from services.scoring.classify.engine import (
    Classified,
    ModelSet,
    classify,
    indicator_risk,
    indicator_values,
)
from services.scoring.classify.features import Frame, load_frame
from services.scoring.indicators.store import active_models
from services.scoring.models import class_history, class_runs, entity_classes
from shared.collector import cyclic_gc_paused
from shared.db import bulk_insert
from shared.errors import Conflict
from shared.events import ClassChanged
from shared.outbox import Outbox

log = logging.getLogger(__name__)
Progress = Callable[[str], None]
PSI_SMOOTHING = 0.5  # counts added to every bin so that an empty bin does not blow up


@dataclass
class RunReport:
    run_id: int
    month: str
    as_of: date
    entities: int
    class_counts: dict[str, int]
    changed: int
    psi_classes: float | None
    psi_indicators: dict[str, float] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two histograms over the same bins, smoothed."""
    e = (np.asarray(expected, float) + PSI_SMOOTHING) / (
        np.sum(expected) + PSI_SMOOTHING * len(expected)
    )
    a = (np.asarray(actual, float) + PSI_SMOOTHING) / (np.sum(actual) + PSI_SMOOTHING * len(actual))
    return float(np.sum((a - e) * np.log(a / e)))


def check_can_run(session: Session, month: str, *, replace_newer: bool) -> None:
    """A month runs once; and a run replaces every current class, so a month older than
    the newest run would put older classes over newer ones: only when asked for."""
    if session.execute(select(class_runs.c.id).where(class_runs.c.month == month)).first():
        raise Conflict(
            f"{month} 月度分类已经运行过", message_en=f"the run of {month} exists", field="month"
        )
    newest = session.execute(select(func.max(class_runs.c.month))).scalar()
    if newest is not None and month < newest and not replace_newer:
        raise Conflict(
            f"已有较新月份 {newest} 的分类，{month} 的结果会覆盖它；确需如此请设置 replace_newer",
            message_en=f"the run of {newest} is newer: {month} would replace its classes; "
            "set replace_newer to do so",
            field="month",
        )


def run_monthly(
    sessions: sessionmaker[Session],
    outbox: Outbox,
    *,
    month: str,
    as_of: date,
    replace_newer: bool = False,
    progress: Progress | None = None,
) -> RunReport:
    """``month`` and ``as_of`` are checked by ``RunRequest``; here only against the runs."""
    say = progress or (lambda _step: None)
    clock: dict[str, float] = {}
    t = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal t
        now = time.perf_counter()
        clock[step] = round(now - t, 2)
        t = now
        say(step)

    with sessions() as session, session.begin():
        check_can_run(session, month, replace_newer=replace_newer)
        previous_run = session.execute(
            select(class_runs)
            .where(class_runs.c.finished_at.is_not(None))
            .order_by(class_runs.c.as_of.desc(), class_runs.c.id.desc())
            .limit(1)
        ).first()
        # Committed first, so that officers see the run while it works.
        run_id = session.execute(
            class_runs.insert()
            .values(
                month=month,
                as_of=as_of,
                started_at=datetime.now(UTC),
                entities=0,
                class_counts={},
                model_versions=active_models(session).versions,
                changed=0,
            )
            .returning(class_runs.c.id)
        ).scalar_one()
    say("started")
    try:
        with cyclic_gc_paused():
            return _run(sessions, outbox, run_id, month, as_of, previous_run, lap, clock)
    except BaseException:
        with sessions() as session, session.begin():
            session.execute(delete(class_runs).where(class_runs.c.id == run_id))
        raise


def _run(
    sessions: sessionmaker[Session],
    outbox: Outbox,
    run_id: int,
    month: str,
    as_of: date,
    previous_run: Any,
    lap: Callable[[str], None],
    clock: dict[str, float],
) -> RunReport:
    with sessions() as session, session.begin():
        models = active_models(session)
        conn = session.connection()
        frame = load_frame(conn, as_of)
        lap("features")
        result = classify(models, frame)
        lap("classify")
        changed = _write(conn, outbox, session, frame, result, run_id=run_id, as_of=as_of)
        lap("write")
        counts = {c: int(np.sum(result.risk_class == c)) for c in "ABCD"}
        bins = indicator_bins(models, frame, result)
        psi_classes, psi_indicators = None, {}
        if previous_run is not None:
            psi_classes = psi(
                np.array([previous_run.class_counts.get(c, 0) for c in "ABCD"]),
                np.array([counts[c] for c in "ABCD"]),
            )
            before = (previous_run.psi_indicators or {}).get("bins", {})
            psi_indicators = {
                k: round(psi(np.array(before[k]), np.array(v)), 4)
                for k, v in bins.items()
                if k in before and len(before[k]) == len(v)
            }
        session.execute(
            update(class_runs)
            .where(class_runs.c.id == run_id)
            .values(
                finished_at=datetime.now(UTC),
                entities=len(result.index),
                class_counts=counts,
                changed=changed,
                psi_classes=psi_classes,
                psi_indicators={"bins": bins, "psi": psi_indicators},
            )
        )
        lap("stability")
    # Counts only: the class mix is not secret in aggregate, an entity's class is.
    log.info("monthly run %s: %d entities, %d changed", month, len(result.index), changed)
    return RunReport(
        run_id=run_id,
        month=month,
        as_of=as_of,
        entities=len(result.index),
        class_counts=counts,
        changed=changed,
        psi_classes=psi_classes,
        psi_indicators=psi_indicators,
        seconds=clock,
    )


def _write(
    conn: Connection,
    outbox: Outbox,
    session: Session,
    frame: Frame,
    result: Classified,
    *,
    run_id: int,
    as_of: date,
) -> int:
    previous = dict(conn.execute(select(entity_classes.c.code, entity_classes.c.risk_class)).all())
    # In code order: the tables are keyed by code, and keys written in order append to
    # their indexes instead of touching a random page each (the frame is in load order).
    k = np.argsort(frame.codes[result.index].astype(str), kind="stable")
    idx = result.index[k]
    codes = frame.codes[idx].tolist()
    regions = frame.region_code[idx].tolist()
    industries = frame.industry_code[idx].tolist()
    classes = result.risk_class[k].tolist()
    scores = np.round(result.score[k], 4).tolist()
    model_ids = result.model_id[k].tolist()
    versions = result.model_version[k].tolist()
    overridden = result.overridden_by[k].tolist()
    all_points = result.points_of()
    points = [all_points[i] for i in k.tolist()]
    conn.execute(delete(entity_classes))
    bulk_insert(
        conn,
        entity_classes,
        ("code", "risk_class", "score", "model_id", "model_version", "points", "overridden_by",
         "region_code", "industry_code"),
        zip(codes, classes, scores, model_ids, versions, points, overridden, regions, industries,
            strict=True),
        constants={"as_of": as_of, "cause": "monthly_run", "updated_at": datetime.now(UTC)},
    )  # fmt: skip
    bulk_insert(
        conn,
        class_history,
        ("code", "risk_class", "score", "model_id", "model_version", "region_code",
         "industry_code"),
        zip(codes, classes, scores, model_ids, versions, regions, industries, strict=True),
        constants={"run_id": run_id, "as_of": as_of, "cause": "monthly_run"},
    )  # fmt: skip
    # The outbox's bulk path: no event model per change (building and validating a
    # million ClassChanged models, then SQLAlchemy's per-row insert, was most of the
    # write step). Data in ClassChanged's field order, as its envelope would hold it.
    changes = [
        (
            c,
            {
                "code": c,
                "risk_class": k,
                "previous_class": previous.get(c),
                "model_id": m,
                "model_version": v,
                "as_of": as_of,
                "cause": "monthly_run",
            },
        )
        for c, k, m, v in zip(codes, classes, model_ids, versions, strict=True)
        if previous.get(c) != k
    ]
    outbox.add_data(session, ClassChanged, changes)
    return len(changes)


def indicator_bins(models: ModelSet, frame: Frame, result: Classified) -> dict[str, list[int]]:
    """Per general-model indicator: entities per bin (numeric: the bins, then missing;
    categories: per distinct risk level)."""
    out: dict[str, list[int]] = {}
    for model in models.general:
        types = list(model.applies_to.entity_types)
        rows = result.index[np.isin(frame.entity_type[result.index], types)]
        for ind in model.indicators:
            if ind.bins is not None:
                x = indicator_values(ind, frame)[rows]
                b = np.searchsorted(np.asarray(ind.bins.edges), x, side="right")
                b = np.where(np.isnan(x), len(ind.bins.edges) + 1, b)
                hist = np.bincount(b, minlength=len(ind.bins.edges) + 2)
            else:
                assert ind.categories is not None
                c = ind.categories
                levels = np.array(
                    sorted({*c.risk_by_prefix.values(), c.default_risk, c.missing_risk})
                )
                risk = indicator_risk(ind, frame, rows)
                hist = np.bincount(np.searchsorted(levels, risk), minlength=len(levels))
            out[f"{model.model_id}.{ind.id}"] = hist.tolist()
    return out
