"""Registry import benchmark: import N generated entities into a fresh store, relay every
event to a real Kafka-protocol broker, and print the figures as key=value lines.

    python bench/registry_import.py [--n 1000000] [--db sqlite|postgresql]
        [--via cli|job] [--format jsonl|csv]

First bar (issue 2): ≥ 10,000 entities/s into the store, relay ≥ 10,000 events/s,
peak RSS ≤ 500 MB. The data is generated once per (n, seed, format) under bench/out/, in
a child process so that the generator's memory is not counted.

``--via cli`` imports as the CLI does (the server's own import, no jurisdiction);
``--via job`` as an officer's upload does: a background import job of the province,
whose rows are checked against the jurisdiction and whose progress, rejected rows and
heartbeat are written every batch. ``ref_sqlite_rows_per_s`` is a bare sqlite3
executemany of the same entity rows on the same machine in the same run (see
bench/common.py): compare ``entities_per_s`` across machines as its ratio to it."""

from __future__ import annotations

import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    OUT,
    bench_arguments,
    ensure_data,
    fresh_store,
    peak_rss_mb,
    ref_sqlite_rows_per_s,
)
from deploy.tansu import tansu_broker  # noqa: E402
from services.registry.app import build_runtime  # noqa: E402
from services.registry.entities.writer import ENTITIES  # noqa: E402
from services.registry.imports.importer import (  # noqa: E402
    DEFAULT_BATCH_SIZE,
    ImportReport,
    import_file,
)
from services.registry.imports.jobs import JOBS, ImportJobs  # noqa: E402
from services.registry.settings import RegistrySettings  # noqa: E402
from shared import kafka as transport  # noqa: E402
from shared.auth import Principal, Role  # noqa: E402
from shared.events import ALL_TOPICS  # noqa: E402
from shared.runtime import ServiceRuntime  # noqa: E402

PROVINCE = Principal("bench", Role.REGISTRY_CLERK, "140000")


def main() -> int:
    parser = bench_arguments(__doc__, default_n=1_000_000)
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--no-relay", action="store_true", help="measure the import only")
    parser.add_argument("--via", choices=["cli", "job"], default="cli")
    parser.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    args = parser.parse_args()

    path = ensure_data(args.n, args.seed, args.format) / f"entities.{args.format}"
    with ExitStack() as stack:
        url = fresh_store(stack, args.db, f"registry-bench-{args.n}")
        bootstrap = stack.enter_context(tansu_broker())
        runtime = build_runtime(
            RegistrySettings(
                database_url=url,
                kafka_bootstrap_servers=bootstrap,
                run_relay=False,
                run_consumers=False,
            )
        )
        stack.callback(runtime.stop)
        runtime.migrate()

        if args.via == "cli":
            t0 = time.perf_counter()
            report = import_file(
                runtime.sessions, runtime.outbox, "entities", path, batch_size=args.batch_size
            )
            import_s = time.perf_counter() - t0
        else:
            report, import_s = _import_as_job(runtime, path, args.batch_size)
        with runtime.sessions() as s:
            backlog = runtime.outbox.backlog(s)

        relayed, relay_s = (0, 0.0) if args.no_relay else _relay_all(runtime, bootstrap)
        ref = ref_sqlite_rows_per_s(url, ENTITIES, batch_size=args.batch_size)

    print(f"db={args.db}")
    print(f"via={args.via}")
    print(f"format={args.format}")
    print(f"n={args.n}")
    print(f"rows={report.rows}")
    print(f"entities_created={report.created}")
    print(f"rows_rejected={report.rejected}")
    print(f"import_seconds={import_s:.1f}")
    print(f"entities_per_s={report.created / import_s:.0f}")
    print(f"ref_sqlite_rows_per_s={ref:.0f}")
    print(f"entities_per_ref={report.created / import_s / ref:.3f}")
    print(f"events_in_outbox={backlog}")
    print(f"events_relayed={relayed}")
    print(f"relay_seconds={relay_s:.1f}")
    print(f"events_per_s={relayed / relay_s:.0f}" if relay_s else "events_per_s=0")
    print(f"peak_rss_mb={peak_rss_mb():.0f}")
    return 0


def _import_as_job(runtime: ServiceRuntime, path: Path, batch_size: int) -> tuple[Any, float]:
    """Import ``path`` as a background job of the province, as an upload does: (its
    counts, seconds from the upload's answer to the job seen done; the spooling of the
    upload is not timed)."""
    jobs = ImportJobs(runtime.sessions, runtime.outbox, OUT / "spool", batch_size=batch_size)
    stop = threading.Event()
    # Running before the upload, as in the service: at its start a worker settles the
    # unfinished jobs of its own process (a container's pid may be its predecessor's).
    worker = threading.Thread(target=jobs.run, args=(stop,))
    worker.start()
    with path.open("rb") as f:
        job_id = jobs.submit("entities", path.name, f, PROVINCE)
    t0 = time.perf_counter()
    while (job := _job(runtime, job_id)).status not in ("done", "failed"):
        time.sleep(0.05)
    seconds = time.perf_counter() - t0
    stop.set()
    worker.join()
    if job.status != "done":
        raise SystemExit(f"the import job failed: {job.failure_en}")
    report = ImportReport(
        "entities", job.rows, job.created, job.updated, job.unchanged, job.rejected
    )
    return report, seconds


def _job(runtime: ServiceRuntime, job_id: str) -> Any:
    with runtime.sessions() as s:
        return s.execute(JOBS.select().where(JOBS.c.id == job_id)).one()


def _relay_all(runtime: Any, bootstrap: str) -> tuple[int, float]:
    """Publish the whole outbox to the broker: (events relayed, seconds)."""
    transport.ensure_topics(bootstrap, ALL_TOPICS)
    relay = runtime.make_relay()
    t0 = time.perf_counter()
    relayed = relay.drain()
    seconds = time.perf_counter() - t0
    relay.close()
    return relayed, seconds


if __name__ == "__main__":
    sys.exit(main())
