"""The services as operating-system processes, for the local runner (deploy/local.py) and
the benchmarks that drive a whole system (bench/event_path.py): start one, wait for it to
answer, read its metrics and CPU time, run the registry's bulk import, stop them all."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
# A sample line of the Prometheus text format: name{label="value",...} number
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


@dataclass
class ServiceProcess:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise SystemExit(f"{self.name} exited with {self.proc.returncode}; see {self.log}")


def start_service(
    name: str, *, port: int, env: Mapping[str, str], logs: Path, command: str = "serve"
) -> ServiceProcess:
    """``python -m services.<name> <command>`` on ``port``, its output appended to
    ``logs/<name>.log``; in its own session, so a Ctrl-C of the caller's terminal reaches
    it only through ``stop_services`` (services first, then the broker)."""
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{name}.log"
    child_env = {**env, f"{name.upper()}_PORT": str(port), "PYTHONUNBUFFERED": "1"}
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", f"services.{name}", command],
            cwd=ROOT,
            env=child_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return ServiceProcess(name, port, proc, log)


def wait_http(service: ServiceProcess, path: str = "/healthz", timeout: float = 60) -> None:
    """Until ``path`` answers 200; exits with the log's name if the service died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        service.check_alive()
        try:
            with urllib.request.urlopen(service.url(path), timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{service.name} did not answer {path} within {timeout:.0f}s")


def get_json(service: ServiceProcess, path: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(service.url(path), headers=headers)
    with urllib.request.urlopen(request, timeout=5) as r:
        return orjson.loads(r.read())


def metric_samples(service: ServiceProcess) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """The service's /metrics as {(name, labels): value}."""
    with urllib.request.urlopen(service.url("/metrics"), timeout=5) as r:
        text = r.read().decode()
    out: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for line in text.splitlines():
        m = _SAMPLE.match(line)
        if m:
            labels = frozenset(_LABEL.findall(m.group(2) or ""))
            out[(m.group(1), labels)] = float(m.group(3))
    return out


def events_applied(service: ServiceProcess) -> dict[str, int]:
    """Per consumer of ``service``: events it has applied or skipped as already applied
    (a redelivery), since the process started."""
    done: dict[str, int] = {}
    for (name, labels), value in metric_samples(service).items():
        if name != f"{service.name}_events_consumed_total":
            continue
        label = dict(labels)
        if label.get("outcome") in ("applied", "duplicate"):
            done[label["consumer"]] = done.get(label["consumer"], 0) + int(value)
    return done


def events_relayed(service: ServiceProcess) -> int:
    key = (f"{service.name}_outbox_events_relayed_total", frozenset[tuple[str, str]]())
    return int(metric_samples(service).get(key, 0))


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command name: state is field 3, utime and stime fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
    running = [s for s in services if s.proc.poll() is None]
    for s in running:
        s.proc.send_signal(signal.SIGINT)
    for s in running:
        try:
            s.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            s.proc.kill()
            s.proc.wait()
