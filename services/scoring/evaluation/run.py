"""The evaluation itself: a fresh store, the generated province loaded into it, two
monthly runs, simulated inspections of the second run's classes, and the figures."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.scoring.app import build_runtime
from services.scoring.classify.features import load_frame
from services.scoring.classify.full_run import RunReport, run_monthly
from services.scoring.evaluation import learn as learning
from services.scoring.evaluation import outcomes
from services.scoring.evaluation.metrics import ClassRate, auc, class_rates, lift
from services.scoring.features.bootstrap import bootstrap
from services.scoring.indicators.store import active_models
from services.scoring.models import class_runs, entity_classes, entity_projection
from services.scoring.settings import ScoringSettings
from shared.runtime import ServiceRuntime

# The generator's "today": its records stop there, so the second run is classed as of it
# and the first a month before.
REFERENCE_DATE = date(2026, 11, 1)
Progress = Callable[[str], None]


class EvaluationError(Exception):
    """Bad input (a non-empty store, a folder without truth.csv)."""


@dataclass
class Evaluation:
    data: Path
    database_url: str
    loaded: dict[str, int]
    classifiable: int
    runs: list[RunReport]
    rates: dict[str, ClassRate]
    lift_d_over_a: float
    auc_score: float
    auc_true_risk: float  # the ceiling: the truth itself against the same outcomes
    auc_by_model: dict[str, float]  # per general model (with its professional blends)
    inspect_share: float
    learned: learning.Learned | None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def inspected(self) -> int:
        return sum(r.inspected for r in self.rates.values())

    @property
    def problems(self) -> int:
        return sum(r.problems for r in self.rates.values())


def month_before(day: date) -> date:
    return date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, day.day)


def default_sqlite_url(folder: Path) -> str:
    return f"sqlite:///{(folder / 'scoring-evaluation.sqlite3').resolve()}"


def fresh_store(database_url: str, *, replace_file: bool = False) -> ServiceRuntime:
    """Migrated (shipped models seeded) and checked empty: the evaluation never mixes its
    generated province into a store that holds anything else. ``replace_file``: the
    evaluation's own SQLite file (from an earlier evaluation) is deleted first; a store
    named by the caller is never deleted, only refused if not empty."""
    if replace_file and database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        for stale in path.parent.glob(path.name + "*"):
            stale.unlink()
    runtime = build_runtime(
        ScoringSettings(database_url=database_url, run_relay=False, run_consumers=False)
    )
    runtime.migrate()
    with runtime.sessions() as s:
        held = s.execute(select(func.count()).select_from(entity_projection)).scalar_one()
        runs = s.execute(select(func.count()).select_from(class_runs)).scalar_one()
    if held or runs:
        runtime.stop()
        raise EvaluationError(
            f"the store at {database_url} is not empty ({held} entities, {runs} runs): "
            "the evaluation needs a fresh one"
        )
    return runtime


def evaluate(
    folder: Path,
    *,
    database_url: str | None = None,
    as_of: date = REFERENCE_DATE,
    inspect_share: float = 0.5,
    seed: int = 1,
    learn: bool = True,
    progress: Progress | None = None,
) -> Evaluation:
    say = progress or (lambda _step: None)
    if not 0 < inspect_share <= 1:
        raise EvaluationError("the inspected share must lie in (0, 1]")
    truth_file = folder / "truth.csv"
    if not (folder / "entities.jsonl").exists() or not truth_file.exists():
        raise EvaluationError(f"{folder} holds no generated province (entities.jsonl, truth.csv)")
    url = database_url or default_sqlite_url(folder)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[step] = round(now - clock, 2)
        clock = now
        say(step)

    runtime = fresh_store(url, replace_file=database_url is None)
    try:
        loaded = bootstrap(runtime.sessions, folder)
        lap("bootstrap")
        runs = []
        for day in (month_before(as_of), as_of):
            runs.append(
                run_monthly(
                    runtime.sessions, runtime.outbox, month=day.strftime("%Y-%m"), as_of=day
                )
            )
            lap(f"run_{day.strftime('%Y-%m')}")
        with runtime.sessions() as session:
            models = active_models(session)
            # Classifiable: active, of a type some general model covers (not social
            # organisations, products, projects …).
            covered = sorted({t for m in models.general for t in m.applies_to.entity_types})
            classifiable = session.execute(
                select(func.count())
                .select_from(entity_projection)
                .where(
                    (entity_projection.c.status == "active")
                    & entity_projection.c.entity_type.in_(covered)
                )
            ).scalar_one()
            codes, classes, scores, general = _current_classes(session)
            frame = load_frame(session.connection(), as_of) if learn else None
        lap("read_classes")
        truth = outcomes.true_risk_of(codes, outcomes.load_truth(truth_file))
        seen = outcomes.simulate(truth, share=inspect_share, seed=seed)
        lap("outcomes")
        rates = class_rates(classes, seen.inspected, seen.problem)
        i = seen.inspected
        learned = None
        if frame is not None:
            position = {c: k for k, c in enumerate(frame.codes.tolist())}
            rows = np.array([position[c] for c in codes[i].tolist()], dtype=np.int64)
            learned = learning.learn(models, frame, rows, scores[i], seen.problem[i], seed=seed)
            lap("learn")
    finally:
        runtime.stop()
    return Evaluation(
        data=folder,
        database_url=url,
        loaded=loaded,
        classifiable=classifiable,
        runs=runs,
        rates=rates,
        lift_d_over_a=lift(rates, "D", "A"),
        auc_score=auc(scores[i], seen.problem[i]),
        auc_true_risk=auc(truth[i], seen.problem[i]),
        auc_by_model={
            m: auc(scores[i & (general == m)], seen.problem[i & (general == m)])
            for m in sorted(set(general.tolist()))
        },
        inspect_share=inspect_share,
        learned=learned,
        seconds=seconds,
    )


def _current_classes(
    session: Session,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The classes in force after the runs, as the store holds them (code order): code,
    class, score and the general model that scored it ("general+food_production" →
    "general")."""
    rows = session.execute(
        select(
            entity_classes.c.code,
            entity_classes.c.risk_class,
            entity_classes.c.score,
            entity_classes.c.model_id,
        ).order_by(entity_classes.c.code)
    ).all()
    codes, classes, scores, model_ids = zip(*rows, strict=True) if rows else ((),) * 4
    return (
        np.array(codes, dtype=object),
        np.array(classes, dtype=object),
        np.array(scores, dtype=float),
        np.array([m.split("+")[0] for m in model_ids], dtype=object),
    )
