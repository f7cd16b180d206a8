"""The services as operating-system processes, as operators run them
(``python -m services.<name>``): for the local runner (deploy/local.py), the tests that
signal, kill or time a real one, and the benchmarks that drive a whole system. Start one,
wait for it to answer, read its metrics and CPU time, run the registry's bulk import,
stop them all."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
# A sample line of the Prometheus text format: name{label="value",...} number
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


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
            f"{prefix}_DATA_DIR": str(data_dir),
            **env,
        }
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls(name, port, full, data_dir / f"{name}.log")

    def start(self, command: str = "serve", *, new_session: bool = False) -> None:
        """Start the process, its output appended to ``log_path``. ``new_session``: a
        Ctrl-C of the caller's terminal does not reach it (the local runner stops the
        services itself, before the broker)."""
        env = {**self.env, f"{self.name.upper()}_PORT": str(self.port), "PYTHONUNBUFFERED": "1"}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", f"services.{self.name}", command],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=new_session,
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

    def get_json(self, path: str, token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        request = urllib.request.Request(self.url(path), headers=headers)
        with urllib.request.urlopen(request, timeout=5) as r:
            return orjson.loads(r.read())

    def metric_samples(self) -> Samples:
        """The service's /metrics as {(name, labels): value}."""
        with urllib.request.urlopen(self.url("/metrics"), timeout=5) as r:
            text = r.read().decode()
        out: Samples = {}
        for line in text.splitlines():
            m = _SAMPLE.match(line)
            if m:
                labels = frozenset(_LABEL.findall(m.group(2) or ""))
                out[(m.group(1), labels)] = float(m.group(3))
        return out

    def metric(self, name: str, **labels: str) -> float | None:
        """The value of one sample of the service's /metrics, None if absent or while
        nothing answers."""
        try:
            return self.metric_samples().get((name, frozenset(labels.items())))
        except OSError:
            return None

    def consumers_assigned(self, consumers: list[str]) -> bool:
        """Every named consumer holds partitions in its group (joining has finished)."""
        metric = f"{self.name}_consumer_assigned_partitions"
        return all((self.metric(metric, consumer=c) or 0) > 0 for c in consumers)

    def events_applied(self) -> dict[str, int]:
        """Per consumer: events it has applied or skipped as already applied (a
        redelivery), since the process started."""
        done: dict[str, int] = {}
        for (name, labels), value in self.metric_samples().items():
            if name != f"{self.name}_events_consumed_total":
                continue
            label = dict(labels)
            if label.get("outcome") in ("applied", "duplicate"):
                done[label["consumer"]] = done.get(label["consumer"], 0) + int(value)
        return done

    def events_relayed(self) -> int:
        key = (f"{self.name}_outbox_events_relayed_total", frozenset[tuple[str, str]]())
        return int(self.metric_samples().get(key, 0))

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self) -> None:
        if not self.alive():
            code = self.proc.returncode if self.proc is not None else None
            raise RuntimeError(f"{self.name} exited with {code}; see {self.log_path}")

    def wait_ready(self, path: str = "/readyz", timeout_s: float = 120) -> None:
        """Until ``path`` answers 200; raises at once if the process died."""
        deadline = time.monotonic() + timeout_s
        while self.status(path) != 200:
            self.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} did not answer {path} within {timeout_s:.0f} s")
            time.sleep(0.2)

    def cpu_seconds(self) -> float:
        """User and system CPU time the process has used (its threads included)."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        # After the command name: state is field 3, utime and stime fields 14 and 15.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

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


def start_service(
    name: str, *, port: int, env: Mapping[str, str], logs: Path, command: str = "serve"
) -> ServiceProcess:
    """``python -m services.<name> <command>`` on ``port``, its output appended to
    ``logs/<name>.log``, in its own session: a Ctrl-C of the caller's terminal reaches it
    only through ``stop_services`` (services first, then the broker)."""
    service = ServiceProcess(name, port, dict(env), logs / f"{name}.log")
    service.start(command, new_session=True)
    return service


def run_import(kind: str, path: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """The registry's bulk import of ``path`` (a child process on the registry's store);
    returns its summary (rows, created, updated, unchanged, rejected)."""
    done = subprocess.run(
        [sys.executable, "-m", "services.registry", "import", kind, str(path), "--no-progress"],
        cwd=ROOT,
        env=dict(env),
        check=True,
        stdout=subprocess.PIPE,
    )
    summary: dict[str, Any] = orjson.loads(done.stdout.strip().splitlines()[-1])
    return summary


def stop_services(services: Iterable[ServiceProcess], timeout: float = 20) -> None:
    """SIGINT (uvicorn's clean shutdown: consumers leave their groups, relays flush),
    then SIGKILL what is still running after ``timeout``."""
    running = [s for s in services if s.alive()]
    for s in running:
        assert s.proc is not None
        s.proc.send_signal(signal.SIGINT)
    for s in running:
        assert s.proc is not None
        try:
            s.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            s.proc.kill()
            s.proc.wait()
