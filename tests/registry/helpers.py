"""Helpers shared by the records, relations and inspectors tests (fixtures come from
tests/registry/conftest.py)."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import select

from services.registry.models import outbox
from tests.registry.conftest import Registry


def outbox_events(registry: Registry, event_type: str) -> list[dict[str, Any]]:
    """The ``data`` of every outbox event of ``event_type``, in the order written."""
    query = select(outbox.c.payload).where(outbox.c.event_type == event_type).order_by(outbox.c.id)
    with registry.runtime.sessions() as s:
        return [orjson.loads(p)["data"] for p in s.execute(query).scalars()]


def error_field(response: Any) -> str:
    assert response.status_code == 422, response.text
    return str(response.json()["error"]["field"])
