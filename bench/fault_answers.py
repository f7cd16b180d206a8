"""How fast the services answer when a part is down (issue 10: /readyz within 2 s in every
state; a locked store a 503 within the request's store wait, default 5 s, not a 500 after
30 s). Runs the registry and sampling as processes on SQLite beside a broker, then for each
state times /readyz and a write:

    python bench/fault_answers.py [--calls 5]

Prints ``<state>_readyz_ms`` / ``<state>_readyz_status`` for healthy, broker_down and
store_locked, ``store_locked_post_ms`` / ``store_locked_post_status`` (a POST /v1/entities
while another process holds SQLite's write lock), and ``ref_healthz_ms`` (GET /healthz,
which touches nothing, in the same run): what one HTTP round trip costs on this machine."""

from __future__ import annotations

import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_arguments  # noqa: E402
from deploy.processes import ServiceProcess  # noqa: E402
from deploy.tansu import free_port, tansu_command  # noqa: E402
from shared.auth import Role, mint_token  # noqa: E402
from shared.credit_code import make_uscc  # noqa: E402
from shared.health import broker_check  # noqa: E402
from shared.settings import ServiceSettings  # noqa: E402


def timed(call: Callable[[], int]) -> tuple[float, int]:
    t0 = time.perf_counter()
    status = call()
    return (time.perf_counter() - t0) * 1000, status


def post_entity(service: ServiceProcess, i: int) -> int:
    token = mint_token(
        ServiceSettings().auth_secret, subject="bench", role=Role.REGISTRY_CLERK, region="140000"
    )
    body = {
        "code": make_uscc("9", "1", "140502", f"MB{i:06d}"),
        "entity_type": "enterprise",
        "name": f"故障应答基准{i}有限公司",
        "region_code": "140502",
    }
    request = urllib.request.Request(
        service.url("/v1/entities"),
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return e.code


def report(state: str, what: str, samples: list[tuple[float, int]]) -> None:
    print(f"{state}_{what}_ms={statistics.median(ms for ms, _ in samples):.0f}")
    print(f"{state}_{what}_status={','.join(sorted({str(s) for _, s in samples}))}")


def main() -> int:
    parser = bench_arguments(__doc__, default_n=0)
    parser.add_argument("--calls", type=int, default=5)
    args = parser.parse_args()
    port = free_port()
    bootstrap = f"127.0.0.1:{port}"
    broker = subprocess.Popen(
        tansu_command(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        services = [
            ServiceProcess.configured(name, free_port(), data / name, bootstrap)
            for name in ("registry", "sampling")
        ]
        try:
            while broker_check(bootstrap) != "ok":
                time.sleep(0.1)
            for s in services:
                s.start()
            for s in services:
                s.wait_ready()
            registry = services[0]
            ref = [timed(lambda: registry.status("/healthz") or 0) for _ in range(args.calls)]
            for s in services:
                report(
                    f"healthy_{s.name}",
                    "readyz",
                    [timed(lambda s=s: s.status("/readyz") or 0) for _ in range(args.calls)],
                )

            conn = sqlite3.connect(data / "registry" / "registry.sqlite3", isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            report(
                "store_locked",
                "readyz",
                [timed(lambda: registry.status("/readyz") or 0) for _ in range(args.calls)],
            )
            report(
                "store_locked",
                "post",
                [timed(lambda i=i: post_entity(registry, i)) for i in range(args.calls)],
            )
            conn.execute("ROLLBACK")
            conn.close()

            broker.kill()
            broker.wait()
            for s in services:
                report(
                    f"broker_down_{s.name}",
                    "readyz",
                    [timed(lambda s=s: s.status("/readyz") or 0) for _ in range(args.calls)],
                )
            report(
                "broker_down",
                "post",
                [timed(lambda i=i: post_entity(registry, 100 + i)) for i in range(args.calls)],
            )
        finally:
            for s in services:
                s.kill()
            broker.kill()
        print(f"ref_healthz_ms={statistics.median(ms for ms, _ in ref):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
