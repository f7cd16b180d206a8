"""The hash-chained audit log: chaining, verification of edits and deletions, concurrent
appends, the CLI, the endpoints and the PostgreSQL append-only trigger."""

from __future__ import annotations

import argparse
import hashlib
import sys
import threading
from collections.abc import Callable
from datetime import timedelta

import orjson
import pytest
from sqlalchemy import delete, select, text, update

from services.scoring.audit import log as audit
from services.scoring.audit.cli import audit_verify_command
from services.scoring.audit.schemas import VerifyReport
from services.scoring.models import audit_log
from shared.auth import Principal, Role
from shared.db import transaction
from tests.scoring.conftest import Scoring, entity
from tests.waiting import wait_until

OFFICER = Principal(subject="officer-1", role=Role.CREDIT_OFFICER, region="140000")


def append(scoring: Scoring, n: int, action: str = "read_class") -> None:
    for i in range(n):
        audit.record_committed(
            scoring.runtime.sessions, OFFICER, action, f"target-{i}", {"i": i, "x": 0.1}
        )


def verify(scoring: Scoring, anchor: tuple[int, str] | None = None) -> VerifyReport:
    with transaction(scoring.runtime.sessions) as s:
        return audit.verify(s, anchor=anchor)


def tamper(scoring: Scoring, fn: Callable, *, as_owner: bool = True) -> None:
    """Change the store behind the service's back, as someone with SQL access would; on
    PostgreSQL ``as_owner`` first switches off the append-only triggers, as the table's
    owner could (what verify must still catch)."""
    postgres = scoring.runtime.engine.dialect.name == "postgresql"
    with scoring.runtime.engine.begin() as conn:
        if postgres and as_owner:
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        conn.execute(fn())
        if postgres and as_owner:
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))


def rows(scoring: Scoring) -> list:
    with scoring.runtime.sessions() as s:
        return list(s.execute(select(audit_log).order_by(audit_log.c.seq)).all())


def test_rows_chain_from_zero_and_recompute_from_what_is_stored(scoring: Scoring) -> None:
    append(scoring, 3)
    chain = rows(scoring)
    assert [r.seq for r in chain] == [1, 2, 3]
    assert chain[0].prev_hash == "0" * 64
    assert [r.prev_hash for r in chain[1:]] == [r.hash for r in chain[:-1]]
    first = chain[0]
    payload = {
        "action": first.action,
        "actor": first.actor,
        "at": audit.at_text(first.at),
        "details": first.details,
        "role": first.role,
        "target": first.target,
    }
    expected = hashlib.sha256(
        ("0" * 64).encode() + orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    ).hexdigest()
    assert first.hash == expected
    assert orjson.loads(first.details) == {"i": 0, "x": 0.1, "jurisdiction": "140000"}
    assert first.details == '{"i":0,"jurisdiction":"140000","x":0.1}'  # canonical as stored
    report = verify(scoring)
    assert report.ok and report.rows == 3 and report.first_bad_seq is None
    assert (report.head_seq, report.head_hash) == (3, chain[-1].hash)


def test_empty_log_verifies(scoring: Scoring) -> None:
    report = verify(scoring)
    assert report.ok and report.rows == 0 and report.head_seq is None


def test_verify_is_independent_of_the_session_time_zone(scoring: Scoring) -> None:
    append(scoring, 2)
    with transaction(scoring.runtime.sessions) as s:
        if s.connection().dialect.name == "postgresql":
            s.execute(text("SET TIME ZONE 'Asia/Shanghai'"))
        assert audit.verify(s).ok


def test_record_joins_the_callers_transaction(scoring: Scoring) -> None:
    append(scoring, 1)
    with pytest.raises(RuntimeError), transaction(scoring.runtime.sessions) as s:
        audit.record(s, OFFICER, "change_model", "general", {"to_version": 2})
        raise RuntimeError("the change fails: its audit row goes with it")
    append(scoring, 1)
    assert [r.seq for r in rows(scoring)] == [1, 2]  # no gap left by the rollback
    assert verify(scoring).ok


def test_an_edited_row_fails_verification(scoring: Scoring) -> None:
    append(scoring, 5)
    tamper(
        scoring,
        lambda: update(audit_log).where(audit_log.c.seq == 3).values(actor="someone-else"),
    )
    report = verify(scoring)
    assert not report.ok
    assert report.first_bad_seq == 3 and "edited" in (report.reason or "")
    assert report.reason_zh


@pytest.mark.parametrize("column", ["details", "at"])
def test_an_edited_details_or_time_fails_verification(scoring: Scoring, column: str) -> None:
    append(scoring, 3)
    stored = rows(scoring)[1]
    edited = {"details": '{"i":99}', "at": stored.at - timedelta(days=1)}[column]
    tamper(
        scoring,
        lambda: update(audit_log).where(audit_log.c.seq == 2).values({column: edited}),
    )
    assert getattr(rows(scoring)[1], column) == edited  # the edit is in the store
    report = verify(scoring)
    assert not report.ok and report.first_bad_seq == 2


def test_an_edited_and_rehashed_row_breaks_the_next_link(scoring: Scoring) -> None:
    append(scoring, 4)
    row = rows(scoring)[1]
    forged = dict(row._mapping) | {"target": "forged"}
    forged["hash"] = audit.row_hash(forged)
    tamper(
        scoring,
        lambda: (
            update(audit_log)
            .where(audit_log.c.seq == 2)
            .values(target="forged", hash=forged["hash"])
        ),
    )
    report = verify(scoring)
    assert not report.ok and report.first_bad_seq == 3
    assert "prev_hash" in (report.reason or "")


def test_a_deleted_row_fails_verification(scoring: Scoring) -> None:
    append(scoring, 5)
    tamper(scoring, lambda: delete(audit_log).where(audit_log.c.seq == 3))
    report = verify(scoring)
    assert not report.ok and report.first_bad_seq == 4
    assert "missing" in (report.reason or "")


def test_deleted_and_renumbered_rows_fail_verification(scoring: Scoring) -> None:
    append(scoring, 4)
    tamper(scoring, lambda: delete(audit_log).where(audit_log.c.seq == 2))
    tamper(
        scoring,
        lambda: update(audit_log).where(audit_log.c.seq > 2).values(seq=audit_log.c.seq - 1),
    )
    report = verify(scoring)
    assert not report.ok and report.first_bad_seq == 2


def test_deleted_leading_rows_fail_verification(scoring: Scoring) -> None:
    append(scoring, 3)
    tamper(scoring, lambda: delete(audit_log).where(audit_log.c.seq == 1))
    report = verify(scoring)
    assert not report.ok and report.first_bad_seq == 2


def test_a_deleted_tail_shows_only_against_an_anchor(scoring: Scoring) -> None:
    append(scoring, 5)
    head = verify(scoring)
    anchor = (head.head_seq, head.head_hash)
    assert verify(scoring, anchor).ok  # type: ignore[arg-type]
    tamper(scoring, lambda: delete(audit_log).where(audit_log.c.seq >= 4))
    assert verify(scoring).ok  # documented limit: a cut tail leaves a valid chain
    report = verify(scoring, anchor)  # type: ignore[arg-type]
    assert not report.ok and report.first_bad_seq == 4
    assert "deleted" in (report.reason or "")


def test_an_anchor_with_another_hash_fails(scoring: Scoring) -> None:
    append(scoring, 2)
    report = verify(scoring, (1, "f" * 64))
    assert not report.ok and report.first_bad_seq == 1


def test_concurrent_appends_never_fork_the_chain(scoring: Scoring) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def worker(k: int) -> None:
        try:
            start.wait()
            for i in range(8):
                audit.record_committed(
                    scoring.runtime.sessions, OFFICER, "read_class", f"w{k}-{i}", {}
                )
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    chain = rows(scoring)
    assert [r.seq for r in chain] == list(range(1, 49))
    assert len({r.prev_hash for r in chain}) == 48  # nobody chained onto the same row
    assert verify(scoring).ok


def test_cli_exit_codes(
    scoring: Scoring, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SCORING_DATABASE_URL", scoring.settings.resolved_database_url)
    append(scoring, 3)
    assert audit_verify_command(argparse.Namespace(anchor=None)) == 0
    out = capsys.readouterr().out
    assert "OK: 3 rows" in out
    head = out.split("head ", 1)[1].split()[0]  # SEQ:HASH, ready for --anchor
    tamper(scoring, lambda: update(audit_log).where(audit_log.c.seq == 2).values(role="admin"))
    assert audit_verify_command(argparse.Namespace(anchor=None)) == 1
    out = capsys.readouterr().out
    assert "TAMPERED at seq 2" in out
    # Through the service's command line, with the anchor printed above.
    from services.scoring.__main__ import main

    monkeypatch.setattr(sys, "argv", ["python -m services.scoring", "audit-verify"])
    assert main() == 1
    monkeypatch.setattr(
        sys, "argv", ["python -m services.scoring", "audit-verify", "--anchor", head]
    )
    assert main() == 1


def test_verify_endpoint_and_province_level(scoring: Scoring) -> None:
    append(scoring, 3)
    r = scoring.client.get("/v1/audit/verify", headers=scoring.headers())
    assert r.status_code == 200 and r.json()["ok"] is True and r.json()["rows"] == 3
    head = r.json()
    anchored = scoring.client.get(
        "/v1/audit/verify",
        params={"anchor_seq": head["head_seq"], "anchor_hash": head["head_hash"]},
        headers=scoring.headers(Role.ADMIN, "140000"),
    )
    assert anchored.status_code == 200 and anchored.json()["ok"] is True
    # The log spans the province: a city or county token is refused, an admin's too.
    for role in (Role.CREDIT_OFFICER, Role.ADMIN):
        for region in ("140500", "140502"):
            denied = scoring.client.get(
                "/v1/audit/verify", headers=scoring.headers(role, region=region)
            )
            assert denied.status_code == 403
            assert "省级" in denied.json()["error"]["message"]
    half = scoring.client.get(
        "/v1/audit/verify", params={"anchor_seq": 3}, headers=scoring.headers()
    )
    assert half.status_code == 422 and half.json()["error"]["field"] == "anchor_hash"
    bad = scoring.client.get(
        "/v1/audit/verify",
        params={"anchor_seq": 3, "anchor_hash": "xyz"},
        headers=scoring.headers(),
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "anchor_hash"
    tamper(scoring, lambda: delete(audit_log).where(audit_log.c.seq == 2))
    report = scoring.client.get("/v1/audit/verify", headers=scoring.headers()).json()
    assert report["ok"] is False and report["first_bad_seq"] == 3


def test_listing_pages_by_seq(scoring: Scoring) -> None:
    append(scoring, 5)
    h = scoring.headers()
    page = scoring.client.get("/v1/audit", params={"limit": 2}, headers=h).json()
    assert [e["seq"] for e in page["items"]] == [1, 2] and page["next_after_seq"] == 2
    assert page["items"][0]["details"] == {"i": 0, "x": 0.1, "jurisdiction": "140000"}
    assert page["items"][0]["at"].endswith("Z")
    page = scoring.client.get("/v1/audit", params={"limit": 2, "after_seq": 4}, headers=h).json()
    assert [e["seq"] for e in page["items"]] == [5] and page["next_after_seq"] is None
    r = scoring.client.get("/v1/audit", params={"limit": 0}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["field"] == "limit"
    r = scoring.client.get("/v1/audit", headers=scoring.headers(region="140500"))
    assert r.status_code == 403


def test_postgres_trigger_makes_the_table_append_only(scoring: Scoring) -> None:
    """The migration installs it on PostgreSQL. SQLite has no trigger language for it:
    there an edit goes through and verify is the guard."""
    append(scoring, 2)
    if scoring.runtime.engine.dialect.name != "postgresql":
        tamper(scoring, lambda: update(audit_log).values(actor="x"), as_owner=False)
        assert not verify(scoring).ok
        return
    for statement in (
        update(audit_log).values(actor="x"),
        delete(audit_log).where(audit_log.c.seq == 1),
        text("TRUNCATE audit_log"),
    ):
        with pytest.raises(Exception, match="append-only"):
            tamper(scoring, lambda s=statement: s, as_owner=False)
    append(scoring, 1)  # appending still works
    assert verify(scoring).ok and verify(scoring).rows == 3


def trail(scoring: Scoring) -> list[tuple[str, str, str, dict]]:
    """(action, target, actor, details) of every audit row, oldest first."""
    return [(r.action, r.target, r.actor, orjson.loads(r.details)) for r in rows(scoring)]


def test_reads_of_a_class_and_its_history_are_audited(scoring: Scoring) -> None:
    e = entity(1)
    scoring.apply(e)
    h = scoring.headers()
    assert scoring.client.get(f"/v1/classes/{e.code}", headers=h).status_code == 200
    assert scoring.client.get(f"/v1/classes/{e.code}/history", headers=h).status_code == 200
    assert trail(scoring) == [
        ("read_class", e.code, "officer-1", {"jurisdiction": "140000"}),
        ("read_class_history", e.code, "officer-1", {"jurisdiction": "140000"}),
    ]
    assert verify(scoring).ok


def test_model_changes_and_activations_are_audited(scoring: Scoring) -> None:
    h = scoring.headers()
    spec = scoring.client.get("/v1/models/general", headers=h).json()["spec"]
    spec["cutoffs"]["D"] += 5
    body = {"base_version": 1, "note": "上调D类分数线", "spec": spec}
    assert scoring.client.put("/v1/models/general", json=body, headers=h).status_code == 200
    back = {"version": 1, "note": "回退"}
    assert (
        scoring.client.post("/v1/models/general/activate", json=back, headers=h).status_code == 200
    )
    province = {"jurisdiction": "140000"}
    assert trail(scoring) == [
        (
            "change_model",
            "general",
            "officer-1",
            {"from_version": 1, "to_version": 2, "note": "上调D类分数线"} | province,
        ),
        (
            "activate_model",
            "general",
            "officer-1",
            {"from_version": 2, "to_version": 1, "note": "回退"} | province,
        ),
    ]


def test_the_start_of_a_monthly_run_is_audited(scoring: Scoring) -> None:
    scoring.apply(entity(2))
    h = scoring.headers()
    body = {"month": "2026-10", "as_of": "2026-10-31"}
    assert scoring.client.post("/v1/runs", json=body, headers=h).status_code == 202
    wait_until(
        lambda: [
            r for r in scoring.client.get("/v1/runs", headers=h).json() if r["status"] == "finished"
        ],
        timeout=120,
        what="the run to finish",
    )
    assert trail(scoring)[0] == (
        "start_monthly_run",
        "2026-10",
        "officer-1",
        {"as_of": "2026-10-31", "replace_newer": False, "jurisdiction": "140000"},
    )
