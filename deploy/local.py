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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy.processes import ServiceProcess, run_import, start_service, stop_services
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
# How long `./dev up` waits for its demo to reach every service; the progress it prints
# shows what is still missing.
DEMO_TIMEOUT_S = 600
PROGRESS_EVERY_S = 3.0


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@dataclass(frozen=True)
class DemoTarget:
    """What the demo import left for the other services to take in."""

    entities: int  # in the directory after the import (new, changed or already there)
    inspectors: int
    records: int  # created by this import: scoring applies their events


@dataclass(frozen=True)
class DemoReach:
    """How far the demo has reached each service."""

    scoring_entities: int
    scoring_records: int  # record events scoring's consumer applied since it started
    scoring_unclassified: int  # entities the reclassifier has still to score
    sampling_entities: int
    sampling_inspectors: int
    publication_entities: int


def demo_target(summaries: dict[str, dict[str, Any]]) -> DemoTarget:
    def in_directory(kind: str) -> int:
        s = summaries[kind]
        return int(s["created"] + s["updated"] + s["unchanged"])

    return DemoTarget(
        entities=in_directory("entities"),
        inspectors=in_directory("inspectors"),
        records=int(summaries["records"]["created"]),
    )


def still_missing(target: DemoTarget, reach: DemoReach) -> list[str]:
    """Each part of the demo some service has not taken in yet, as "have/want what"; none
    once every projection holds the directory, scoring has applied every record and
    scored every entity they touched."""
    waiting = reach.scoring_unclassified
    unscored = [f"scoring {waiting:,} entities awaiting classification"] if waiting else []
    parts = [
        ("scoring", reach.scoring_entities, target.entities, "entities"),
        ("scoring", reach.scoring_records, target.records, "records"),
        ("sampling", reach.sampling_entities, target.entities, "entities"),
        ("sampling", reach.sampling_inspectors, target.inspectors, "inspectors"),
        ("publication", reach.publication_entities, target.entities, "entities"),
    ]
    behind = [f"{svc} {have:,}/{want:,} {what}" for svc, have, want, what in parts if have < want]
    return behind + unscored


def demo_reach(services: dict[str, ServiceProcess], token: str) -> DemoReach:
    def stats(name: str) -> dict[str, Any]:
        result: dict[str, Any] = services[name].get_json("/v1/projection/stats", token)
        return result

    scoring, sampling = stats("scoring"), stats("sampling")
    return DemoReach(
        scoring_entities=scoring["entities"],
        scoring_records=services["scoring"].events_applied().get("records", 0),
        scoring_unclassified=scoring["awaiting_classification"],
        sampling_entities=sampling["entities"],
        sampling_inspectors=sampling["inspectors"],
        publication_entities=stats("publication")["entities"],
    )


def wait_for_demo(
    services: dict[str, ServiceProcess], target: DemoTarget, token: str, timeout: float
) -> bool:
    """Until the demo has reached every service, printing what is missing as it shrinks;
    False if it has not within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    shown = 0.0
    while True:
        for s in services.values():
            s.check_alive()
        try:
            missing = still_missing(target, demo_reach(services, token))
        except OSError:  # a service busy or restarting: ask again
            missing = ["(services not answering yet)"]
        if not missing:
            return True
        if time.monotonic() > deadline:
            print(f"the demo has not reached every service within {timeout:.0f}s: "
                  f"{'; '.join(missing)}", flush=True)  # fmt: skip
            return False
        if time.monotonic() - shown >= PROGRESS_EVERY_S:
            print(
                f"  waiting for the demo to reach every service: {'; '.join(missing)}", flush=True
            )
            shown = time.monotonic()
        time.sleep(0.5)


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
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap}
    for name in SERVICES:
        env.setdefault(f"{name.upper()}_DATA_DIR", str(DATA))
        # Consumers check their projections against the registry's figures (resync).
        env.setdefault(f"{name.upper()}_REGISTRY_URL", f"http://127.0.0.1:{SERVICES['registry']}")
    services: dict[str, ServiceProcess] = {}
    broker: list[subprocess.Popen[bytes]] = []

    def stop_all() -> None:
        print("\nstopping …", flush=True)
        # The services first, the broker once they are gone: a consumer leaves its group
        # and a relay flushes while the broker still answers (stopped together, they
        # retried a vanished broker for ~20 s).
        stop_services(services.values())
        for proc in broker:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        print("stopped.")

    try:
        with (logs / "kafka.log").open("ab") as kafka_log:
            broker.append(
                subprocess.Popen(
                    tansu_command(args.kafka_port),
                    stdout=kafka_log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        for name, port in SERVICES.items():
            services[name] = start_service(name, port=port, env=env, logs=logs)
            services[name].wait_ready("/healthz", timeout_s=60)
            print(f"  {name:<12} http://127.0.0.1:{port}/docs", flush=True)
        # The secret the services were given: they read AUTH_SECRET from the same env.
        secret = ServiceSettings().auth_secret
        if not args.no_demo:
            target = load_demo(env, args.entities)
            token = mint_token(
                secret, subject="local-runner", role=Role.SERVICE, region=DEMO_REGION
            )
            if wait_for_demo(services, target, token, timeout=DEMO_TIMEOUT_S):
                print("ready: the demo has reached every service", flush=True)
        print(f"\nkafka (Tansu) {bootstrap}   logs: {logs}")
        print(tokens_text(secret))
        print("Ctrl-C stops everything.", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        while broker[0].poll() is None and all(s.alive() for s in services.values()):
            time.sleep(0.5)
        dead = [n for n, s in services.items() if not s.alive()]
        if broker[0].poll() is not None:
            dead.append("kafka")
        print(f"{', '.join(dead)} stopped unexpectedly; see {logs}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    except (RuntimeError, TimeoutError) as exc:  # a service died or never answered
        print(exc, file=sys.stderr)
        return 1
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


def load_demo(env: dict[str, str], n: int) -> DemoTarget:
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
    summaries = {}
    for kind in ("entities", "records", "inspectors"):
        print(f"importing demo {kind} …", flush=True)
        summaries[kind] = run_import(kind, out / f"{kind}.jsonl", env)
    return demo_target(summaries)


if __name__ == "__main__":
    sys.exit(main())
