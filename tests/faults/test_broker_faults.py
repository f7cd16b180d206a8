"""The broker fails under a running system: /readyz says so at once, nothing waits on
it, and when it comes back (with its log lost: Tansu keeps it in memory) the relay and
the consumers heal by themselves — no restart, nothing lost, nothing applied twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from tests.faults.system import Broker, broker, running_system
from tests.waiting import wait_until

pytestmark = pytest.mark.kafka


def ready(client: object, part: str | None = None) -> bool:
    """Whether /readyz says ready (``part`` None), or names ``part`` as down."""
    r = client.get("/readyz")  # type: ignore[attr-defined]
    if part is None:
        return r.status_code == 200
    return r.status_code == 503 and part in r.json()["error"]["message"]


def relay_recoveries() -> float:
    return (
        REGISTRY.get_sample_value("registry_component_restarts_total", {"component": "relay"})
        or 0.0
    )


def test_readyz_names_the_broker_when_none_answers(db_url: str, tmp_path: Path) -> None:
    gone = Broker()  # an address nobody listens on: the broker is down from the start
    with running_system(db_url, gone.bootstrap, tmp_path) as system:
        for client in (system.registry, system.sampling):
            r = client.get("/readyz")
            assert r.status_code == 503
            body = r.json()["error"]
            assert "broker" in body["message"] and body["details"]["broker"] != "ok"
            assert body["details"]["store"] == "ok"
        # Writes do not need the broker: the outbox keeps the event until it is back.
        system.import_entities(1, 5)
        assert system.unsent() == 5


def test_relay_and_consumers_heal_after_the_broker_lost_its_log(
    db_url: str, tmp_path: Path
) -> None:
    with broker() as b, running_system(db_url, b.bootstrap, tmp_path) as system:
        system.import_entities(1, 50)
        system.wait_projected(50)
        wait_until(lambda: ready(system.registry), timeout=60, what="the registry ready")
        recoveries = relay_recoveries()

        b.stop()
        wait_until(
            lambda: ready(system.registry, "broker") and ready(system.sampling, "broker"),
            timeout=60,
            what="/readyz to name the broker as down",
        )
        system.import_entities(51, 70)  # written while the broker is away
        b.start()  # an empty log: the first 50 events are gone from it

        wait_until(lambda: system.unsent() == 0, timeout=180, what="the relay to drain")
        system.import_entities(121, 10)
        system.wait_projected(130)
        wait_until(
            lambda: ready(system.registry) and ready(system.sampling),
            timeout=60,
            what="both services ready again",
        )
        assert relay_recoveries() >= recoveries + 1
        assert system.projected_entities() == system.registry_entities()
        # Every event applied once: one inbox row per entity event, every version 1.
        assert system.inbox_rows("entities") == 130
        assert set(system.projected_entities().values()) == {1}
