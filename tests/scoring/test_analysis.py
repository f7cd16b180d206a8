"""Regional and industry analysis: distributions, month-on-month change, hotspots, all
within jurisdiction and audited. Classes are inserted directly (the engine that fills
them is tested elsewhere)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import orjson
from alembic import command
from sqlalchemy import Engine, event, func, insert, inspect, select

from services.scoring.analysis.groups import section_of
from services.scoring.app import MIGRATIONS
from services.scoring.models import audit_log, class_history, class_runs, entity_classes
from shared.auth import Role
from shared.db import make_engine
from shared.migrations import alembic_config, upgrade
from tests.scoring.conftest import Scoring, code_of

AS_OF = date(2026, 11, 1)
# (entity number, class, region, industry)
Row = tuple[int, str, str, str | None]


def class_rows(rows: Sequence[Row], *, as_of: date = AS_OF) -> list[dict]:
    return [
        {
            "code": code_of(i, region),
            "risk_class": cls,
            "score": {"A": 90.0, "B": 75.0, "C": 60.0, "D": 40.0}[cls],
            "model_id": "general",
            "model_version": 1,
            "points": {},
            "overridden_by": None,
            "as_of": as_of,
            "cause": "monthly_run",
            "region_code": region,
            "industry_code": industry,
            "updated_at": datetime.now(UTC),
        }
        for i, cls, region, industry in rows
    ]


def put_classes(scoring: Scoring, rows: Sequence[Row]) -> None:
    with scoring.runtime.sessions() as s:
        s.execute(insert(entity_classes), class_rows(rows))
        s.commit()


def put_run(
    scoring: Scoring, run_id: int, month: str, rows: Sequence[Row], *, finished: bool = True
) -> None:
    as_of = date.fromisoformat(f"{month}-01")
    now = datetime.now(UTC)
    with scoring.runtime.sessions() as s:
        s.execute(
            insert(class_runs).values(
                id=run_id,
                month=month,
                as_of=as_of,
                started_at=now,
                finished_at=now if finished else None,
                entities=len(rows),
                class_counts={},
                model_versions={},
                changed=0,
            )
        )
        if rows:
            history = [
                {k: r[k] for k in ("code", "risk_class", "score", "model_id", "model_version")}
                | {"run_id": run_id, "as_of": as_of, "cause": "monthly_run"}
                | {"region_code": r["region_code"], "industry_code": r["industry_code"]}
                for r in class_rows(rows, as_of=as_of)
            ]
            s.execute(insert(class_history), history)
        s.commit()


def audit_rows(scoring: Scoring, action: str) -> list:
    with scoring.runtime.sessions() as s:
        return list(
            s.execute(
                select(audit_log).where(audit_log.c.action == action).order_by(audit_log.c.seq)
            ).all()
        )


def population(scoring: Scoring) -> None:
    """城区 140502: 40 entities (10 C/D); 泽州县 140525: 30 (15 C/D); 太原 140105: 5 (all D)."""
    rows: list[Row] = []
    for i in range(40):
        cls = "ABCD"[i % 4] if i < 20 else "A"
        rows.append((i, cls, "140502", "5261" if i % 2 else "1391"))
    for i in range(30):
        rows.append((100 + i, "D" if i < 15 else "B", "140525", "5261" if i < 20 else None))
    for i in range(5):
        rows.append((200 + i, "D", "140105", "5261"))
    put_classes(scoring, rows)


def groups_of(body: dict) -> dict[str, dict]:
    return {g["group"]: g for g in body["groups"]}


def test_distribution_by_region_defaults_to_one_level_below_jurisdiction(
    scoring: Scoring,
) -> None:
    population(scoring)
    r = scoring.client.get("/v1/analysis/distribution", headers=scoring.headers())
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["by"], body["level"], body["region_prefix"]) == ("region", 4, "14")
    groups = groups_of(body)
    assert set(groups) == {"1401", "1405"}
    jc = groups["1405"]
    assert jc["total"] == 70
    assert jc["counts"] == {"A": 5 + 20, "B": 5 + 15, "C": 5, "D": 5 + 15}
    assert jc["share_cd"] == round(25 / 70, 4)
    assert abs(sum(jc["shares"].values()) - 1) < 1e-3
    assert body["total"] == 75
    assert body["counts"]["D"] == 25
    assert body["current_run"] is None and jc["trend"] is None


def test_distribution_of_a_city_by_county_and_of_one_county(scoring: Scoring) -> None:
    population(scoring)
    h = scoring.headers(region="140500")
    body = scoring.client.get("/v1/analysis/distribution", headers=h).json()
    assert body["region_prefix"] == "1405" and body["level"] == 6
    assert {g: v["total"] for g, v in groups_of(body).items()} == {"140502": 40, "140525": 30}
    one = scoring.client.get(
        "/v1/analysis/distribution", params={"region": "140525"}, headers=h
    ).json()
    assert one["region_prefix"] == "140525"
    assert [g["group"] for g in one["groups"]] == ["140525"]
    assert one["groups"][0]["share_cd"] == 0.5


def test_distribution_by_industry_levels_and_unknown(scoring: Scoring) -> None:
    population(scoring)
    h = scoring.headers()
    by4 = scoring.client.get(
        "/v1/analysis/distribution", params={"by": "industry", "level": 4}, headers=h
    ).json()
    totals = {g: v["total"] for g, v in groups_of(by4).items()}
    assert totals == {"5261": 20 + 20 + 5, "1391": 20, "unknown": 10}
    assert by4["groups"][-1]["group"] == "unknown"  # sorted last
    by2 = scoring.client.get(
        "/v1/analysis/distribution", params={"by": "industry"}, headers=h
    ).json()
    assert by2["level"] == 2
    assert {g["group"] for g in by2["groups"]} == {"52", "13", "unknown"}
    sections = scoring.client.get(
        "/v1/analysis/distribution", params={"by": "industry", "level": 1}, headers=h
    ).json()
    # 52 零售业 is in section F (批发和零售业), 13 农副食品加工业 in C (制造业).
    assert {g: v["total"] for g, v in groups_of(sections).items()} == {
        "F": 45,
        "C": 20,
        "unknown": 10,
    }


def test_section_letters_follow_gbt_4754() -> None:
    cases = {"01": "A", "05": "A", "06": "B", "13": "C", "43": "C", "44": "D", "52": "F"}
    cases |= {"70": "K", "83": "P", "90": "R", "96": "S", "97": "T"}
    assert {d: section_of(d) for d in cases} == cases


def test_month_on_month_change_from_the_two_latest_finished_runs(scoring: Scoring) -> None:
    population(scoring)
    # October: 140502 entities 0..9 all A; November: 0..4 D (up), 5..9 A; 10..11 were C in
    # October and are A now (down). An unfinished December run is ignored.
    october: list[Row] = [(i, "A", "140502", "5261") for i in range(10)]
    october += [(10, "C", "140502", "5261"), (11, "C", "140502", "5261")]
    november: list[Row] = [(i, "D" if i < 5 else "A", "140502", "5261") for i in range(10)]
    november += [(10, "A", "140502", "5261"), (11, "A", "140502", "5261")]
    november += [(100, "D", "140525", "5261")]  # new in November: no move counted
    put_run(scoring, 1, "2026-10", october)
    put_run(scoring, 2, "2026-11", november)
    put_run(scoring, 3, "2026-12", [(0, "A", "140502", "5261")], finished=False)
    body = scoring.client.get(
        "/v1/analysis/distribution", params={"region": "140500"}, headers=scoring.headers()
    ).json()
    assert body["current_run"]["month"] == "2026-11"
    assert body["previous_run"]["month"] == "2026-10"
    trend = groups_of(body)["140502"]["trend"]
    assert trend["share_cd_current"] == round(5 / 12, 4)
    assert trend["share_cd_previous"] == round(2 / 12, 4)
    assert trend["share_cd_delta"] == round(5 / 12 - 2 / 12, 4)
    assert (trend["risk_up"], trend["risk_down"]) == (5, 2)
    new_county = groups_of(body)["140525"]["trend"]
    assert new_county["share_cd_previous"] is None and new_county["share_cd_delta"] is None
    assert new_county["risk_up"] == 0


@contextmanager
def statements_run(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (with their parameters) the engine runs meanwhile."""
    seen: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def index_lookups(engine: Engine, statement: str, parameters: Any) -> list[str]:
    """The conditions by which the statement's plan looks rows up in an index: SQLite's
    SEARCH constraints ("run_id=? AND code=?"), PostgreSQL's Index Conds. A table of a
    few dozen rows is best read whole, so PostgreSQL (with fresh statistics) is told to
    avoid sequential scans, hash and merge joins: what remains is the nested loop it
    picked at 5,000 entities, and the plan shows which lookup each loop gets."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            details = [r.detail for r in rows if r.detail.startswith("SEARCH")]
            return [d[d.rindex("(") :] for d in details if d.endswith(")")]
        conn.exec_driver_sql("ANALYZE class_history")
        for method in ("seqscan", "hashjoin", "mergejoin"):
            conn.exec_driver_sql(f"SET LOCAL enable_{method} = off")
        plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters).scalar_one()
        return [cond for node in plan_nodes(plan[0]["Plan"]) if (cond := node.get("Index Cond"))]


def plan_nodes(node: dict) -> Iterator[dict]:
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)


def test_month_on_month_moves_find_each_entity_by_run_and_code(scoring: Scoring) -> None:
    """Moves between two runs join the runs' class rows on the entity's code. With an
    index on run_id alone, finding an entity's row in the other run read all of that
    run's rows: quadratic, 2 s a request at 5,000 entities on SQLite. The lookup must use
    run and code together (ix_class_history_run_id_code)."""
    put_run(scoring, 1, "2026-10", [(i, "A", "140502", "5261") for i in range(40)])
    put_run(scoring, 2, "2026-11", [(i, "ABCD"[i % 4], "140502", "5261") for i in range(40)])
    engine = scoring.runtime.request_engine  # the one requests use
    with statements_run(engine) as seen:
        r = scoring.client.get("/v1/analysis/distribution", headers=scoring.headers())
    assert r.status_code == 200, r.text
    joins = [(st, p) for st, p in seen if "JOIN class_history" in st]
    assert len(joins) == 1, [st for st, _ in seen]
    lookups = index_lookups(engine, *joins[0])
    assert any("run_id" in cond and "code" in cond for cond in lookups), lookups


def history_indexes(engine: Engine) -> dict[str, list[str]]:
    return {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("class_history")}


def test_migration_0004_indexes_a_stored_history_by_run_and_code(db_url: str) -> None:
    """A store migrated from 0003 gets the index and keeps its history; the downgrade
    brings back the index on run_id alone. (Fresh stores run the same migrations.)"""
    engine = make_engine(db_url)
    try:
        upgrade(MIGRATIONS, engine, "0003")
        row = {"code": code_of(1), "risk_class": "A", "score": 90.0, "model_id": "general"}
        row |= {"model_version": 1, "as_of": AS_OF, "cause": "monthly_run"}
        row |= {"region_code": "140502", "industry_code": "5261"}
        with engine.begin() as conn:
            conn.execute(insert(class_history), [row | {"run_id": 1}, row | {"run_id": 2}])
        upgrade(MIGRATIONS, engine)
        assert history_indexes(engine) == {
            "ix_class_history_code": ["code"],
            "ix_class_history_run_id_code": ["run_id", "code"],
        }
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(class_history)).scalar() == 2
        command.downgrade(alembic_config(MIGRATIONS, engine), "0003")
        assert history_indexes(engine) == {
            "ix_class_history_code": ["code"],
            "ix_class_history_run_id": ["run_id"],
        }
    finally:
        engine.dispose()


def test_hotspots_rank_by_share_of_c_and_d_above_a_minimum_size(scoring: Scoring) -> None:
    population(scoring)
    h = scoring.headers()
    r = scoring.client.get("/v1/analysis/hotspots", params={"level": 6, "min_size": 30}, headers=h)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    # 太原 140105 is 100% D but has only 5 entities: left out.
    assert [(i["group"], i["share_cd"]) for i in items] == [("140525", 0.5), ("140502", 0.25)]
    small = scoring.client.get(
        "/v1/analysis/hotspots", params={"level": 6, "min_size": 1, "top": 1}, headers=h
    ).json()["items"]
    assert [i["group"] for i in small] == ["140105"]
    industries = scoring.client.get(
        "/v1/analysis/hotspots",
        params={"by": "industry", "level": 4, "min_size": 1},
        headers=h,
    ).json()["items"]
    assert "unknown" not in {i["group"] for i in industries}


def test_every_analysis_read_is_audited(scoring: Scoring) -> None:
    population(scoring)
    h = scoring.headers(region="140500")
    scoring.client.get("/v1/analysis/distribution", params={"by": "industry"}, headers=h)
    scoring.client.get("/v1/analysis/hotspots", params={"top": 3}, headers=h)
    rows = audit_rows(scoring, "read_analysis")
    assert [r.target for r in rows] == ["distribution:industry:1405", "hotspots:region:1405"]
    details = orjson.loads(rows[1].details)
    assert details["top"] == 3 and details["min_size"] == 30
    assert details["jurisdiction"] == "140500"
    assert rows[0].actor == "officer-1" and rows[0].role == "credit_officer"


def test_invalid_parameters_name_the_field(scoring: Scoring) -> None:
    h = scoring.headers(region="140500")
    cases = [
        ({"by": "town"}, "by"),
        ({"level": 5}, "level"),
        ({"level": 2}, "level"),  # coarser than the 4-digit area asked for
        ({"by": "industry", "level": 6}, "level"),
        ({"region": "14x5"}, "region"),
        ({"region": "1405001"}, "region"),
        ({"level": "four"}, "level"),
    ]
    for params, field in cases:
        r = scoring.client.get("/v1/analysis/distribution", params=params, headers=h)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["error"]["field"] == field, params
    for params, field in [({"top": 0}, "top"), ({"min_size": 0}, "min_size")]:
        r = scoring.client.get("/v1/analysis/hotspots", params=params, headers=h)
        assert r.status_code == 422 and r.json()["error"]["field"] == field
    assert audit_rows(scoring, "read_analysis") == []  # refused reads are not reads


def test_admin_may_analyse_within_jurisdiction(scoring: Scoring) -> None:
    population(scoring)
    r = scoring.client.get(
        "/v1/analysis/distribution", headers=scoring.headers(Role.ADMIN, "140100")
    )
    assert r.status_code == 200
    assert [g["group"] for g in r.json()["groups"]] == ["140105"]
