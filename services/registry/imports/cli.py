"""``python -m services.registry import KIND FILE``: bulk import with a progress bar and a
CSV report of rejected rows."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson
from tqdm import tqdm

from services.registry.imports.importer import (
    DEFAULT_BATCH_SIZE,
    ImportReport,
    csv_report,
    run_import,
)
from services.registry.imports.readers import guess_format


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=["entities", "records", "inspectors"])
    parser.add_argument(
        "file", type=Path, help=".csv or .jsonl (see services/registry/imports/FORMAT.md)"
    )
    parser.add_argument(
        "--format", choices=["csv", "jsonl"], help="override the format the name suggests"
    )
    parser.add_argument(
        "--report", type=Path, help="CSV of rejected rows (default: FILE.errors.csv)"
    )
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> int:
    from services.registry.app import build_runtime
    from services.registry.settings import RegistrySettings

    runtime = build_runtime(RegistrySettings())
    runtime.migrate()
    path: Path = args.file
    report_path: Path = args.report or path.with_name(path.name + ".errors.csv")
    size = path.stat().st_size
    with (
        path.open("rb") as f,
        report_path.open("w", encoding="utf-8", newline="") as report_out,
        tqdm(
            total=size,
            unit="B",
            unit_scale=True,
            desc=f"import {args.kind}",
            disable=args.no_progress,
            file=sys.stderr,
        ) as bar,
    ):

        def progress(_report: ImportReport) -> None:
            bar.update(f.tell() - bar.n)

        report = run_import(
            runtime.sessions,
            runtime.outbox,
            args.kind,
            f,
            args.format or guess_format(path.name),
            batch_size=args.batch_size,
            on_error=csv_report(report_out),
            progress=progress,
        )
        bar.update(size - bar.n)
    print(orjson.dumps({**report.summary(), "error_report": str(report_path)}).decode())
    for e in report.errors[:20]:
        print(f"  第{e.row}行 {e.field}: {e.reason_zh} / {e.reason_en}", file=sys.stderr)
    runtime.stop()
    if report.unreadable is not None:
        print(f"{report.unreadable.reason_zh}\n{report.unreadable.reason_en}", file=sys.stderr)
        return 1
    return 0
