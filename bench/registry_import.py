"""Registry import benchmark: import N generated entities into a fresh store, relay every
event to a real Kafka-protocol broker, and print the figures as key=value lines.

    python bench/registry_import.py [--n 1000000] [--db sqlite|postgresql]

First bar (issue 2): ≥ 10,000 entities/s into the store, relay ≥ 10,000 events/s,
peak RSS ≤ 500 MB. The data is generated once per (n, seed) under bench/out/, in a child
process so that the generator's memory is not counted."""

from __future__ import annotations

import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_arguments, ensure_data, fresh_store, peak_rss_mb  # noqa: E402
from deploy.tansu import tansu_broker  # noqa: E402
from services.registry.app import build_runtime  # noqa: E402
from services.registry.imports.importer import DEFAULT_BATCH_SIZE, import_file  # noqa: E402
from services.registry.settings import RegistrySettings  # noqa: E402
from shared import kafka as transport  # noqa: E402
from shared.events import ALL_TOPICS  # noqa: E402


def main() -> int:
    parser = bench_arguments(__doc__, default_n=1_000_000)
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--no-relay", action="store_true", help="measure the import only")
    args = parser.parse_args()

    data = ensure_data(args.n, args.seed)
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

        t0 = time.perf_counter()
        report = import_file(
            runtime.sessions,
            runtime.outbox,
            "entities",
            data / "entities.jsonl",
            batch_size=args.batch_size,
        )
        import_s = time.perf_counter() - t0
        with runtime.sessions() as s:
            backlog = runtime.outbox.backlog(s)

        relayed, relay_s = (0, 0.0) if args.no_relay else _relay_all(runtime, bootstrap)

    print(f"db={args.db}")
    print(f"n={args.n}")
    print(f"rows={report.rows}")
    print(f"entities_created={report.created}")
    print(f"rows_rejected={report.rejected}")
    print(f"import_seconds={import_s:.1f}")
    print(f"entities_per_s={report.created / import_s:.0f}")
    print(f"events_in_outbox={backlog}")
    print(f"events_relayed={relayed}")
    print(f"relay_seconds={relay_s:.1f}")
    print(f"events_per_s={relayed / relay_s:.0f}" if relay_s else "events_per_s=0")
    print(f"peak_rss_mb={peak_rss_mb():.0f}")
    return 0


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
