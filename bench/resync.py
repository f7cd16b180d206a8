"""Resync benchmark: the time from a wiped broker and empty consumer stores to every
projection equal to the registry's again (issue 10: ``resync_s`` ≤ 120 s at 200,000
entities), printed as key=value lines.

    python bench/resync.py [--n 200000] [--db sqlite|postgresql] [--consumers sampling,publication]

The registry imports N generated entities and its outbox is marked published (what a
broker that lost its log leaves behind); then, timed: the registry's ``replay`` of
``registry.entities`` from a snapshot, its relay, and each consumer's inbox loop, until
every consumer's count and version sum equal the registry's. ``ref_sqlite_rows_per_s``
is a bare executemany of N projection-sized rows into SQLite in the same run.

``resync_until_complete`` is the measured part, for bench/event_path.py to call with
its own runtimes once it has wiped the broker."""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import update  # noqa: E402

from bench.common import bench_arguments, ensure_data, fresh_store, peak_rss_mb  # noqa: E402
from deploy.tansu import tansu_broker  # noqa: E402
from services.publication.app import build_runtime as publication_runtime  # noqa: E402
from services.publication.settings import PublicationSettings  # noqa: E402
from services.registry.app import build_runtime as registry_runtime  # noqa: E402
from services.registry.imports.importer import import_file  # noqa: E402
from services.registry.replay import STREAMS as REGISTRY_STREAMS  # noqa: E402
from services.registry.settings import RegistrySettings  # noqa: E402
from services.sampling.app import build_runtime as sampling_runtime  # noqa: E402
from services.sampling.settings import SamplingSettings  # noqa: E402
from services.scoring.app import build_runtime as scoring_runtime  # noqa: E402
from services.scoring.settings import ScoringSettings  # noqa: E402
from shared.events import TOPIC_ENTITIES  # noqa: E402
from shared.projections import entity_projection_table  # noqa: E402
from shared.replay import progress, replay  # noqa: E402
from shared.resync import projection_stream  # noqa: E402
from shared.runtime import ServiceRuntime  # noqa: E402

CONSUMERS = {
    "sampling": (SamplingSettings, sampling_runtime),
    "publication": (PublicationSettings, publication_runtime),
    "scoring": (ScoringSettings, scoring_runtime),
}


def resync_until_complete(
    owner: ServiceRuntime, consumers: list[ServiceRuntime], *, timeout_s: float = 1800
) -> dict[str, float]:
    """Replay ``registry.entities`` from a snapshot on ``owner`` (the registry, its relay
    running) and wait until each consumer's entity projection (its consumers running)
    has the registry's count and version sum. Returns ``resync_s`` (replay start to the
    last consumer complete), ``replay_queued_s`` (the snapshot written to the outbox),
    ``replay_published_s`` (the relay done with it) and ``<service>_complete_s`` per
    consumer."""
    stream = next(s for s in REGISTRY_STREAMS if s.name == "entities")
    with owner.sessions() as s:
        target = stream.figures(s)
    watched = {
        c.settings.service_name: projection_stream(
            TOPIC_ENTITIES, c.metadata.tables["entity_projection"]
        )
        for c in consumers
    }
    t0 = time.perf_counter()
    ticket = replay(
        owner.sessions,
        owner.outbox,
        stream,
        source="snapshot",
        retention=timedelta(days=owner.settings.outbox_retention_days),
    )
    figures: dict[str, float] = {"replay_queued_s": time.perf_counter() - t0}
    pending = {c.settings.service_name: c for c in consumers}
    while pending:
        if time.perf_counter() - t0 > timeout_s:
            raise TimeoutError(f"not complete after {timeout_s} s: {sorted(pending)}")
        if "replay_published_s" not in figures:
            with owner.sessions() as s:
                if progress(s, owner.outbox_table, ticket).done:  # type: ignore[arg-type]
                    figures["replay_published_s"] = time.perf_counter() - t0
        for name, runtime in list(pending.items()):
            with runtime.sessions() as s:
                local = watched[name].local(s)
            if (local.count, local.version_sum) == (target.count, target.version_sum):
                figures[f"{name}_complete_s"] = time.perf_counter() - t0
                del pending[name]
        time.sleep(0.2)
    figures["resync_s"] = time.perf_counter() - t0
    return figures


def ref_sqlite_rows_per_s(n: int) -> float:
    """A bare executemany of ``n`` projection-sized rows into SQLite, same machine, same run."""
    from sqlalchemy import MetaData, create_engine

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "ref.sqlite3"
        engine = create_engine(f"sqlite:///{path}")
        entity_projection_table(MetaData()).metadata.create_all(engine)
        engine.dispose()
        now = datetime.now(UTC).isoformat()
        rows = [
            (f"9114050{i:011d}", "uscc", f"晋城市测试{i}有限公司", "enterprise", "140502",
             "5161", "active", "张三", "山西省晋城市城区", "2020-01-01", 100.0, "[]", "[]", 1, now)
            for i in range(n)
        ]  # fmt: skip
        conn = sqlite3.connect(path)
        t0 = time.perf_counter()
        conn.executemany(f"INSERT INTO entity_projection VALUES ({', '.join('?' * 15)})", rows)
        conn.commit()
        elapsed = time.perf_counter() - t0
        conn.close()
    return n / elapsed


def main() -> int:
    parser = bench_arguments(__doc__, default_n=200_000)
    parser.add_argument(
        "--consumers",
        default="sampling,publication",
        help="comma-separated, of " + ",".join(CONSUMERS),
    )
    args = parser.parse_args()
    names = [c for c in args.consumers.split(",") if c]
    data = ensure_data(args.n, args.seed)
    with ExitStack() as stack:
        bootstrap = stack.enter_context(tansu_broker())
        owner = registry_runtime(
            RegistrySettings(
                database_url=fresh_store(stack, args.db, f"resync-registry-{args.n}"),
                kafka_bootstrap_servers=bootstrap,
                run_consumers=False,
            )
        )
        stack.callback(owner.stop)
        owner.migrate()
        import_file(owner.sessions, owner.outbox, "entities", data / "entities.jsonl")
        with owner.sessions.begin() as s:  # published before the broker lost its log
            s.execute(update(owner.outbox_table).values(sent_at=datetime.now(UTC)))  # type: ignore[arg-type]
        consumers = []
        for name in names:
            settings_cls, build = CONSUMERS[name]
            runtime = build(
                settings_cls(
                    database_url=fresh_store(stack, args.db, f"resync-{name}-{args.n}"),
                    kafka_bootstrap_servers=bootstrap,
                    run_relay=False,
                )
            )
            stack.callback(runtime.stop)
            runtime.migrate()
            runtime.start_background()
            consumers.append(runtime)
        owner.start_background()  # the relay
        figures = resync_until_complete(owner, consumers)
    print(f"n={args.n}")
    print(f"db={args.db}")
    print(f"consumers={','.join(names)}")
    for key, value in figures.items():
        print(f"{key}={value:.1f}")
    print(f"resync_events_per_s={args.n / figures['resync_s']:.0f}")
    print(f"ref_sqlite_rows_per_s={ref_sqlite_rows_per_s(args.n):.0f}")
    print(f"peak_rss_mb={peak_rss_mb():.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
