"""SIGTERM stops every service by itself, promptly, and its consumers leave their groups
(the partitions go to the other members at once, not after a session timeout). How fast it
stops is measured by bench/shutdown.py; here the bound is only generous."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from kafka.admin import KafkaAdminClient

from deploy.processes import ServiceProcess
from deploy.tansu import free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.kafka

CONSUMER_GROUPS = {
    "registry": [],
    "scoring": ["scoring.entities", "scoring.records"],
    "sampling": ["sampling.entities", "sampling.inspectors"],
    "publication": ["publication.entities"],
}


class _GroupAdmin(KafkaAdminClient):
    """The admin client, minus the decoding of the groups' authorized operations: Tansu
    answers a bit set (15) that kafka-python's ACL enum rejects, and only members matter."""

    def _process_acl_operations(self, obj: dict) -> dict:  # type: ignore[type-arg]
        obj.pop("authorized_operations", None)
        return obj


def group_members(bootstrap: str, groups: list[str]) -> dict[str, int]:
    admin = _GroupAdmin(bootstrap_servers=bootstrap, client_id="shutdown-test")
    try:
        described = admin.describe_groups(groups)
        return {g: len(described[g].get("members") or []) for g in groups}
    finally:
        admin.close()


@pytest.mark.parametrize("name", sorted(CONSUMER_GROUPS))
def test_sigterm_stops_the_service_and_its_consumers_leave(
    name: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    service = ServiceProcess.configured(name, free_port(), tmp_path, kafka_bootstrap)
    service.start()
    try:
        service.wait_ready()
        groups = CONSUMER_GROUPS[name]
        if groups:
            wait_until(
                lambda: all(group_members(kafka_bootstrap, groups).values()),
                timeout=120,
                what=f"{name}'s consumers to join their groups",
            )
        service.terminate(timeout_s=120)
        assert service.proc is not None
        # Stopped by itself, not killed after the bound (-9): uvicorn shuts the application
        # down, then re-raises the SIGTERM it caught (-15), as a supervisor expects.
        log = service.log_path.read_text()
        assert service.proc.returncode in (0, -signal.SIGTERM), log[-3000:]
        assert "Application shutdown complete" in log
        if groups:
            assert group_members(kafka_bootstrap, groups) == dict.fromkeys(groups, 0)
    finally:
        service.kill()
