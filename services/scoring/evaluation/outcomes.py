"""Simulated inspections of the classified entities, from the generator's hidden truth.

The simulation, and why:

- **Who is inspected**: a uniform random sample of the classified entities (``share`` of
  them). That is what "double random" (双随机) inspection is, and it is what makes the
  figures honest: a sample drawn by class would measure the classes with their own bias.
  A real year inspects a few percent; the default here is larger only to cut the noise.
- **What is found**: a problem with probability equal to the entity's true risk
  (``truth.csv``), independently per entity. The true risk is the latent propensity from
  which the generator draws every record (penalties, listings, complaints, failed
  inspections), so reading it as "the chance that a full inspection finds something" is
  the most direct calibration; it gives a problem-found rate near 10% over the population,
  the order reported for random inspections. The generator's own inspection formula
  (0.04 + 0.75 × risk, capped at 0.9) was not used: its floor adds findings unrelated to
  risk, so it measures the inspection noise as much as the classes.
- **Fresh draws**: outcomes are drawn anew (seeded), never read from the records the
  model saw, so the score is judged on inspections it could not have known.

Even the true risk ranks these outcomes imperfectly (a coin flip per entity): the report
prints its AUC beside the model's as the ceiling."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Inspections:
    inspected: np.ndarray  # bool per entity
    problem: np.ndarray  # bool per entity; False where not inspected


def load_truth(path: Path) -> dict[str, float]:
    with path.open(newline="", encoding="utf-8") as f:
        return {row["code"]: float(row["true_risk"]) for row in csv.DictReader(f)}


def true_risk_of(codes: np.ndarray, truth: dict[str, float]) -> np.ndarray:
    missing = [c for c in codes.tolist() if c not in truth]
    if missing:
        raise ValueError(f"{len(missing)} classified entities have no true risk, e.g. {missing[0]}")
    return np.array([truth[c] for c in codes.tolist()], dtype=float)


def simulate(true_risk: np.ndarray, *, share: float, seed: int) -> Inspections:
    """Inspect a random ``share`` of the entities; find a problem with prob. true risk."""
    if not 0 < share <= 1:
        raise ValueError("the inspected share must lie in (0, 1]")
    # Two independent streams: changing the share must not change who has a problem.
    pick, find = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    n = len(true_risk)
    inspected = np.zeros(n, dtype=bool)
    inspected[pick.choice(n, size=round(share * n), replace=False)] = True
    problem = (find.random(n) < true_risk) & inspected
    return Inspections(inspected=inspected, problem=problem)
