"""``python -m services.scoring full-run`` and ``bootstrap``: the monthly run and the
initial load of a province from the registry's export files, from the command line."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

from services.scoring.app import build_runtime
from services.scoring.classify.full_run import run_monthly
from services.scoring.features.bootstrap import bootstrap
from services.scoring.settings import ScoringSettings
from services.scoring.warnings.scan import scan_all
from shared.db import transaction
from shared.workdays import china_today


def configure_full_run(p: argparse.ArgumentParser) -> None:
    p.add_argument("--month", help="YYYY-MM (default: the month of --as-of)")
    p.add_argument("--as-of", type=date.fromisoformat, help="YYYY-MM-DD (default: today)")


def run_full_run(args: argparse.Namespace) -> int:
    as_of = args.as_of or china_today()
    month = args.month or as_of.strftime("%Y-%m")
    runtime = build_runtime(ScoringSettings())
    runtime.migrate()
    started = time.perf_counter()

    def progress(step: str) -> None:
        print(f"  {time.perf_counter() - started:6.1f} s  {step}", file=sys.stderr, flush=True)

    report = run_monthly(
        runtime.sessions, runtime.outbox, month=month, as_of=as_of, progress=progress
    )
    # Class counts are aggregate figures for the officer running it, not per-entity data.
    print(f"month={report.month} as_of={report.as_of} entities={report.entities}")
    print("classes=" + " ".join(f"{k}:{v}" for k, v in report.class_counts.items()))
    print(f"changed={report.changed} psi_classes={report.psi_classes}")
    runtime.stop()
    return 0


def configure_bootstrap(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", type=Path, help="folder with entities.jsonl and records.jsonl")


def run_bootstrap(args: argparse.Namespace) -> int:
    runtime = build_runtime(ScoringSettings())
    runtime.migrate()
    counts = bootstrap(
        runtime.sessions,
        args.folder,
        progress=lambda what, n: print(f"  {what}: {n:,}", file=sys.stderr, flush=True),
    )
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    runtime.stop()
    return 0


def configure_scan(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as-of", type=date.fromisoformat, help="YYYY-MM-DD (default: today)")


def run_scan(args: argparse.Namespace) -> int:
    """The monthly population-wide early-warning scan (the consumers warn event by event;
    this catches up whatever they could not see, e.g. a bootstrapped province)."""
    as_of = args.as_of or china_today()
    runtime = build_runtime(ScoringSettings())
    runtime.migrate()
    with transaction(runtime.sessions) as session:
        report = scan_all(session, runtime.outbox, as_of)
    for rule in report.met:
        print(
            f"{rule}: met={report.met[rule]} raised={report.raised.get(rule, 0)} "
            f"seconds={report.seconds.get(rule, 0):.1f}"
        )
    runtime.stop()
    return 0


SCAN = ("run the early-warning rules over the whole population", configure_scan, run_scan)
FULL_RUN = ("run the monthly full classification", configure_full_run, run_full_run)
BOOTSTRAP = (
    "load the registry's export files into an empty store",
    configure_bootstrap,
    run_bootstrap,
)
