"""One meaning for every fact: a province bootstrapped from the registry's export files
holds the same facts as one fed event by event through the consumers, and the monthly
run gives every entity the class incremental reclassification gave it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services.registry.generator.generate import generate
from services.scoring.classify.full_run import run_monthly
from services.scoring.features.bootstrap import bootstrap
from services.scoring.models import annual_reports, entity_classes, facts
from shared.workdays import china_today
from tests.scoring.conftest import Scoring, events_of


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen")
    generate(out, n=150, seed=11, progress=False)
    return out


def snapshot(sessions: sessionmaker[Session]) -> tuple[set, set, dict]:
    """Facts, annual reports and current classes of a store."""
    with sessions() as s:
        f = set(
            s.execute(
                select(
                    facts.c.source_id,
                    facts.c.code,
                    facts.c.kind,
                    facts.c.detail,
                    facts.c.occurred_on,
                )
            ).all()
        )
        a = set(
            s.execute(
                select(annual_reports.c.code, annual_reports.c.year, annual_reports.c.all_zero)
            ).all()
        )
        c = dict(s.execute(select(entity_classes.c.code, entity_classes.c.risk_class)).all())
    return f, a, c


def test_bootstrap_and_events_agree(population: Path, scoring: Scoring, tmp_path: Path) -> None:
    events = events_of(population)
    # Fed event by event, as the consumers would: classes are incremental ones.
    scoring.apply(*events, batch=200)
    by_events = snapshot(scoring.runtime.sessions)

    # The same files bootstrapped into a second store, then the monthly run as of today.
    from services.scoring.app import build_runtime
    from services.scoring.settings import ScoringSettings

    other = build_runtime(
        ScoringSettings(
            environment="test",
            database_url=f"sqlite:///{tmp_path / 'boot.sqlite3'}",
            run_relay=False,
            run_consumers=False,
        )
    )
    other.migrate()
    counts = bootstrap(other.sessions, population)
    run_monthly(other.sessions, other.outbox, month="2026-11", as_of=china_today())
    booted = snapshot(other.sessions)
    other.stop()

    assert counts["entities"] == 150 and counts["facts"] == len(by_events[0]) > 0
    assert booted[0] == by_events[0]
    assert booted[1] == by_events[1]
    assert len(by_events[2]) > 100  # market entities that are still active
    assert booted[2] == by_events[2]
