"""How long each service takes to stop after SIGTERM (bar: 10 s), with its relay and
consumers connected to a broker and its consumers holding their partitions (a fresh broker
per run: Tansu keeps a group in rebalance for good when a member leaves mid-join).

    python bench/shutdown.py [--runs 3]

Prints ``<service>_sigterm_exit_s`` (the median of --runs) and ``ref_bare_uvicorn_sigterm_s``,
the same measure of an empty uvicorn application in the same run: what the interpreter and
the server cost by themselves on this machine."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_arguments  # noqa: E402
from deploy.processes import ServiceProcess  # noqa: E402
from deploy.tansu import free_port, tansu_broker  # noqa: E402

CONSUMERS = {
    "registry": [],
    "scoring": ["entities", "records"],
    "sampling": ["entities", "inspectors"],
    "publication": ["entities"],
}
BARE_APP = "async def app(scope, receive, send):\n    pass\n"


def service_exit_s(name: str, data_dir: Path) -> float:
    with tansu_broker() as bootstrap:
        service = ServiceProcess.configured(name, free_port(), data_dir, bootstrap)
        service.start()
        try:
            service.wait_ready()
            deadline = time.monotonic() + 120
            while not service.consumers_assigned(CONSUMERS[name]):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name}'s consumers got no partitions")
                time.sleep(0.2)
            return service.terminate(timeout_s=60)
        finally:
            service.kill()


def bare_uvicorn_exit_s(folder: Path) -> float:
    (folder / "bare_app.py").write_text(BARE_APP)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bare_app:app", "--port", str(port), "--lifespan", "off"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    probe = ServiceProcess("bare", port, {}, folder / "bare.log")
    probe.proc = proc
    while probe.status("/") is None:  # any answer: it listens
        if not probe.alive():
            raise RuntimeError("the bare uvicorn app exited")
        time.sleep(0.05)
    return probe.terminate(timeout_s=60)


def main() -> int:
    parser = bench_arguments(__doc__, default_n=0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ref = statistics.median(bare_uvicorn_exit_s(folder) for _ in range(args.runs))
        for name in CONSUMERS:
            runs = []
            for i in range(args.runs):
                runs.append(service_exit_s(name, folder / f"{name}-{i}"))
                print(f"# {name} run {i + 1}: {runs[-1]:.2f} s", file=sys.stderr, flush=True)
            print(f"{name}_sigterm_exit_s={statistics.median(runs):.2f}")
        print(f"ref_bare_uvicorn_sigterm_s={ref:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
