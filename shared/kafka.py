"""kafka-python 3.0 transport: producer/consumer factories with explicit reliability
settings (defaults differ between client versions) and topic creation."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable

from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

log = logging.getLogger(__name__)

DEFAULT_PARTITIONS = 6


def make_producer(bootstrap: str, *, client_id: str) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=bootstrap.split(","),
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        retries=2**31 - 1,
        max_in_flight_requests_per_connection=5,
        linger_ms=5,
        batch_size=512 * 1024,
        # Compressed batches: far fewer bytes cross the pure-Python client's socket loop.
        # lz4 (C) rather than gzip, which kafka-python runs at level 9: measured on the
        # relay, ~16,000 events/s against ~11,000.
        compression_type="lz4",
        max_request_size=8 * 1024 * 1024,
        request_timeout_ms=30_000,
        # send() waits this long for metadata or buffer space, then raises: a relay with no
        # broker fails its round and backs off instead of hanging in send().
        max_block_ms=10_000,
    )


def make_consumer(
    bootstrap: str,
    *,
    group_id: str,
    topics: Iterable[str],
    client_id: str,
    max_poll_records: int = 2000,
) -> KafkaConsumer:
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap.split(","),
        group_id=group_id,
        client_id=client_id,
        enable_auto_commit=False,  # offsets are committed only after the database commit
        auto_offset_reset="earliest",
        max_poll_records=max_poll_records,
        # The broker holds an empty fetch this long and answers as soon as data arrives
        # (measured on Tansu: delivery 4-17 ms at 100, 500 and 2000 alike), so a longer
        # wait costs no latency; an idle consumer measured 2.7 % of a core at 100 ms,
        # 0.7 % at 500, 0.4 % at 2000 (polling with 500 ms timeouts, as the loop does).
        fetch_max_wait_ms=1000,
        max_partition_fetch_bytes=4 * 1024 * 1024,
        # Measured on the local broker: with 1 s heartbeats a new group member is assigned
        # partitions in ~5 s instead of ~23 s; 10 s still tolerates GC pauses.
        session_timeout_ms=10_000,
        heartbeat_interval_ms=1_000,
    )
    consumer.subscribe(list(topics))
    return consumer


def ensure_topics(
    bootstrap: str,
    topics: Iterable[str],
    *,
    partitions: int = DEFAULT_PARTITIONS,
    wait_s: float = 30,
) -> None:
    """Create the topics if missing; waits up to ``wait_s`` for the broker to come up
    (start-up ordering), then raises."""
    deadline = time.monotonic() + wait_s
    timeout_ms = max(1000, int(wait_s * 1000))
    while True:
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=bootstrap.split(","),
                client_id="topic-admin",
                # Without these the client tries for 30 s whatever ``wait_s`` says.
                bootstrap_timeout_ms=timeout_ms,
                request_timeout_ms=timeout_ms,
            )
            break
        except KafkaError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    try:
        existing = set(admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            # Another service may create the same topic at the same moment.
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(
                    [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in missing]
                )
    finally:
        admin.close()
