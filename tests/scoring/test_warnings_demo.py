"""The warnings a newcomer sees after ``./dev up``: a generated population (the demo's
generator and seed) fed through scoring's consumers, event by event as the registry's
import sends it. Every open warning must be one an officer can act on today: the monthly
scan, which sees only the current state, finds nothing the events missed, and the same
all-zero reports.

(On the 2,000-entity demo, 649 of 659 open warnings were all-zero annual reports back to
2013: the hooks warned each report of a replayed history while it was the latest.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from services.registry.generator.generate import generate
from services.scoring.features.facts import latest_due_report_year
from services.scoring.models import annual_reports, warnings
from services.scoring.warnings.scan import scan_all
from shared.db import transaction
from shared.workdays import china_today
from tests.scoring.conftest import Scoring, events_of

pytestmark = pytest.mark.usefixtures("no_rule_failures")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate(out, n=300, seed=1, progress=False)  # deploy/local.py's seed, at 15 % of its size
    return out


def test_the_demo_warns_only_what_an_officer_can_act_on(demo: Path, scoring: Scoring):
    scoring.apply(*events_of(demo), batch=200)
    today = china_today()
    with scoring.runtime.sessions() as s:
        open_ = s.execute(
            select(warnings.c.code, warnings.c.rule_id, warnings.c.details).where(
                warnings.c.status != "closed"
            )
        ).all()
        latest = dict(s.execute(select(annual_reports.c.code, annual_reports.c.year)).all())
    zero = [w for w in open_ if w.rule_id == "all_zero_annual_report"]
    assert zero, "the demo has all-zero reports of the latest due year"
    assert {w.details["year"] for w in zero} <= {
        latest_due_report_year(today),
        latest_due_report_year(today) + 1,
    }
    # Each is about the entity's latest report, not one a later report superseded.
    assert all(latest[w.code] == w.details["year"] for w in zero)

    with transaction(scoring.runtime.sessions) as s:
        report = scan_all(s, scoring.runtime.outbox, today)
    assert sum(report.raised.values()) == 0
    assert report.met["all_zero_annual_report"] == len(zero)
