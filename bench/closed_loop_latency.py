"""Closed-loop latency benchmark: a penalty posted to the registry's API, until scoring's
new class for the entity is on scoring.classes, through a real Kafka-protocol broker, and
print the figures as key=value lines.

    python bench/closed_loop_latency.py [--n 20] [--db sqlite|postgresql]

Each of --n rounds registers a young small firm (class A under the shipped general model,
a few points below the B line), waits for its first class, then posts one serious penalty
and times the way to the class event: registry outbox → relay → broker → scoring's
consumer → reclassification → scoring's outbox → relay → broker. The registry runs on
SQLite, scoring on --db, both in this process with their relays and consumers.

``ref_broker_hop_ms`` is measured in the same run on the same broker: the median of a
bare produce → consume of one message. The loop makes two such hops, so its latency over
that floor (``latency_p50_over_ref``) is what the services add: relay polling, consumer
batching, the transactions."""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import OUT, bench_arguments, fresh_store  # noqa: E402
from deploy.closed_loop import (  # noqa: E402
    class_change_announced,
    classes_tail,
    serious_penalty,
    young_small_firm,
)
from deploy.tansu import tansu_broker  # noqa: E402
from services.registry.app import build_app as build_registry  # noqa: E402
from services.registry.settings import RegistrySettings  # noqa: E402
from services.scoring.app import build_app as build_scoring  # noqa: E402
from services.scoring.models import entity_classes  # noqa: E402
from services.scoring.settings import ScoringSettings  # noqa: E402
from shared import kafka as transport  # noqa: E402
from shared.auth import mint_token  # noqa: E402
from shared.credit_code import make_uscc  # noqa: E402
from shared.events import ALL_TOPICS  # noqa: E402
from shared.workdays import china_today  # noqa: E402

WAIT_S = 120.0  # a round that takes longer than this is reported as a failure


def main() -> int:
    args = bench_arguments(__doc__, default_n=20).parse_args()
    with ExitStack() as stack:
        bootstrap = stack.enter_context(tansu_broker())
        transport.ensure_topics(bootstrap, ALL_TOPICS)
        ref_ms = broker_hop_ms(bootstrap)
        OUT.mkdir(parents=True, exist_ok=True)
        scoring_url = fresh_store(stack, args.db, "closed-loop-scoring")
        registry_url = fresh_store(stack, "sqlite", "closed-loop-registry")
        common: dict[str, Any] = {"kafka_bootstrap_servers": bootstrap, "log_level": "WARNING"}
        scoring = stack.enter_context(
            TestClient(build_scoring(ScoringSettings(database_url=scoring_url, **common)))
        )
        registry_settings = RegistrySettings(
            database_url=registry_url, run_consumers=False, **common
        )
        registry = stack.enter_context(TestClient(build_registry(registry_settings)))
        token = mint_token(
            registry_settings.auth_secret, subject="bench", role="registry_clerk", region="140000"
        )
        auth = {"Authorization": f"Bearer {token}"}
        tail = classes_tail(bootstrap)
        stack.callback(tail.close)
        seconds = [one_round(i, registry, scoring, auth, tail) for i in range(args.n)]

    p50 = statistics.median(seconds)
    print(f"db={args.db}")
    print(f"n={args.n}")
    print(f"latency_p50_s={p50:.3f}")
    print(f"latency_max_s={max(seconds):.3f}")
    print(f"latency_min_s={min(seconds):.3f}")
    print(f"ref_broker_hop_ms={ref_ms:.1f}")
    print(f"latency_p50_over_ref={p50 * 1000 / ref_ms:.0f}")
    return 0


def one_round(
    i: int, registry: TestClient, scoring: TestClient, auth: dict[str, str], tail: KafkaConsumer
) -> float:
    code = make_uscc("9", "1", "140502", f"BL{i:06d}")
    today = china_today()
    r = registry.post("/v1/entities", headers=auth, json=young_small_firm(code, i, today))
    r.raise_for_status()
    first = until(lambda: class_of(scoring, code), f"a first class for {code}")
    if first != "A":
        raise RuntimeError(f"{code} starts as {first}, not A: the round measures nothing")
    drain(tail)
    posted = time.monotonic()
    penalty = serious_penalty(code, f"PEN-BENCH-{i}-{uuid.uuid4().hex[:6]}", today)
    registry.post("/v1/records", headers=auth, json=penalty).raise_for_status()
    until(lambda: class_change_announced(tail, code, timeout_ms=10), f"the class event of {code}")
    return time.monotonic() - posted


def until(probe: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_S
    while not (value := probe()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {what} within {WAIT_S:.0f} s")
        time.sleep(0.01)
    return value


def class_of(scoring: TestClient, code: str) -> str | None:
    with scoring.app.state.runtime.sessions() as s:  # type: ignore[attr-defined]
        return s.execute(
            select(entity_classes.c.risk_class).where(entity_classes.c.code == code)
        ).scalar_one_or_none()


def drain(tail: KafkaConsumer) -> None:
    """Read what is on scoring.classes so far (the first assignments)."""
    while tail.poll(timeout_ms=100):
        pass


def broker_hop_ms(bootstrap: str, messages: int = 20) -> float:
    """Median milliseconds from a bare send of one message to its receipt by a consumer
    already positioned at the end, on a topic of its own."""
    topic = "bench.hop"
    transport.ensure_topics(bootstrap, [topic], partitions=1)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    consumer.seek_to_end(tp)
    consumer.position(tp)
    hops = []
    for k in range(messages):
        sent = time.monotonic()
        producer.send(topic, value=str(k).encode())
        producer.flush()
        until(lambda: consumer.poll(timeout_ms=10), "a bare message back from the broker")
        hops.append((time.monotonic() - sent) * 1000)
    producer.close()
    consumer.close()
    return statistics.median(hops)


if __name__ == "__main__":
    sys.exit(main())
