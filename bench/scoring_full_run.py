"""Scoring full-run benchmark: bootstrap N generated entities into a fresh store, time the
monthly full run, then the latency of incremental reclassification, and print the
figures as key=value lines.

    python bench/scoring_full_run.py [--n 1000000] [--db sqlite|postgresql]

First bar (issue 3): the full run of 1,000,000 entities within 60 s on SQLite and on
PostgreSQL. Bootstrap is timed separately and is not part of the bar. Incremental
latency: new penalty records (CreditRecordEvent) for random classified entities, each
applied alone through the real inbox handlers, as the records consumer would. The data
is generated once per (n, seed) under bench/out/, in a child process so that the
generator's memory is not counted."""

from __future__ import annotations

import random
import sys
import time
from contextlib import ExitStack
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_arguments, ensure_data, fresh_store, peak_rss_mb  # noqa: E402
from services.scoring.app import build_runtime, reclassifier_of  # noqa: E402
from services.scoring.classify.full_run import run_monthly  # noqa: E402
from services.scoring.features.bootstrap import bootstrap  # noqa: E402
from services.scoring.models import entity_classes  # noqa: E402
from services.scoring.settings import ScoringSettings  # noqa: E402
from shared.events import CreditRecordEvent  # noqa: E402
from shared.workdays import china_today  # noqa: E402

AS_OF = date(2026, 11, 1)  # the generator's reference date
NEXT = date(2026, 12, 1)


def penalty_events(codes: list[str], seed: int) -> list[CreditRecordEvent]:
    """One fresh serious penalty per entity: a record every indicator model reads."""
    today = china_today()
    rnd = random.Random(seed)
    return [
        CreditRecordEvent(
            record_id=f"BENCH-{k:06d}",
            code=code,
            kind="penalty",
            occurred_on=today,
            source_department="山西省市场监督管理局",
            payload={"severity": "serious", "amount": 10_000 * (1 + rnd.randrange(20))},
        )
        for k, code in enumerate(codes)
    ]


def main() -> int:
    parser = bench_arguments(__doc__, default_n=1_000_000)
    parser.add_argument("--records", type=int, default=500, help="incremental records (500)")
    parser.add_argument("--steady-run", action="store_true", help="also time the next month's run")
    args = parser.parse_args()

    data = ensure_data(args.n, args.seed)
    with ExitStack() as stack:
        url = fresh_store(stack, args.db, f"scoring-bench-{args.n}")
        runtime = build_runtime(
            ScoringSettings(database_url=url, run_relay=False, run_consumers=False)
        )
        stack.callback(runtime.stop)
        runtime.migrate()

        t0 = time.perf_counter()
        loaded = bootstrap(runtime.sessions, data)
        bootstrap_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        report = run_monthly(
            runtime.sessions, runtime.outbox, month=AS_OF.strftime("%Y-%m"), as_of=AS_OF
        )
        full_run_s = time.perf_counter() - t1
        steady = None
        if args.steady_run:
            # The month after: classes mostly unchanged, few events (the first run after
            # a bootstrap announces every entity's class).
            t2 = time.perf_counter()
            steady = run_monthly(
                runtime.sessions, runtime.outbox, month=NEXT.strftime("%Y-%m"), as_of=NEXT
            )
            steady_s = time.perf_counter() - t2

        with runtime.sessions() as s:
            classified = sorted(s.execute(select(entity_classes.c.code)).scalars())
        picks = random.Random(args.seed).sample(classified, min(args.records, len(classified)))
        consumer = runtime.offline_consumer("records")
        reclassifier = reclassifier_of(runtime)
        latencies = []
        for event in penalty_events(picks, args.seed):
            envelope = event.envelope("bench", at=datetime.now(UTC))
            t = time.perf_counter()
            consumer.apply_envelopes([envelope])
            reclassifier.drain()  # the record's fact, then its entity scored again
            latencies.append(time.perf_counter() - t)

    ms = np.array(latencies) * 1000
    print(f"db={args.db}")
    print(f"n={args.n}")
    print(f"loaded_entities={loaded['entities']}")
    print(f"loaded_facts={loaded['facts']}")
    print(f"bootstrap_seconds={bootstrap_s:.1f}")
    print(f"entities={report.entities}")
    print(f"changed={report.changed}")
    print(f"full_run_seconds={full_run_s:.1f}")
    print(f"entities_per_s={report.entities / full_run_s:.0f}")
    for step, seconds in report.seconds.items():
        print(f"step_{step}_seconds={seconds}")
    if steady is not None:
        print(f"steady_run_seconds={steady_s:.1f}")
        print(f"steady_run_changed={steady.changed}")
        for step, seconds in steady.seconds.items():
            print(f"steady_step_{step}_seconds={seconds}")
    print(f"incremental_records={len(ms)}")
    print(f"incremental_p50_ms={np.percentile(ms, 50):.1f}")
    print(f"incremental_p95_ms={np.percentile(ms, 95):.1f}")
    print(f"incremental_max_ms={ms.max():.1f}")
    print(f"peak_rss_mb={peak_rss_mb():.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
