"""Scoring analysis benchmark: bootstrap N generated entities into a fresh store, run two
monthly classifications (the month-on-month trend needs two), then time each analysis
endpoint through the app, and print the figures as key=value lines.

    python bench/scoring_analysis.py [--n 5000] [--db sqlite|postgresql] [--calls 7]
                                     [--under-load [--records 5000]]

Issue 9: the analysis endpoints took 14-18 s on a 5,000-entity province under load.
Each endpoint's figure is the median of --calls requests of a provincial credit officer,
audit row included. ``ref_groupby_ms`` is measured in the same run as a yardstick for the
machine: a bare GROUP BY of the same class rows (both runs), through the database driver
directly. An endpoint does a few such passes, so a healthy one is a small multiple of it
(``worst_endpoint_over_ref``).

--under-load probes again while writers hold the store: a third monthly run, then a
stream of --records incremental records (as an import's events reach the consumers).
Beside the endpoint, a bare audit append and the reference GROUP BY are probed, each in
a thread of its own: reads do not wait for writers (WAL, MVCC), so when the endpoint and
the audit append are slow and the GROUP BY is not, the wait is for the write lock that
the audit row of every analysis read needs. The data is generated once per (n, seed)
under bench/out/."""

from __future__ import annotations

import statistics
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_arguments, ensure_data, fresh_store  # noqa: E402
from bench.scoring_full_run import penalty_events  # noqa: E402
from services.scoring.app import build_app, reclassifier_of  # noqa: E402
from services.scoring.audit import log as audit  # noqa: E402
from services.scoring.classify.full_run import run_monthly  # noqa: E402
from services.scoring.features.bootstrap import bootstrap  # noqa: E402
from services.scoring.models import class_runs, entity_classes  # noqa: E402
from services.scoring.settings import ScoringSettings  # noqa: E402
from shared.auth import Principal, Role, mint_token  # noqa: E402
from shared.runtime import ServiceRuntime  # noqa: E402

# The generator's reference date is 2026-11-01: the month before it, then that month.
MONTHS = (date(2026, 10, 1), date(2026, 11, 1))
LOAD_MONTH = date(2026, 12, 1)  # the run under load
RECORDS_BATCH = 500  # events per consumer transaction in the import-like stream
PROVINCE = "140000"  # the generator's province (山西)
ENDPOINTS = {
    "distribution_region": ("/v1/analysis/distribution", {"by": "region"}),
    "distribution_industry": ("/v1/analysis/distribution", {"by": "industry"}),
    "hotspots_region": ("/v1/analysis/hotspots", {"by": "region", "min_size": 1}),
    "hotspots_industry": ("/v1/analysis/hotspots", {"by": "industry", "min_size": 1}),
}


def say(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


@dataclass
class Store:
    client: TestClient
    headers: dict[str, str]

    @property
    def runtime(self) -> ServiceRuntime:
        return self.client.app.state.runtime  # type: ignore[attr-defined]


def open_store(stack: ExitStack, db: str, n: int, seed: int) -> Store:
    """The app on a fresh store holding the generated province, classified twice."""
    data = ensure_data(n, seed)
    url = fresh_store(stack, db, f"scoring-analysis-bench-{n}")
    settings = ScoringSettings(database_url=url, run_relay=False, run_consumers=False)
    client = stack.enter_context(TestClient(build_app(settings)))
    token = mint_token(
        settings.auth_secret, subject="bench", role=Role.CREDIT_OFFICER, region=PROVINCE
    )
    store = Store(client, {"Authorization": f"Bearer {token}"})
    say(f"bootstrapping {n} entities …")
    bootstrap(store.runtime.sessions, data)
    for as_of in MONTHS:
        say(f"monthly run {as_of:%Y-%m} …")
        monthly_run(store.runtime, as_of)
    return store


def monthly_run(runtime: ServiceRuntime, as_of: date) -> float:
    """Seconds of the run of ``as_of``'s month."""
    t = time.perf_counter()
    run_monthly(runtime.sessions, runtime.outbox, month=f"{as_of:%Y-%m}", as_of=as_of)
    return time.perf_counter() - t


def call_ms(store: Store, name: str) -> float:
    path, params = ENDPOINTS[name]
    t = time.perf_counter()
    r = store.client.get(path, params=params, headers=store.headers)
    ms = (time.perf_counter() - t) * 1000
    if r.status_code != 200:
        raise RuntimeError(f"{name}: {r.status_code} {r.text[:200]}")
    return ms


def median_ms(measure: Callable[[], float], calls: int) -> float:
    return statistics.median(measure() for _ in range(calls))


def ref_groupby_ms(runtime: ServiceRuntime) -> float:
    """A bare GROUP BY of both runs' class rows by run, region prefix and class, through
    the driver: what the counting itself costs on this machine and store."""
    with runtime.sessions() as s:
        run_ids = list(s.execute(select(class_runs.c.id)).scalars())
    ids = ", ".join(str(int(i)) for i in run_ids)
    sql = (
        "SELECT run_id, substr(region_code, 1, 4), risk_class, count(*) FROM class_history"
        f" WHERE run_id IN ({ids}) GROUP BY 1, 2, 3"
    )
    conn = runtime.engine.raw_connection()
    try:
        cur = conn.cursor()
        t = time.perf_counter()
        cur.execute(sql)
        cur.fetchall()
        ms = (time.perf_counter() - t) * 1000
        cur.close()
    finally:
        conn.close()  # back to the pool, which rolls PostgreSQL's transaction back
    return ms


def audit_append_ms(runtime: ServiceRuntime) -> float:
    """One audit row committed on its own, as every analysis read appends."""
    probe = Principal(subject="bench-probe", role=Role.CREDIT_OFFICER, region=PROVINCE)
    t = time.perf_counter()
    audit.record_committed(runtime.sessions, probe, "bench_probe", "probe", {})
    return (time.perf_counter() - t) * 1000


@dataclass
class Probed:
    """What the probes saw while a writer worked: per probe, the latencies (ms) of the
    calls that succeeded and of those that failed (SQLite gives up on the write lock
    after its busy timeout, 30 s)."""

    writer_s: float
    ok: dict[str, list[float]]
    failed: dict[str, list[float]]


def probed_while(store: Store, writer: Callable[[], None]) -> Probed:
    """Run ``writer`` in a thread (as the app runs a monthly run or its consumers) and
    meanwhile, each in a thread of its own and over and over until it is done: an
    analysis request, a bare audit append, a bare read. A probe that starts just before
    the writer ends still counts: it shows how long the writer made it wait."""
    probes: dict[str, Callable[[], float]] = {
        "endpoint": lambda: call_ms(store, "distribution_region"),
        "audit_append": lambda: audit_append_ms(store.runtime),
        "ref_groupby": lambda: ref_groupby_ms(store.runtime),
    }
    seen = Probed(0.0, {k: [] for k in probes}, {k: [] for k in probes})
    done = threading.Event()

    def probe(kind: str) -> None:
        while not done.is_set():
            t = time.perf_counter()
            try:
                seen.ok[kind].append(probes[kind]())
            except Exception:
                seen.failed[kind].append((time.perf_counter() - t) * 1000)

    threads = [threading.Thread(target=probe, args=(k,), name=f"bench-{k}") for k in probes]
    t = time.perf_counter()
    for thread in threads:
        thread.start()
    try:
        writer()
    finally:
        seen.writer_s = time.perf_counter() - t
        done.set()
        for thread in threads:
            thread.join()
    return seen


def records_stream(runtime: ServiceRuntime, records: int, seed: int) -> Callable[[], None]:
    """A writer like an import's records arriving: a new penalty for each of ``records``
    classified entities, applied through the records consumer RECORDS_BATCH at a time,
    back to back (each batch one transaction, reclassification included)."""
    with runtime.sessions() as s:
        codes = sorted(s.execute(select(entity_classes.c.code)).scalars())[:records]
    envelopes = [e.envelope("bench", at=datetime.now(UTC)) for e in penalty_events(codes, seed)]
    consumer = runtime.offline_consumer("records")
    reclassifier = reclassifier_of(runtime)

    def write() -> None:
        for i in range(0, len(envelopes), RECORDS_BATCH):
            consumer.apply_envelopes(envelopes[i : i + RECORDS_BATCH])
            reclassifier.drain()

    return write


def under_load(store: Store, records: int, seed: int) -> dict[str, Probed]:
    say(f"probing during the monthly run {LOAD_MONTH:%Y-%m} …")
    run = probed_while(store, lambda: monthly_run(store.runtime, LOAD_MONTH))
    say(f"probing during a stream of {records} incremental records …")
    stream = probed_while(store, records_stream(store.runtime, records, seed))
    return {"monthly_run": run, "records": stream}


def print_load(scenario: str, seen: Probed) -> None:
    print(f"load_{scenario}_seconds={seen.writer_s:.1f}")
    for kind, ms in seen.ok.items():
        name = f"load_{scenario}_{kind}"
        print(f"{name}_calls={len(ms)}")
        if ms:
            print(f"{name}_median_ms={statistics.median(ms):.1f}")
            print(f"{name}_max_ms={max(ms):.1f}")
        if seen.failed[kind]:
            print(f"{name}_failed={len(seen.failed[kind])}")
            print(f"{name}_failed_after_max_ms={max(seen.failed[kind]):.1f}")


def main() -> int:
    parser = bench_arguments(__doc__, default_n=5_000)
    parser.add_argument("--calls", type=int, default=7, help="requests per endpoint (7)")
    parser.add_argument(
        "--under-load", action="store_true", help="also probe while writers hold the store"
    )
    parser.add_argument(
        "--records", type=int, default=5_000, help="records in the stream under load (5000)"
    )
    args = parser.parse_args()

    with ExitStack() as stack:
        store = open_store(stack, args.db, args.n, args.seed)
        say("timing the endpoints …")
        idle = {name: median_ms(lambda n=name: call_ms(store, n), args.calls) for name in ENDPOINTS}
        ref = median_ms(lambda: ref_groupby_ms(store.runtime), args.calls)
        loads = under_load(store, args.records, args.seed) if args.under_load else {}

    print(f"db={args.db}")
    print(f"n={args.n}")
    print(f"calls={args.calls}")
    for name, ms in idle.items():
        print(f"{name}_ms={ms:.1f}")
    print(f"ref_groupby_ms={ref:.1f}")
    print(f"worst_endpoint_over_ref={max(idle.values()) / ref:.1f}")
    for scenario, seen in loads.items():
        print_load(scenario, seen)
    return 0


if __name__ == "__main__":
    sys.exit(main())
