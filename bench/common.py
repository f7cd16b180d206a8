"""What the benchmarks share: generated data, the store under test, peak memory, and
reference figures measured beside the product's in the same run."""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import MetaData, Table, create_engine, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from deploy.scratch_db import scratch_database
from shared.db import BULK_LOAD_CHECKPOINT_PAGES

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def bench_arguments(doc: str | None, *, default_n: int) -> argparse.ArgumentParser:
    """The arguments every benchmark takes (architecture.md: ``--n``, the issue's scale by
    default; ``--db``; and the generator's ``--seed``); a benchmark adds its own."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=default_n)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seed", type=int, default=7)
    return parser


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ensure_data(n: int, seed: int, fmt: Literal["jsonl", "csv"] = "jsonl") -> Path:
    """The generated province of (n, seed) in ``fmt``, generated once under bench/out/,
    in a child process so that the generator's memory is not counted."""
    out = OUT / (f"gen-{n}-s{seed}" if fmt == "jsonl" else f"gen-{n}-s{seed}-{fmt}")
    if not (out / f"entities.{fmt}").exists():
        print(f"# generating {n} entities into {out} …", file=sys.stderr, flush=True)
        subprocess.run(
            [sys.executable, "-m", "services.registry", "generate", "--n", str(n),
             "--seed", str(seed), "--format", fmt, "--out", str(out)],
            cwd=ROOT,
            check=True,
        )  # fmt: skip
    return out


def fresh_store(stack: ExitStack, db: str, name: str) -> str:
    """The URL of an empty store: an SQLite file under bench/out/ (replaced), or a
    scratch PostgreSQL database dropped when ``stack`` closes."""
    if db == "sqlite":
        db_file = OUT / f"{name}.sqlite3"
        for f in db_file.parent.glob(db_file.name + "*"):
            f.unlink()
        return f"sqlite:///{db_file}"
    return stack.enter_context(scratch_database("cs_bench"))


def ref_sqlite_rows_per_s(url: str, table: Table, *, batch_size: int) -> float:
    """Rows per second of a bare ``sqlite3`` ``executemany`` of ``table``'s rows as the
    store under test holds them (same columns, same count) into a fresh SQLite file with
    the same table and indexes and the store's settings (WAL, synchronous=NORMAL, 128 MB
    page cache, bulk-load checkpoints), ``batch_size`` rows per transaction: the machine's own speed at the same work
    without the product, so that figures of different machines compare as ratios. In a
    child process: the rows it holds in memory are not the benchmark's peak RSS."""
    ddl = [str(CreateTable(table).compile(dialect=sqlite.dialect()))]
    ddl += [str(CreateIndex(ix).compile(dialect=sqlite.dialect())) for ix in table.indexes]
    columns = [c.name for c in table.columns]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as child:
        return child.submit(_bare_executemany, url, table.name, columns, ddl, batch_size).result()


def _bare_executemany(
    url: str, name: str, columns: list[str], ddl: list[str], batch_size: int
) -> float:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        table = Table(name, MetaData(), autoload_with=conn)
        query = select(*(table.c[c] for c in columns))
        rows = [tuple(map(_sqlite_value, r)) for r in conn.execute(query)]
    engine.dispose()
    target = OUT / "ref-sqlite.sqlite3"
    for f in target.parent.glob(target.name + "*"):
        f.unlink()
    db = sqlite3.connect(target, isolation_level=None)
    # The store's settings (shared.db's connection pragmas and bulk load checkpoints).
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-131072"):
        db.execute(f"PRAGMA {pragma}")
    db.execute(f"PRAGMA wal_autocheckpoint={BULK_LOAD_CHECKPOINT_PAGES}")
    for statement in ddl:
        db.execute(statement)
    insert = f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    t0 = time.perf_counter()
    for i in range(0, len(rows), batch_size):
        db.execute("BEGIN")
        db.executemany(insert, rows[i : i + batch_size])
        db.execute("COMMIT")
    seconds = time.perf_counter() - t0
    db.close()
    for f in target.parent.glob(target.name + "*"):
        f.unlink()
    return len(rows) / seconds


def _sqlite_value(value: Any) -> Any:
    """A PostgreSQL value as sqlite3 binds it (what SQLite's own store holds is already)."""
    if isinstance(value, datetime | date):
        return value.isoformat(" ") if isinstance(value, datetime) else value.isoformat()
    return str(value) if isinstance(value, Decimal) else value
