"""The real parts tests use: a PostgreSQL database per test session and a Tansu broker.

Where no PostgreSQL runs (a newcomer's laptop), PostgreSQL tests skip with the reason;
CI sets CS_REQUIRE_REAL_PARTS=1, which turns that skip into a failure."""

from __future__ import annotations

import os
import shutil

import pytest
from sqlalchemy import create_engine, text

# Shared with bench/ (which never imports tests/), so they live in deploy/.
from deploy.scratch_db import PG_ADMIN_URL, scratch_database
from deploy.tansu import free_port, tansu_broker

__all__ = ["PG_ADMIN_URL", "free_port", "scratch_database", "tansu_broker"]


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


def docker_cli() -> str | None:
    return shutil.which("docker")
