"""What the benchmarks share: generated data, the store under test, peak memory."""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

from deploy.scratch_db import scratch_database

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


def ensure_data(n: int, seed: int) -> Path:
    """The generated province of (n, seed), generated once under bench/out/, in a child
    process so that the generator's memory is not counted."""
    out = OUT / f"gen-{n}-s{seed}"
    if not (out / "entities.jsonl").exists():
        print(f"# generating {n} entities into {out} …", file=sys.stderr, flush=True)
        subprocess.run(
            [sys.executable, "-m", "services.registry", "generate", "--n", str(n),
             "--seed", str(seed), "--out", str(out)],
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
