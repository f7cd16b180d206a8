"""Incremental reclassification: when an entity's facts change, score it again at once;
record and announce (``scoring.classes``) only a change of class."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.scoring.classify.engine import Classified, classify
from services.scoring.classify.features import Frame, load_frame
from services.scoring.indicators.store import active_models
from services.scoring.models import class_history, entity_classes
from services.scoring.warnings import hooks
from shared.events import ClassChanged
from shared.outbox import Outbox


def reclassify(session: Session, outbox: Outbox, code: str, *, as_of: date) -> str | None:
    """The entity's class now (None: not classified, e.g. deregistered or a social
    organisation). Writes the current class; history and an event only on a change."""
    frame = load_frame(session.connection(), as_of, [code])
    result = classify(active_models(session), frame)
    mine = np.flatnonzero(frame.codes[result.index] == code)
    previous = session.execute(
        select(entity_classes.c.risk_class).where(entity_classes.c.code == code)
    ).scalar_one_or_none()
    if not len(mine):
        if previous is not None:  # no longer classified: its history stays
            session.execute(delete(entity_classes).where(entity_classes.c.code == code))
        return None
    k = int(mine[0])
    row = class_row(frame, result, k, as_of=as_of, cause="incremental")
    session.execute(delete(entity_classes).where(entity_classes.c.code == code))
    session.execute(entity_classes.insert().values(row))
    if row["risk_class"] != previous:
        session.execute(class_history.insert().values(history_row(row, run_id=None)))
        outbox.add(session, class_event(row, previous))
        hooks.on_class_changed(session, outbox, code, str(row["risk_class"]), as_of=as_of)
    return str(row["risk_class"])


def class_row(
    frame: Frame, result: Classified, k: int, *, as_of: date, cause: str, points: dict | None = None
) -> dict[str, object]:
    """The ``entity_classes`` row of the k-th classified entity of ``result``."""
    i = int(result.index[k])
    if points is None:
        points = result.points_of()[k]
    return {
        "code": frame.codes[i],
        "risk_class": result.risk_class[k],
        "score": round(float(result.score[k]), 4),
        "model_id": result.model_id[k],
        "model_version": int(result.model_version[k]),
        "points": points,
        "overridden_by": result.overridden_by[k],
        "as_of": as_of,
        "cause": cause,
        "region_code": frame.region_code[i],
        "industry_code": frame.industry_code[i],
        "updated_at": datetime.now(UTC),
    }


def history_row(row: dict[str, object], *, run_id: int | None) -> dict[str, object]:
    keys = ("code", "risk_class", "score", "model_id", "model_version", "as_of", "cause")
    return {
        **{k: row[k] for k in keys},
        "run_id": run_id,
        "region_code": row["region_code"],
        "industry_code": row["industry_code"],
    }


def class_event(row: dict[str, object], previous: str | None) -> ClassChanged:
    return ClassChanged(
        code=str(row["code"]),
        risk_class=row["risk_class"],  # type: ignore[arg-type]
        previous_class=previous,  # type: ignore[arg-type]
        model_id=str(row["model_id"]),
        model_version=int(row["model_version"]),  # type: ignore[call-overload]
        as_of=row["as_of"],  # type: ignore[arg-type]
        cause=row["cause"],  # type: ignore[arg-type]
    )
