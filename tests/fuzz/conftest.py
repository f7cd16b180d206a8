"""The fuzz run (issue 9, item 8): schemathesis over each service's own OpenAPI, in-process
through ASGI, with valid bearer tokens, on a SQLite store in tmp_path holding a few real
rows. No broker: relay and consumers are off, events are applied through the services'
own inbox handlers as in the other tests. Marked ``fuzz`` and deselected by default;
``./dev test -m fuzz`` runs it (CI does)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from schemathesis.python.asgi import shutdown_lifespans

from services.publication.app import build_app as publication_app
from services.publication.settings import PublicationSettings
from services.registry.app import build_app as registry_app
from services.registry.settings import RegistrySettings
from services.registry.vocab import (
    ENTITY_STATUSES,
    ENTITY_TYPES,
    INSPECTOR_STATUSES,
    LICENCE_KINDS,
    RECORD_KINDS,
    RELATION_KINDS,
    SPECIALTIES,
)
from services.sampling.app import build_app as sampling_app
from services.sampling.settings import SamplingSettings
from services.scoring.app import build_app as scoring_app
from services.scoring.app import reclassifier_of
from services.scoring.settings import ScoringSettings
from shared.auth import Role, mint_token
from shared.runtime import ServiceRuntime
from shared.settings import ServiceSettings
from shared.workdays import china_today
from tests.scoring.conftest import code_of
from tests.scoring.conftest import entity as scoring_entity
from tests.scoring.conftest import record as scoring_record
from tests.services_skeletons.helpers import entity as entity_event
from tests.services_skeletons.helpers import inspector as inspector_event


def _nodeid_shim() -> None:
    """schemathesis 4.32.5's lazy schemas rename the running item (``item._nodeid``) to
    report each operation; pytest 9.2 keeps the id in ``item._id`` (a NodeId) and has no
    ``_nodeid``. This restores the attribute on test functions, once a fuzz test runs."""
    if hasattr(pytest.Function, "_nodeid"):
        return
    from _pytest.nodeid import coerce_node_id

    def get(item: pytest.Function) -> str:
        return item.nodeid

    def set_(item: pytest.Function, value: str) -> None:
        item._id = coerce_node_id(value)

    pytest.Function._nodeid = property(get, set_)  # type: ignore[attr-defined]


# Where the seeded objects live: two counties of 晋城 and one district of 太原, so a county
# token sees some rows and is refused others.
REGIONS = ("140502", "140581", "140105")
COUNTY = "140502"


@dataclass
class Seeded:
    """Identifiers of real rows, handed to schemathesis as dictionaries for path parameters
    (half the generated values come from them, so GET-by-id paths reach real rows)."""

    values: dict[str, list[str | int]] = field(default_factory=dict)

    def add(self, parameter: str, *values: str | int) -> None:
        self.values.setdefault(parameter, []).extend(values)


@dataclass(frozen=True)
class Service:
    name: str
    settings_cls: type[ServiceSettings]
    build_app: Callable[[Any], FastAPI]
    seed: Callable[[FastAPI, Callable[..., dict[str, str]], Seeded], None]
    # the role of the county token (the province token is admin 140000)
    county_role: Role


def _runtime(app: FastAPI) -> ServiceRuntime:
    runtime: ServiceRuntime = app.state.runtime
    return runtime


# -- seeds -------------------------------------------------------------------------------


def seed_registry(app: FastAPI, headers: Callable[..., dict[str, str]], seeded: Seeded) -> None:
    client = TestClient(app)  # no `with`: the lifespan is schemathesis' (already started)
    h = headers()

    def ok(r: Any) -> dict[str, Any]:
        assert r.status_code in (200, 201, 202), r.text
        body: dict[str, Any] = r.json()
        return body

    ok(client.post("/v1/tags", json={"name": "加油站"}, headers=h))
    rule = ok(
        client.post(
            "/v1/tags/rules", json={"tag": "加油站", "industry_prefixes": ["5265"]}, headers=h
        )
    )
    seeded.add("rule_id", rule["id"])
    codes = []
    for i, region in enumerate(REGIONS * 2):
        body = {
            "code": code_of(i, region),
            "entity_type": "enterprise",
            "name": f"测试企业{i}有限公司",
            "region_code": region,
            "industry_code": "5265" if i % 2 else "1512",
            "registered_on": "2015-05-01",
            "registered_capital": "100.00",
            "address": f"山西省测试路{i}号",
            "legal_representative": f"法人{i}",
            "licences": ["food_production"] if i % 2 else [],
        }
        codes.append(ok(client.post("/v1/entities", json=body, headers=h))["code"])
    seeded.add("code", *codes)
    for i, code in enumerate(codes):
        rec = ok(
            client.post(
                "/v1/records",
                json={
                    "record_id": f"CF-2025-{i:03d}",
                    "code": code,
                    "kind": "penalty",
                    "occurred_on": "2025-03-03",
                    "source_department": "晋城市市场监督管理局",
                    "payload": {"amount": 5000},
                },
                headers=h,
            )
        )
        seeded.add("record_id", rec["record_id"])
    rel = ok(
        client.post(
            "/v1/relations",
            json={
                "code": codes[0],
                "kind": "shareholder",
                "counterpart_name": "测试企业1有限公司",
                "counterpart_code": codes[3],
                "since": "2020-05-01",
            },
            headers=h,
        )
    )
    seeded.add("relation_id", rel["id"])
    for i, region in enumerate(REGIONS):
        no = f"1405000{i}"
        ok(
            client.post(
                "/v1/inspectors",
                json={
                    "certificate_no": no,
                    "name": "张检查",
                    "department": "食品生产科",
                    "region_code": region,
                    "certificate_expires_on": "2099-12-31",
                    "specialties": ["food"],
                    "avoid_entities": [codes[0]],
                    "avoid_persons": ["李四"],
                },
                headers=h,
            )
        )
        seeded.add("certificate_no", no)
    csv = (
        "code,entity_type,name,region_code\n"
        + code_of(90, COUNTY)
        + ",enterprise,导入企业,140502\n"
    )
    job = ok(
        client.post(
            "/v1/import-jobs",
            data={"kind": "entities"},
            files={"file": ("entities.csv", csv.encode(), "text/csv")},
            headers=h,
        )
    )
    seeded.add("job_id", job["id"])
    seeded.add("kind", "entities", "records", "inspectors")


def seed_scoring(app: FastAPI, headers: Callable[..., dict[str, str]], seeded: Seeded) -> None:
    runtime = _runtime(app)
    today = china_today()
    entities = [scoring_entity(i, region) for i, region in enumerate(REGIONS * 2)]
    runtime.offline_consumer("entities").apply_envelopes([e.envelope("fuzz") for e in entities])
    records = [
        scoring_record(
            e.code, "annual_report", today - timedelta(days=30), year=today.year - 1, all_zero=True
        )
        for e in entities[:3]
    ] + [
        scoring_record(e.code, "penalty", today - timedelta(days=60), amount=5000) for e in entities
    ]
    runtime.offline_consumer("records").apply_envelopes([r.envelope("fuzz") for r in records])
    reclassifier_of(runtime).drain()  # classes, as the consumers' process would score them
    seeded.add("code", *(e.code for e in entities))
    client = TestClient(app)
    h = headers()
    warnings = client.get("/v1/warnings", headers=h)
    assert warnings.status_code == 200, warnings.text
    seeded.add("warning_id", *(w["warning_id"] for w in warnings.json()["items"]))
    models = client.get("/v1/models", headers=h)
    assert models.status_code == 200, models.text
    seeded.add("model_id", *(m["model_id"] for m in models.json()))
    rules = client.get("/v1/warnings/rules", headers=h)
    assert rules.status_code == 200, rules.text
    seeded.add("rule_id", *(r["rule_id"] for r in rules.json()))


def seed_sampling(app: FastAPI, headers: Callable[..., dict[str, str]], seeded: Seeded) -> None:
    runtime = _runtime(app)
    entities = [entity_event(i, 1, region=region) for i, region in enumerate(REGIONS)]
    inspectors = [inspector_event(f"1405000{i}", 1, region=r) for i, r in enumerate(REGIONS)]
    runtime.offline_consumer("entities").apply_envelopes([env for env, _ in entities])
    runtime.offline_consumer("inspectors").apply_envelopes([env for env, _ in inspectors])
    seeded.add("code", *(snap.code for _, snap in entities))
    seeded.add("certificate_no", *(snap.certificate_no for _, snap in inspectors))


def seed_publication(app: FastAPI, headers: Callable[..., dict[str, str]], seeded: Seeded) -> None:
    runtime = _runtime(app)
    entities = [entity_event(i, 1, region=region) for i, region in enumerate(REGIONS)]
    runtime.offline_consumer("entities").apply_envelopes([env for env, _ in entities])


SERVICES = [
    Service("registry", RegistrySettings, registry_app, seed_registry, Role.REGISTRY_CLERK),
    Service("scoring", ScoringSettings, scoring_app, seed_scoring, Role.CREDIT_OFFICER),
    Service("sampling", SamplingSettings, sampling_app, seed_sampling, Role.BUSINESS_OFFICER),
    Service(
        "publication", PublicationSettings, publication_app, seed_publication, Role.BUSINESS_OFFICER
    ),
]
# (service, role, region): the province admin (who may use every endpoint) and a county
# officer of the service's main role (refused some endpoints, and rows outside the county).
TARGETS = [
    pytest.param((s, role, region), id=f"{s.name}-{role}-{region}")
    for s in SERVICES
    for role, region in ((Role.ADMIN, "140000"), (s.county_role, COUNTY))
]

# Seed of schemathesis' own choices; hypothesis runs derandomized on top (see test_fuzz).
SEED = 20261201


# Integers at and past the 64-bit edges (a store column is at most a signed BIGINT): drawn
# for every integer parameter now and then, which unbounded integers alone almost never are.
EDGE_INTEGERS = [0, -1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30]


# Request-body fields whose valid values the OpenAPI does not list (vocabularies checked by
# validators, credit codes with a check digit): drawn from these half the time, so that
# writes get past validation and reach the store. Codes: the seeded ones (and new ones).
BODY_VALUES: dict[str, list[str | int]] = {
    "entity_type": list(ENTITY_TYPES),
    "status": [*ENTITY_STATUSES, *INSPECTOR_STATUSES],
    "licences[*]": list(LICENCE_KINDS),
    "licence_kinds[*]": list(LICENCE_KINDS),
    "specialties[*]": list(SPECIALTIES),
    "region_code": list(REGIONS),
    "industry_prefixes[*]": ["5265", "1512"],
    "tag": ["加油站"],
}
NEW_CODES = [code_of(100 + i, region) for i, region in enumerate(REGIONS)]


def schema_config(seeded: Seeded) -> schemathesis.Config:
    dictionaries: dict[str, Any] = {
        # a parameter's own dictionary replaces the type-wide one: integer ids get the edges too
        name: {
            "values": values + EDGE_INTEGERS if all(isinstance(v, int) for v in values) else values
        }
        for name, values in seeded.values.items()
        if values
    }
    parameters = {f"path.{name}": {"dictionary": name, "probability": 0.5} for name in dictionaries}
    codes = [*seeded.values.get("code", []), *NEW_CODES]
    body = {**BODY_VALUES, "code": codes, "counterpart_code": codes, "avoid_entities[*]": codes}
    for field_path, values in body.items():
        name = "body_" + field_path.replace("[*]", "")
        dictionaries[name] = {"values": values}
        parameters[f"body.{field_path}"] = {"dictionary": name, "probability": 0.5}
    dictionaries["edge_integers"] = {"values": EDGE_INTEGERS}
    # `kind` means a record's kind in one body and a relation's in the other
    dictionaries["record_kinds"] = {"values": list(RECORD_KINDS)}
    dictionaries["relation_kinds"] = {"values": list(RELATION_KINDS)}
    operations = [
        {
            "include-path": path,
            "parameters": {"body.kind": {"dictionary": kinds, "probability": 0.5}},
        }
        for path, kinds in (("/v1/records", "record_kinds"), ("/v1/relations", "relation_kinds"))
    ]
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "operations": operations,
            "dictionaries": dictionaries,
            "parameters": parameters,
            "generation": {
                "dictionaries": {"integer": {"dictionary": "edge_integers", "probability": 0.2}}
            },
        }
    )


# seconds per target (build, seed, fuzz), printed at the end of the run
ELAPSED: dict[str, float] = {}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if ELAPSED:
        terminalreporter.section("fuzz run")
        for target, seconds in ELAPSED.items():
            terminalreporter.write_line(f"{target:<40} {seconds:6.1f} s")
        terminalreporter.write_line(f"{'total':<40} {sum(ELAPSED.values()):6.1f} s")


@dataclass
class Target:
    service: Service
    app: FastAPI
    headers: dict[str, str]
    schema: Any


@pytest.fixture(params=TARGETS)
def fuzz_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    service, role, region = request.param
    settings = service.settings_cls(
        environment="test",
        database_url=f"sqlite:///{tmp_path / 'store.sqlite3'}",
        data_dir=tmp_path / "data",
        run_relay=False,
        run_consumers=False,
    )
    started = time.perf_counter()
    app = service.build_app(settings)

    def headers(role: Role = Role.ADMIN, region: str = "140000") -> dict[str, str]:
        token = mint_token(settings.auth_secret, subject="fuzz", role=role, region=region)
        return {"Authorization": f"Bearer {token}"}

    # Loading the schema starts the app's lifespan (migrations, shipped models), which
    # schemathesis keeps for its requests until shutdown_lifespans; the seeds need the
    # store, and the second load carries the seeded identifiers.
    schemathesis.openapi.from_asgi("/openapi.json", app)
    seeded = Seeded()
    service.seed(app, headers, seeded)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=schema_config(seeded))
    try:
        yield Target(service, app, headers(role, region), schema)
    finally:
        shutdown_lifespans()
        ELAPSED[request.node.callspec.id] = time.perf_counter() - started


@pytest.fixture
def fuzz_schema(fuzz_target: Target) -> Any:
    _nodeid_shim()
    return fuzz_target.schema
