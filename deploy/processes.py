"""A service as its own process, as operators run it (``python -m services.<name>``), for
the tests and benchmarks that signal, kill or time a real one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @classmethod
    def configured(
        cls, name: str, port: int, data_dir: Path, bootstrap: str, **env: str
    ) -> ServiceProcess:
        """``name`` on ``port`` with its SQLite store under ``data_dir`` (unless ``env``
        sets ``<NAME>_DATABASE_URL``), on the broker at ``bootstrap``."""
        prefix = name.upper()
        full = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            f"{prefix}_PORT": str(port),
            f"{prefix}_DATA_DIR": str(data_dir),
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls(name, port, full, data_dir / f"{name}.log")

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", f"services.{self.name}"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def status(self, path: str) -> int | None:
        """The HTTP status of GET ``path``, None while nothing answers."""
        try:
            with urllib.request.urlopen(self.url(path), timeout=5) as r:
                return int(r.status)
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            return None

    def metric(self, name: str, **labels: str) -> float | None:
        """The value of one sample of the service's /metrics, None if absent."""
        want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        head = f"{name}{{{want}}}" if labels else name
        try:
            with urllib.request.urlopen(self.url("/metrics"), timeout=5) as r:
                for line in r.read().decode().splitlines():
                    if line.startswith(head + " "):
                        return float(line.rsplit(" ", 1)[1])
        except OSError:
            return None
        return None

    def consumers_assigned(self, consumers: list[str]) -> bool:
        """Every named consumer holds partitions in its group (joining has finished)."""
        metric = f"{self.name}_consumer_assigned_partitions"
        return all((self.metric(metric, consumer=c) or 0) > 0 for c in consumers)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout_s: float = 120) -> None:
        """Until /readyz answers 200; raises at once if the process died."""
        deadline = time.monotonic() + timeout_s
        while self.status("/readyz") != 200:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited; see {self.log_path}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} not ready after {timeout_s:.0f} s")
            time.sleep(0.2)

    def terminate(self, timeout_s: float = 60) -> float:
        """SIGTERM, then the seconds until the process exited (SIGKILL after ``timeout_s``)."""
        assert self.proc is not None
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return time.monotonic() - t0

    def kill(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.kill()
            self.proc.wait()
