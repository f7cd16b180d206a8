"""Event path benchmark: the registry, scoring, sampling and publication as real processes
on a local Kafka-protocol broker (Tansu), each on its own store; N generated entities, their
records and the inspectors bulk-imported into the registry; how fast every event reaches
every consumer, and what the services burn once there is nothing left to do.

    python bench/event_path.py [--n 200000] [--db sqlite|postgresql]
                               [--mode live|backlog|one-by-one]

``live`` (default) runs the consumers during the import, as an operator's province-size
import does; ``backlog`` starts them only once the import is over, so each consumer reads a
full topic, competing only with its peers; ``one-by-one`` starts each consuming service
alone once the one before has caught up, so each figure is that service's own capacity
(catch_up_s is then their sum). Prints key=value lines:

- ``relay_events_per_s``: the registry's relay, first to last event published;
- ``<service>_<consumer>_applied_per_s`` per consumer, first to last event applied (scoring's
  ``records`` consumer reclassifies each touched entity once per batch: its figure is
  scoring's records/s); ``…_batch_txn_ms_mean`` / ``…_batch_txn_ms_p95``: how long one
  batch's transaction holds the store (on SQLite: the write lock the relay and the
  requests of the same service wait for);
- ``scoring_reclassified_per_s``: scoring's reclassifier, entities scored again per second
  (its consumers only keep facts and mark the entities they touch);
- ``catch_up_s``: import end → every consumer has applied every event of its topics and
  scoring has scored every entity they marked;
- ``idle_cpu_<service>_pct``: CPU the process used over ``--idle-window`` seconds after
  that, with every lag at 0 (100 = one core);
- ``resync_s``: broker wiped → complete again: sampling and publication back on empty
  stores, the broker restarted with an empty log, the registry's snapshot replay of
  ``registry.entities`` (the runbook's cure) until both projections hold every entity
  (bench/resync.py measures the same in one process, without the rest of the system);
- ``ref_sqlite_rows_per_s``: a bare sqlite3 ``executemany`` of N rows of the projection's
  shape into a keyed table, same run, same machine: divide by it to compare machines.

Bars (issue 10): each projection ≥ 5,000 events/s, scoring ≥ 2,000 records/s, ``resync_s``
≤ 120 s at 200,000 entities."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench.common import OUT, bench_arguments, ensure_data, fresh_store  # noqa: E402
from deploy.processes import ServiceProcess, run_import, start_service, stop_services  # noqa: E402
from deploy.tansu import LocalBroker, free_port, local_broker  # noqa: E402
from shared.db import make_engine, service_metadata  # noqa: E402
from shared.events import ALL_TOPICS  # noqa: E402
from shared.outbox import outbox_table  # noqa: E402

# Each consumer of the event path and the registry topics it reads.
CONSUMERS: dict[tuple[str, str], tuple[str, ...]] = {
    ("scoring", "entities"): ("registry.entities",),
    ("scoring", "records"): ("registry.records",),
    ("sampling", "entities"): ("registry.entities",),
    ("sampling", "inspectors"): ("registry.inspectors",),
    ("publication", "entities"): ("registry.entities",),
}
CONSUMING = ("scoring", "sampling", "publication")
RECLASSIFIER = "reclassifier"  # scoring's worker scoring the entities its consumers marked
POLL_S = 0.5


@dataclass
class Progress:
    """When a counter first moved, when it last moved, and where it stands."""

    value: int = 0
    first_at: float | None = None
    last_at: float | None = None
    history: list[tuple[float, int]] = field(default_factory=list)

    def observe(self, now: float, value: int) -> None:
        if value > self.value:
            if self.first_at is None:
                # The counter moved since the previous look: the work began about then.
                self.first_at = self.history[-1][0] if self.history else now
            self.last_at = now
        self.value = value
        self.history.append((now, value))

    def rate(self) -> float:
        if self.first_at is None or self.last_at is None or self.last_at <= self.first_at:
            return 0.0
        return self.value / (self.last_at - self.first_at)


def main() -> int:
    parser = bench_arguments(__doc__, default_n=200_000)
    parser.add_argument("--mode", choices=["live", "backlog", "one-by-one"], default="live")
    parser.add_argument("--idle-window", type=float, default=15.0, help="seconds")
    parser.add_argument("--timeout", type=float, default=3600.0, help="catch-up bound, seconds")
    args = parser.parse_args()

    data = ensure_data(args.n, args.seed)
    ref = ref_sqlite_rows_per_s(args.n)
    logs = OUT / "event-path-logs"
    for old in logs.glob("*.log"):
        old.unlink()
    with ExitStack() as stack:
        broker = stack.enter_context(local_broker())
        bootstrap = broker.bootstrap
        urls = {s: fresh_store(stack, args.db, f"event-path-{s}") for s in ("registry", *CONSUMING)}
        env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap}
        env.update({f"{s.upper()}_DATABASE_URL": url for s, url in urls.items()})
        services: dict[str, ServiceProcess] = {}
        stack.callback(lambda: stop_services(services.values()))

        def start(name: str) -> None:
            services[name] = start_service(name, port=free_port(), env=env, logs=logs)
            services[name].wait_ready("/healthz")

        start("registry")
        consumers_started = time.perf_counter()
        if args.mode == "live":
            for name in CONSUMING:
                start(name)
        relay = Progress()
        applied = {key: Progress() for key in CONSUMERS}
        reclassified = Progress()
        unscored = [0]  # entities marked by scoring's consumers, not scored yet

        def observe() -> None:
            now = time.perf_counter()
            relay.observe(now, services["registry"].events_relayed())
            for (svc, consumer), progress in applied.items():
                if svc in services:
                    progress.observe(now, services[svc].events_applied().get(consumer, 0))
            if "scoring" in services:
                scoring = services["scoring"]
                label = {"component": RECLASSIFIER}
                reclassified.observe(
                    now, int(scoring.metric("scoring_component_items_total", **label) or 0)
                )
                unscored[0] = int(scoring.metric("scoring_component_backlog", **label) or 0)

        t0 = time.perf_counter()
        summaries = {
            kind: _while(lambda k=kind: run_import(k, data / f"{k}.jsonl", env), observe)  # type: ignore[misc]
            for kind in ("entities", "records", "inspectors")
        }
        import_end = time.perf_counter()
        expected = {
            key: sum(events_on(urls["registry"]).get(t, 0) for t in topics)
            for key, topics in CONSUMERS.items()
        }
        deadline = time.monotonic() + args.timeout

        def done(keys: list[tuple[str, str]]) -> bool:
            scored = unscored[0] == 0 and reclassified.value > 0
            return all(applied[k].value >= expected[k] for k in keys) and (
                scored or all(k[0] != "scoring" for k in keys)
            )

        def wait_for(keys: list[tuple[str, str]]) -> None:
            while not done(keys):
                if time.monotonic() > deadline:
                    behind = {f"{s}.{c}": expected[s, c] - applied[s, c].value for s, c in keys}
                    behind["scoring.unscored"] = unscored[0]
                    raise SystemExit(f"not caught up within {args.timeout:.0f}s: behind {behind}")
                for s in services.values():
                    s.check_alive()
                time.sleep(POLL_S)
                observe()

        if args.mode != "live":
            consumers_started = time.perf_counter()
        for name in CONSUMING if args.mode != "live" else ():
            start(name)
            if args.mode == "one-by-one":  # each service alone on the machine, in turn
                wait_for([k for k in CONSUMERS if k[0] == name])
        wait_for(list(CONSUMERS))
        caught_up = time.perf_counter()
        batch_txn = {key: batch_transaction_ms(services[key[0]], key[1]) for key in CONSUMERS}
        counts = projection_counts(urls)
        idle = idle_cpu(services, args.idle_window)
        resync_s = resync(broker, services, urls, env, start, stack, args.db)

    print(f"db={args.db}")
    print(f"mode={args.mode}")
    print(f"n={args.n}")
    for kind, summary in summaries.items():
        print(f"{kind}_created={summary['created']}")
    print(f"import_s={import_end - t0:.1f}")
    print(f"relay_events={relay.value}")
    print(f"relay_events_per_s={relay.rate():.0f}")
    for (svc, consumer), progress in applied.items():
        print(f"{svc}_{consumer}_events={progress.value}")
        print(f"{svc}_{consumer}_applied_per_s={progress.rate():.0f}")
        mean, p95 = batch_txn[svc, consumer]
        print(f"{svc}_{consumer}_batch_txn_ms_mean={mean:.1f}")
        print(f"{svc}_{consumer}_batch_txn_ms_p95={p95}")
    print(f"scoring_reclassified={reclassified.value}")
    print(f"scoring_reclassified_per_s={reclassified.rate():.0f}")
    for name, count in counts.items():
        print(f"{name}={count}")
    print(f"catch_up_s={caught_up - import_end:.1f}")
    print(f"resync_s={resync_s:.1f}")
    print(f"consumers_start_to_caught_up_s={caught_up - consumers_started:.1f}")
    for name, pct in idle.items():
        print(f"idle_cpu_{name}_pct={pct:.1f}")
    print(f"idle_window_s={args.idle_window:.0f}")
    print(f"ref_sqlite_rows_per_s={ref:.0f}")
    return 0


RESYNCED = ("sampling", "publication")  # the projections of registry.entities timed


def resync(
    broker: LocalBroker,
    services: dict[str, ServiceProcess],
    urls: dict[str, str],
    env: dict[str, str],
    start: Callable[[str], None],
    stack: ExitStack,
    db: str,
) -> float:
    """Broker wiped → complete again: sampling and publication stop and come back on empty
    stores (a new replica each), the broker restarts with an empty log, and the runbook's
    cure runs (`services.registry replay --stream entities`, a snapshot); the seconds from
    the replay's start until both projections hold every entity. Scoring is stopped first,
    so that the figure is the projections' (its own resync replays records too)."""
    stop_services([services.pop(name) for name in ("scoring", *RESYNCED)])
    for name in RESYNCED:
        urls[name] = fresh_store(stack, db, f"event-path-{name}-resync")
        env[f"{name.upper()}_DATABASE_URL"] = urls[name]
    broker.stop()
    broker.start()  # memory-only: every event and every group offset is gone
    for name in RESYNCED:
        start(name)
    want = projection_counts(urls)["registry_entities_rows"]
    print(f"resync: replaying {want:,} entities to {', '.join(RESYNCED)} …", file=sys.stderr)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "services.registry", "replay", "--stream", "entities", "--no-wait"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    while True:
        counts = projection_counts(urls)
        held = {name: counts[f"{name}_entity_projection_rows"] for name in RESYNCED}
        if all(n >= want for n in held.values()):
            return time.perf_counter() - t0
        for name in RESYNCED:
            services[name].check_alive()
        time.sleep(POLL_S)


def _while(work: Callable[[], dict], observe: Callable[[], None]) -> dict:
    """``work()`` in a thread while the main thread keeps observing the services."""
    import threading

    result: dict = {}
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.update(work())
        except BaseException as exc:  # reraised below, in the main thread
            failure.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    while thread.is_alive():
        thread.join(POLL_S)
        observe()
    if failure:
        raise failure[0]
    return result


def events_on(registry_url: str) -> dict[str, int]:
    """The registry's outbox rows per topic: what each consumer has to apply."""
    table = outbox_table(service_metadata())
    engine = make_engine(registry_url)
    try:
        with engine.connect() as conn:
            query = select(table.c.topic, func.count()).group_by(table.c.topic)
            return {topic: n for topic, n in conn.execute(query) if topic in ALL_TOPICS}
    finally:
        engine.dispose()


def projection_counts(urls: dict[str, str]) -> dict[str, int]:
    """Rows in each store's projections, beside the registry's entities, and scoring's
    classified entities (their count only, never a class)."""
    tables = {
        "registry": ["entities", "inspectors"],
        "scoring": ["entity_projection", "entity_classes"],
        "sampling": ["entity_projection", "inspector_projection"],
        "publication": ["entity_projection"],
    }
    out: dict[str, int] = {}
    for svc, names in tables.items():
        engine = make_engine(urls[svc])
        try:
            with engine.connect() as conn:
                for name in names:
                    n = conn.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar_one()
                    out[f"{svc}_{name}_rows"] = int(n)
        finally:
            engine.dispose()
    return out


def batch_transaction_ms(service: ServiceProcess, consumer: str) -> tuple[float, str]:
    """Mean and 95th-percentile bucket bound of one batch's transaction, in ms."""
    samples = service.metric_samples()
    base = f"{service.name}_consumer_batch_seconds"
    label = ("consumer", consumer)
    total = sum(v for (n, ls), v in samples.items() if n == f"{base}_sum" and label in ls)
    count = sum(v for (n, ls), v in samples.items() if n == f"{base}_count" and label in ls)
    buckets = sorted(
        (float(dict(ls)["le"]), v)
        for (n, ls), v in samples.items()
        if n == f"{base}_bucket" and label in ls
    )
    p95 = next((le for le, v in buckets if count and v >= 0.95 * count), float("inf"))
    p95_text = f"<={p95 * 1000:.0f}" if p95 != float("inf") else "inf"
    return (1000 * total / count if count else 0.0), p95_text


def idle_cpu(services: dict[str, ServiceProcess], window: float) -> dict[str, float]:
    """Percent of one core each process used over ``window`` seconds of nothing to do."""
    before = {name: s.cpu_seconds() for name, s in services.items()}
    t0 = time.perf_counter()
    time.sleep(window)
    elapsed = time.perf_counter() - t0
    return {name: 100 * (s.cpu_seconds() - before[name]) / elapsed for name, s in services.items()}


def ref_sqlite_rows_per_s(n: int) -> float:
    """A bare sqlite3 executemany of ``n`` projection-shaped rows into a table keyed by
    code, in one transaction, on a file with the services' pragmas (WAL, NORMAL)."""
    path = OUT / "event-path-ref.sqlite3"
    for f in path.parent.glob(path.name + "*"):
        f.unlink()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = [
        (f"91140000{i:010d}", f"示例企业{i}有限公司", "140500", "C13", "active", '["a"]', 1)
        for i in range(n)
    ]
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(
            "CREATE TABLE p (code TEXT PRIMARY KEY, name TEXT, region TEXT, industry TEXT,"
            " status TEXT, tags TEXT, version INTEGER)"
        )
        t0 = time.perf_counter()
        with conn:
            conn.executemany("INSERT INTO p VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        return n / (time.perf_counter() - t0)
    finally:
        conn.close()
        for f in path.parent.glob(path.name + "*"):
            f.unlink()


if __name__ == "__main__":
    sys.exit(main())
