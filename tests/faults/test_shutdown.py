"""SIGTERM stops every service by itself, promptly, and its consumers leave their groups
(the partitions go to the other members at once, not after a session timeout). How fast it
stops is measured by bench/shutdown.py; here the bound is only generous."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest

from deploy.processes import ServiceProcess
from deploy.tansu import free_port
from tests.faults.system import broker
from tests.waiting import wait_until

pytestmark = pytest.mark.kafka

CONSUMERS = {
    "registry": [],
    "scoring": ["entities", "records"],
    "sampling": ["entities", "inspectors"],
    "publication": ["entities"],
}


@pytest.mark.parametrize("name", sorted(CONSUMERS))
def test_sigterm_stops_the_service_and_its_consumers_leave(name: str, tmp_path: Path) -> None:
    # A broker of its own: Tansu keeps a group in rebalance for good when a member leaves
    # in the middle of joining, and the groups' names are the production ones.
    with broker() as b:
        service = ServiceProcess.configured(name, free_port(), tmp_path, b.bootstrap)
        service.start()
        try:
            service.wait_ready()
            consumers = CONSUMERS[name]
            wait_until(
                lambda: service.consumers_assigned(consumers),
                timeout=120,
                what=f"{name}'s consumers to hold their partitions",
            )
            service.terminate(timeout_s=120)
        finally:
            service.kill()
    assert service.proc is not None
    # Stopped by itself, not killed after the bound (-9): uvicorn shuts the application
    # down, then re-raises the SIGTERM it caught (-15), as a supervisor expects.
    log = service.log_path.read_text()
    assert service.proc.returncode in (0, -signal.SIGTERM), log[-3000:]
    assert "Application shutdown complete" in log
    for consumer in consumers:  # kafka-python's word that the coordinator took the leave
        # (the group may carry the tests' suffix: see tests/conftest.py)
        left = rf"LeaveGroup request for group {name}\.{consumer}\S* returned successfully"
        assert re.search(left, log), f"{name}.{consumer} did not leave its group"
