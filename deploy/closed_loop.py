"""The closed loop's probe, shared by its test and its benchmark (bench/ never imports
tests/): a firm one penalty away from a worse class, the penalty, and a reader of
scoring.classes that sees the change announced."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import orjson
from kafka import KafkaConsumer, TopicPartition

from shared.events import TOPIC_CLASSES


def young_small_firm(code: str, n: int, today: date) -> dict[str, Any]:
    """POST /v1/entities body: class A under the shipped general model, a few points below
    the B line, so that one fresh serious penalty is enough to cross it."""
    return {
        "code": code,
        "entity_type": "enterprise",
        "name": f"晋城市城区闭环测试{n}有限公司",
        "region_code": "140502",
        "industry_code": "5261",
        "registered_on": (today - timedelta(days=4 * 365)).isoformat(),
        "registered_capital": "20",
        "address": f"山西省晋城市城区闭环路{n}号",
        "legal_representative": f"闭环测试{n}",
    }


def serious_penalty(code: str, record_id: str, today: date) -> dict[str, Any]:
    """POST /v1/records body: a penalty of today that moves ``young_small_firm`` off A."""
    return {
        "record_id": record_id,
        "code": code,
        "kind": "penalty",
        "occurred_on": today.isoformat(),
        "source_department": "晋城市市场监督管理局",
        "payload": {"amount": 80000, "severity": "serious"},
    }


def classes_tail(bootstrap: str) -> KafkaConsumer:
    """A reader of scoring.classes positioned at its current end."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    partitions = [
        TopicPartition(TOPIC_CLASSES, p) for p in consumer.partitions_for_topic(TOPIC_CLASSES)
    ]
    consumer.assign(partitions)
    consumer.seek_to_end(*partitions)
    for tp in partitions:
        consumer.position(tp)  # resolve the end now, before the event can arrive
    return consumer


def class_change_announced(tail: KafkaConsumer, code: str, timeout_ms: int) -> dict | None:
    """The first event on ``tail`` that moves ``code`` off A, if one arrives in this poll
    (the first assignment's event may still be on its way: it is skipped)."""
    for records in tail.poll(timeout_ms=timeout_ms).values():
        for rec in records:
            data = orjson.loads(rec.value)["data"]
            if data["code"] == code and data["risk_class"] != "A":
                return dict(data)
    return None
