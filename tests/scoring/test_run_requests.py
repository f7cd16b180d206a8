"""The monthly run refuses nonsense before it touches the current classes (issue 9, item 1):
a run's month is a real month not in the future, ``as_of`` a date of that month and never
a number, and an older month does not replace a newer run's classes unless asked."""

from __future__ import annotations

import argparse
from datetime import date

import pytest
from sqlalchemy import func, select

from services.scoring.classify.cli import run_full_run
from services.scoring.classify.schemas import RunRequest
from services.scoring.models import class_runs, entity_classes
from shared.auth import Role
from shared.workdays import china_today
from tests.scoring.conftest import Scoring, entity
from tests.waiting import wait_until


def _runs(scoring: Scoring) -> list[dict]:
    return scoring.client.get("/v1/runs", headers=scoring.headers()).json()


def _run_and_wait(scoring: Scoring, body: dict) -> dict:
    r = scoring.client.post("/v1/runs", json=body, headers=scoring.headers())
    assert r.status_code == 202, r.text
    return wait_until(
        lambda: next(
            (
                x
                for x in _runs(scoring)
                if x["month"] == body["month"] and x["status"] == "finished"
            ),
            None,
        ),
        timeout=60,
        what=f"the run of {body['month']} to finish",
    )


def _stored_runs(scoring: Scoring) -> int:
    with scoring.runtime.sessions() as s:
        return s.execute(select(func.count()).select_from(class_runs)).scalar_one()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"month": "0000-01", "as_of": 0}, "month"),
        ({"month": "1970-01"}, "month"),
        ({"month": "2026-10", "as_of": 0}, "as_of"),
        ({"month": "2026-10", "as_of": "0"}, "as_of"),
        ({"month": "2026-10", "as_of": 1761868800}, "as_of"),
        ({"month": "2026-10", "as_of": "2026-09-30"}, "as_of"),  # outside the month
        ({"month": "2026-10", "as_of": "2026-10-32"}, "as_of"),
        ({"month": "2026-13"}, "month"),
        ({"month": "2026-10", "extra": 1}, "extra"),
    ],
)
def test_a_nonsense_run_is_refused_naming_the_field(
    scoring: Scoring, body: dict, field: str
) -> None:
    scoring.apply(entity(1))
    r = scoring.client.post("/v1/runs", json=body, headers=scoring.headers())
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field
    assert _stored_runs(scoring) == 0


def test_a_future_month_or_day_is_refused(scoring: Scoring) -> None:
    today = china_today()
    next_month = date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    r = scoring.client.post(
        "/v1/runs", json={"month": next_month.strftime("%Y-%m")}, headers=scoring.headers()
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "month"
    if today.day < 28:
        tomorrow = today.replace(day=today.day + 1)
        r = scoring.client.post(
            "/v1/runs",
            json={"month": today.strftime("%Y-%m"), "as_of": tomorrow.isoformat()},
            headers=scoring.headers(),
        )
        assert r.status_code == 422 and r.json()["error"]["field"] == "as_of"


def test_the_default_as_of_lies_inside_the_month() -> None:
    assert RunRequest(month="2026-03").resolved_as_of() == date(2026, 3, 1)
    this_month = china_today().strftime("%Y-%m")
    assert RunRequest(month=this_month).resolved_as_of() == china_today()


def test_an_older_month_does_not_replace_a_newer_run_unless_asked(scoring: Scoring) -> None:
    scoring.apply(*(entity(10 + i) for i in range(4)))
    newer = _run_and_wait(scoring, {"month": "2026-10", "as_of": "2026-10-31"})
    assert newer["as_of"] == "2026-10-31"

    refused = scoring.client.post(
        "/v1/runs", json={"month": "2026-09", "as_of": "2026-09-30"}, headers=scoring.headers()
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["field"] == "month"
    assert "replace_newer" in refused.json()["error"]["message_en"]
    with scoring.runtime.sessions() as s:
        assert set(s.execute(select(entity_classes.c.as_of)).scalars()) == {date(2026, 10, 31)}

    older = _run_and_wait(
        scoring, {"month": "2026-09", "as_of": "2026-09-30", "replace_newer": True}
    )
    assert older["entities"] == 4
    with scoring.runtime.sessions() as s:
        assert set(s.execute(select(entity_classes.c.as_of)).scalars()) == {date(2026, 9, 30)}


def test_the_cli_applies_the_same_rules(
    scoring: Scoring, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SCORING_DATABASE_URL", scoring.settings.database_url)

    def full_run(month: str, as_of: str | None = None) -> int:
        return run_full_run(argparse.Namespace(month=month, as_of=as_of, replace_newer=False))

    assert full_run("0000-01") == 2
    assert "month" in capsys.readouterr().err
    assert full_run("2026-10", "0") == 2
    assert "as_of" in capsys.readouterr().err
    assert _stored_runs(scoring) == 0


def test_a_county_admin_cannot_start_the_province_run(scoring: Scoring) -> None:
    r = scoring.client.post(
        "/v1/runs", json={"month": "2026-10"}, headers=scoring.headers(Role.ADMIN, "140525")
    )
    assert r.status_code == 403
    assert _stored_runs(scoring) == 0


def test_a_run_that_breaks_is_logged_and_leaves_no_half_run(
    scoring: Scoring, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import services.scoring.classify.full_run as full_run

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("feature store unreadable")

    monkeypatch.setattr(full_run, "load_frame", broken)
    scoring.apply(entity(30))
    r = scoring.client.post("/v1/runs", json={"month": "2026-10"}, headers=scoring.headers())
    # Either answer is honest (the failure may come before or after the 202); what matters
    # is that the failure is told and no run is left half-done.
    assert r.status_code in (202, 500), r.text
    assert "RuntimeError" not in r.text and "feature store" not in r.text
    wait_until(
        lambda: "monthly run 2026-10 failed: RuntimeError" in caplog.text,
        timeout=30,
        what="the failure in the log",
    )
    wait_until(lambda: _stored_runs(scoring) == 0, timeout=30, what="the run row removed")
