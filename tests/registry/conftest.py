from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from services.registry.app import build_app
from services.registry.models import outbox
from services.registry.settings import RegistrySettings
from shared.auth import Role, mint_token
from shared.credit_code import make_uscc
from shared.runtime import ServiceRuntime


@dataclass
class Registry:
    client: TestClient
    settings: RegistrySettings

    @property
    def runtime(self) -> ServiceRuntime:
        return self.client.app.state.runtime  # type: ignore[attr-defined]

    def headers(
        self, role: Role | str = Role.REGISTRY_CLERK, region: str = "140000"
    ) -> dict[str, str]:
        token = mint_token(self.settings.auth_secret, subject="test", role=role, region=region)
        return {"Authorization": f"Bearer {token}"}

    def outbox_count(self, event_type: str | None = None) -> int:
        query = select(func.count()).select_from(outbox)
        if event_type:
            query = query.where(outbox.c.event_type == event_type)
        with self.runtime.sessions() as s:
            return s.execute(query).scalar_one()


@pytest.fixture
def registry(service_db: Callable[[str], str]) -> Iterator[Registry]:
    settings = RegistrySettings(
        environment="test",
        database_url=service_db("registry"),
        run_relay=False,
        run_consumers=False,
    )
    with TestClient(build_app(settings)) as client:
        yield Registry(client, settings)


def entity_code(i: int, region: str = "140502") -> str:
    return make_uscc("9", "1", region, f"MA{i:06d}")


@pytest.fixture
def new_entity(registry: Registry) -> Callable[..., dict]:
    def create(i: int, region: str = "140502", **fields: object) -> dict:
        body = {
            "code": entity_code(i, region),
            "entity_type": "enterprise",
            "name": f"测试企业{i}有限公司",
            "region_code": region,
            **fields,
        }
        r = registry.client.post("/v1/entities", json=body, headers=registry.headers())
        assert r.status_code == 201, r.text
        return r.json()

    return create
