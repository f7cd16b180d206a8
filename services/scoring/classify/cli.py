"""``python -m services.scoring full-run`` and ``bootstrap``: the monthly run and the
initial load of a province from the registry's export files, from the command line."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from services.scoring.app import build_runtime
from services.scoring.classify.full_run import run_monthly
from services.scoring.classify.schemas import RunRequest
from services.scoring.features.bootstrap import bootstrap
from services.scoring.settings import ScoringSettings
from services.scoring.warnings.scan import scan_all
from shared.db import transaction
from shared.errors import AppError
from shared.validation import problems_of
from shared.workdays import china_today


def configure_full_run(p: argparse.ArgumentParser) -> None:
    p.add_argument("--month", help="YYYY-MM (default: the month of --as-of, or this month)")
    p.add_argument("--as-of", help="YYYY-MM-DD, a day of that month (default: see RunRequest)")
    p.add_argument(
        "--replace-newer",
        action="store_true",
        help="let a month older than the newest run replace the current classes",
    )


def run_full_run(args: argparse.Namespace) -> int:
    # The same rules as POST /v1/runs.
    month = args.month or (args.as_of or china_today().isoformat())[:7]
    try:
        request = RunRequest(month=month, as_of=args.as_of, replace_newer=args.replace_newer)
    except ValidationError as e:
        for p in problems_of(e):
            print(f"{p.field}: {p.zh} ({p.en})", file=sys.stderr)
        return 2
    as_of = request.resolved_as_of()
    runtime = build_runtime(ScoringSettings())
    runtime.migrate()
    started = time.perf_counter()

    def progress(step: str) -> None:
        print(f"  {time.perf_counter() - started:6.1f} s  {step}", file=sys.stderr, flush=True)

    try:
        report = run_monthly(
            runtime.sessions,
            runtime.outbox,
            month=request.month,
            as_of=as_of,
            replace_newer=request.replace_newer,
            progress=progress,
        )
    except AppError as e:
        print(f"{e.message} ({e.message_en})", file=sys.stderr)
        runtime.stop()
        return 2
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
