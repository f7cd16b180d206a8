"""Scoring's replay of its classes (shared.replay): a snapshot restates every current
class on scoring.classes (internal), and neither its figures nor its log reveal one."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import select

from services.scoring.models import entity_classes, outbox
from shared.auth import Role
from shared.events import TOPIC_CLASSES, Envelope
from tests.scoring.conftest import Scoring, entity
from tests.waiting import wait_until


def test_a_class_snapshot_restates_every_current_class_and_reveals_none(
    scoring: Scoring, caplog: pytest.LogCaptureFixture
) -> None:
    scoring.apply(*(entity(i) for i in range(5)))
    admin = scoring.headers(Role.ADMIN)
    with caplog.at_level(logging.DEBUG):
        r = scoring.client.post(
            "/v1/admin/replays", headers=admin, json={"stream": "classes", "source": "snapshot"}
        )
        assert r.status_code == 202, r.text

        def finished() -> Any:
            body = scoring.client.get(f"/v1/admin/replays/{r.json()['id']}", headers=admin)
            return body.json()["status"] == "done" and body.json()

        job = wait_until(finished, timeout=60, what="the class snapshot written")
    ticket = job["ticket"]
    with scoring.runtime.sessions() as s:
        current = {row.code: row.risk_class for row in s.execute(select(entity_classes))}
        payloads = s.execute(
            select(outbox.c.payload).where(
                outbox.c.topic == TOPIC_CLASSES,
                outbox.c.id.between(ticket["first_id"], ticket["last_id"]),
            )
        ).scalars()
        restated = {
            e.data["code"]: e.data["risk_class"]
            for e in (Envelope.from_bytes(p.encode()) for p in payloads)
        }
    assert len(current) == 5 and restated == current
    figures = scoring.client.get("/v1/streams/classes/figures", headers=scoring.headers())
    assert figures.json() == {"stream": TOPIC_CLASSES, "count": 5, "version_sum": None}
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "risk_class" not in logged
    assert not any(code in logged for code in current)
