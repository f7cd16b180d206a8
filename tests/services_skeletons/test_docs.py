"""/docs and /redoc work on an intranet without internet: every service (all four are
built by shared.app.create_app) serves the pages' scripts and styles itself."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.registry.app import build_app as registry_app
from services.registry.settings import RegistrySettings
from tests.services_skeletons.helpers import SKELETONS, sqlite_url

APPS = [(s.name, s.build_app, s.settings_cls) for s in SKELETONS] + [
    ("registry", registry_app, RegistrySettings)
]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v for k, v in attrs if k in ("src", "href", "spec-url") and v]


def referenced(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    # Swagger UI's configuration names the spec in the script: url: '/openapi.json'
    return parser.urls + re.findall(r"\burl: '([^']+)'", html)


@pytest.fixture(params=APPS, ids=lambda a: a[0])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    _, build_app, settings_cls = request.param
    settings = settings_cls(
        environment="test",
        database_url=sqlite_url(tmp_path),
        data_dir=tmp_path,
        run_consumers=False,
        run_relay=False,
    )
    with TestClient(build_app(settings)) as client:
        yield client


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_load_everything_from_the_service(client: TestClient, page: str) -> None:
    r = client.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert not re.findall(r"https?://[^\s'\"<>]*", r.text), "no absolute URL: no internet"
    urls = referenced(r.text)
    assert any(u.endswith(".js") for u in urls), urls
    for url in urls:
        assert url.startswith("/"), url
        asset = client.get(url)
        assert asset.status_code == 200, (url, asset.status_code)
        assert asset.content, url
    if page == "/docs":
        assert any(u.endswith(".css") for u in urls), urls
        assert '"validatorUrl": null' in r.text  # no online validator badge
        assert client.get("/docs/oauth2-redirect").status_code == 200
