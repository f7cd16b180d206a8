"""The real parts tests use: a PostgreSQL database per test session and a Tansu broker.

Where no PostgreSQL runs (a newcomer's laptop), PostgreSQL tests skip with the reason;
CI sets CS_REQUIRE_REAL_PARTS=1, which turns that skip into a failure."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

from deploy.tansu import tansu_command

PG_ADMIN_URL = os.environ.get(
    "CS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def real_parts_required() -> bool:
    return os.environ.get("CS_REQUIRE_REAL_PARTS") == "1"


def skip_or_fail(reason: str) -> None:
    if real_parts_required():
        pytest.fail(f"{reason} (CS_REQUIRE_REAL_PARTS=1 makes this required)")
    pytest.skip(reason)


def postgres_available() -> str | None:
    """None if reachable, else the reason."""
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as e:
        return f"no PostgreSQL at {PG_ADMIN_URL}: {type(e).__name__}"


@contextmanager
def scratch_database(prefix: str = "cs_test") -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards; yields its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def tansu_broker() -> Iterator[str]:
    """A fresh memory-only Kafka-protocol broker on a free loopback port."""
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
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def docker_cli() -> str | None:
    return shutil.which("docker")
