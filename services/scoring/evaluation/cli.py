"""``python -m services.scoring evaluate``: how well the classes predict inspection
outcomes, on a generated province (generated on the spot if the folder has none).

Figures are printed as key=value lines, and the problem-found rate per class also as a
bar chart (``--svg`` writes it as an image too)."""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
from datetime import date
from pathlib import Path

from services.scoring.evaluation.chart import svg_bars, text_bars
from services.scoring.evaluation.metrics import CLASSES
from services.scoring.evaluation.run import REFERENCE_DATE, Evaluation, EvaluationError, evaluate
from shared.cli import Extra

ROOT = Path(__file__).resolve().parents[3]
HELP = "measure how well the classes predict inspection outcomes, on generated data"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--n", type=int, default=100_000, help="entities to generate (100000)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (7)")
    parser.add_argument(
        "--data",
        type=Path,
        help="generated folder (default .data/evaluation/gen-<n>-s<seed>; generated if empty)",
    )
    parser.add_argument(
        "--database-url", help="an empty store to use (default: a fresh SQLite file in --data)"
    )
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=None,
        help="day of the second monthly run; the first is a month earlier (2026-11-01)",
    )
    parser.add_argument(
        "--inspect-share",
        type=float,
        default=0.5,
        help="share of classified entities inspected, at random (0.5)",
    )
    parser.add_argument("--outcome-seed", type=int, default=1, help="inspection draw seed (1)")
    parser.add_argument("--no-learn", action="store_true", help="skip learning weights")
    parser.add_argument("--svg", type=Path, help="also write the bar chart as an SVG file")


def ensure_generated(folder: Path, n: int, seed: int) -> None:
    """The registry's generator, run as its own command: scoring does not import the
    registry's code, it reads its output like any province's export."""
    if (folder / "entities.jsonl").exists() and (folder / "truth.csv").exists():
        return
    print(f"# generating {n} entities (seed {seed}) into {folder} …", file=sys.stderr, flush=True)
    subprocess.run(
        [sys.executable, "-m", "services.registry", "generate", "--n", str(n), "--seed",
         str(seed), "--out", str(folder.resolve()), "--no-progress"],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


def _fmt(x: float, digits: int = 4) -> str:
    return "nan" if x is None or math.isnan(x) else f"{x:.{digits}f}"


def report_lines(ev: Evaluation) -> list[str]:
    """key=value lines, then the chart."""
    first, last = ev.runs[0], ev.runs[-1]
    out = [
        f"data={ev.data}",
        f"store={ev.database_url.split('@')[-1]}",  # no credentials in the output
        *(f"loaded_{k}={v}" for k, v in ev.loaded.items()),
        *(f"seconds_{k}={v}" for k, v in ev.seconds.items()),
        f"runs={first.month},{last.month}",
        f"classifiable={ev.classifiable}",
        f"classified={last.entities}",
    ]
    for c in CLASSES:
        r = ev.rates[c]
        out += [
            f"entities_{c}={r.entities}",
            f"share_{c}={_fmt(r.entities / last.entities if last.entities else math.nan)}",
        ]
    out += [
        f"inspect_share={ev.inspect_share}",
        f"inspected={ev.inspected}",
        f"problems_found={ev.problems}",
        f"problem_rate={_fmt(ev.problems / ev.inspected if ev.inspected else math.nan)}",
    ]
    for c in CLASSES:
        r = ev.rates[c]
        out += [f"inspected_{c}={r.inspected}", f"problem_rate_{c}={_fmt(r.rate)}"]
    out += [
        f"lift_D_over_A={_fmt(ev.lift_d_over_a, 2)}",
        f"auc_score={_fmt(ev.auc_score)}",
        *(f"auc_score_{m}={_fmt(v)}" for m, v in ev.auc_by_model.items()),
        f"auc_true_risk={_fmt(ev.auc_true_risk)}",
        f"psi_classes={_fmt(last.psi_classes if last.psi_classes is not None else math.nan, 6)}",
        *(f"psi_{k}={v}" for k, v in sorted(last.psi_indicators.items())),
    ]
    if ev.learned is not None:
        lw = ev.learned
        out += [
            f"learn_trained_on={lw.trained_on}",
            f"learn_held_out={lw.held_out}",
            f"auc_learned_heldout={_fmt(lw.auc_learned)}",
            f"auc_handset_heldout={_fmt(lw.auc_handset)}",
            *(f"learned_weight_{k}={v}" for k, v in lw.suggested_weights().items()),
        ]
    return [*out, "", *text_bars(ev.rates)]


def run(args: argparse.Namespace) -> int:
    folder = args.data or Path(".data/evaluation") / f"gen-{args.n}-s{args.seed}"
    folder.mkdir(parents=True, exist_ok=True)
    ensure_generated(folder, args.n, args.seed)
    try:
        ev = evaluate(
            folder,
            database_url=args.database_url,
            as_of=args.as_of or REFERENCE_DATE,
            inspect_share=args.inspect_share,
            seed=args.outcome_seed,
            learn=not args.no_learn,
            progress=lambda step: print(f"# {step} done", file=sys.stderr, flush=True),
        )
    except (EvaluationError, ValueError) as e:
        print(f"evaluate: {e}", file=sys.stderr)
        return 2
    print("\n".join(report_lines(ev)))
    if args.svg:
        args.svg.write_text(svg_bars(ev.rates, "Problem-found rate by class"), encoding="utf-8")
        print(f"svg={args.svg}")
    return 0


EVALUATE = (HELP, configure, run)


def evaluate_command() -> Extra:
    """The ``evaluate`` command for ``run_service_cli(extra=...)``."""
    return {"evaluate": EVALUATE}
