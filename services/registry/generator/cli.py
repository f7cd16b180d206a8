"""``generate`` command: ``python -m services.registry generate --n 100000 --seed 7``."""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from services.registry.generator.generate import REFERENCE_DATE, generate, output_paths

DEFAULT_OUT = Path(".data/generated")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Write a synthetic Shanxi population (entities, records, inspectors and the hidden "
        "true risk) in the registry import format."
    )
    parser.add_argument("--n", type=int, default=10_000, help="number of entities (default 10000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--format",
        dest="format",
        choices=("jsonl", "csv"),
        default="jsonl",
        help="file format (default jsonl)",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--reference-date",
        type=date.fromisoformat,
        default=REFERENCE_DATE,
        help=f"the generated world's 'today' (default {REFERENCE_DATE.isoformat()})",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    if args.n < 0:
        print("--n must not be negative")
        return 2
    started = time.perf_counter()
    counts = generate(
        args.out,
        n=args.n,
        seed=args.seed,
        fmt=args.format,
        progress=not args.no_progress,
        reference_date=getattr(args, "reference_date", REFERENCE_DATE),
    )
    elapsed = time.perf_counter() - started
    paths = output_paths(args.out, args.format)
    for kind in ("entities", "records", "inspectors"):
        print(f"{kind:<10} {counts[kind]:>12,}  {paths[kind]}")
    print(f"{'truth':<10} {counts['entities']:>12,}  {paths['truth']}")
    rate = counts["entities"] / elapsed if elapsed > 0 else 0.0
    print(f"generated in {elapsed:.1f} s ({rate:,.0f} entities/s)")
    return 0
