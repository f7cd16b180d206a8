"""Run the whole system on its embedded default: a local Kafka-protocol broker (Tansu),
the four services on SQLite files under .data/, and demo data loaded into the registry.
Prints the URLs and a token for each role an officer holds (admin, registry clerk,
credit officer, business officer, inspector), all for the whole province (140000);
Ctrl-C stops everything cleanly.

    python -m deploy.local [--entities 2000] [--no-demo]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from deploy.tansu import tansu_command
from shared.auth import Role, mint_token
from shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
SERVICES = {"registry": 8001, "scoring": 8002, "sampling": 8003, "publication": 8004}
# One token per role a person holds (``service`` is for machines), each for the whole
# province so that every demo entity is in reach; `python -m shared.auth mint --role …
# --region 140500` mints a city's or a county's.
DEMO_ROLES = (
    Role.ADMIN,
    Role.REGISTRY_CLERK,
    Role.CREDIT_OFFICER,
    Role.BUSINESS_OFFICER,
    Role.INSPECTOR,
)
DEMO_REGION = "140000"  # 山西省
TOKEN_HOURS = 8


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def wait_http(url: str, timeout: float, child: Child) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.proc.poll() is not None:
            raise SystemExit(
                f"{child.name} exited with {child.proc.returncode}; see {DATA / 'logs' / child.name}.log"
            )
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{child.name} did not answer {url} within {timeout:.0f}s")


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.local",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--entities", type=int, default=2000, help="size of the demo population")
    parser.add_argument("--no-demo", action="store_true", help="start empty")
    parser.add_argument(
        "--kafka-port", type=int, default=int(os.environ.get("LOCAL_KAFKA_PORT", 19092))
    )
    args = parser.parse_args()

    for port in [args.kafka_port, *SERVICES.values()]:
        if not port_free(port):
            raise SystemExit(f"port {port} is in use on 127.0.0.1; stop what uses it and retry")
    logs = DATA / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    bootstrap = f"127.0.0.1:{args.kafka_port}"
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "PYTHONUNBUFFERED": "1"}
    for name in SERVICES:
        env.setdefault(f"{name.upper()}_DATA_DIR", str(DATA))
        # Consumers check their projections against the registry's figures (resync).
        env.setdefault(f"{name.upper()}_REGISTRY_URL", f"http://127.0.0.1:{SERVICES['registry']}")
    children: list[Child] = []

    def spawn(name: str, cmd: list[str]) -> Child:
        log = (logs / f"{name}.log").open("ab")
        child = Child(
            name,
            subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            ),
        )
        children.append(child)
        return child

    def stop_all(*_: object) -> None:
        print("\nstopping …", flush=True)
        # The services first, the broker once they are gone: a consumer leaves its group
        # and a relay flushes while the broker still answers (stopped together, they
        # retried a vanished broker for ~20 s).
        services = [c for c in children if c.name != "kafka"]
        broker = [c for c in children if c.name == "kafka"]
        for group, sig in ((services, signal.SIGINT), (broker, signal.SIGTERM)):
            for child in group:
                if child.proc.poll() is None:
                    child.proc.send_signal(sig)
            for child in group:
                try:
                    child.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    child.proc.kill()
        print("stopped.")

    try:
        spawn("kafka", tansu_command(args.kafka_port))
        for name, port in SERVICES.items():
            env[f"{name.upper()}_PORT"] = str(port)
            child = spawn(name, [sys.executable, "-m", f"services.{name}"])
            wait_http(f"http://127.0.0.1:{port}/healthz", 60, child)
            print(f"  {name:<12} http://127.0.0.1:{port}/docs", flush=True)
        if not args.no_demo:
            load_demo(env, args.entities)
        print(f"\nkafka (Tansu) {bootstrap}   logs: {logs}")
        # The secret the services were given: they read AUTH_SECRET from the same env.
        print(tokens_text(ServiceSettings().auth_secret))
        print("Ctrl-C stops everything.", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        while all(c.proc.poll() is None for c in children):
            time.sleep(0.5)
        dead = [c.name for c in children if c.proc.poll() is not None]
        print(f"{', '.join(dead)} stopped unexpectedly; see {logs}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop_all()


def tokens_text(secret: str) -> str:
    """One bearer token per role of DEMO_ROLES, each line naming its role and region."""
    lines = [
        f"tokens, one per role, region {DEMO_REGION} (Shanxi province), valid {TOKEN_HOURS} h;",
        "send one as  Authorization: Bearer <token>",
    ]
    for role in DEMO_ROLES:
        token = mint_token(
            secret,
            subject=f"local-{role}",
            role=role,
            region=DEMO_REGION,
            ttl_seconds=TOKEN_HOURS * 3600,
        )
        lines.append(f"  {role:<16} {DEMO_REGION}  {token}")
    return "\n".join(lines)


def load_demo(env: dict[str, str], n: int) -> None:
    out = DATA / "demo"
    if not (out / "entities.jsonl").exists():
        print(f"generating a demo population of {n} Shanxi entities …", flush=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "services.registry",
                "generate",
                "--n",
                str(n),
                "--seed",
                "1",
                "--out",
                str(out),
                "--no-progress",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    for kind in ("entities", "records", "inspectors"):
        print(f"importing demo {kind} …", flush=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "services.registry",
                "import",
                kind,
                str(out / f"{kind}.jsonl"),
                "--no-progress",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )


if __name__ == "__main__":
    sys.exit(main())
