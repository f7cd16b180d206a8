"""Figures of a classification against inspection outcomes: AUC of the score, problem-found
rate per class, lift of one class over another, and PSI (the monthly run's own)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from services.scoring.classify.full_run import psi

CLASSES = ("A", "B", "C", "D")

__all__ = ["CLASSES", "ClassRate", "auc", "class_rates", "lift", "psi", "rank_average"]


def rank_average(values: np.ndarray) -> np.ndarray:
    """1-based ranks; tied values share the mean of the ranks they span."""
    values = np.asarray(values, dtype=float)
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    _, group = np.unique(values, return_inverse=True)
    return (np.bincount(group, weights=ranks) / np.bincount(group))[group]


def auc(score: np.ndarray, outcome: np.ndarray) -> float:
    """Probability that an entity with a problem scores higher than one without, ties
    counting half (Mann–Whitney). The score is discrete — many entities share one — so
    ties are the rule, not a corner case. NaN without both kinds of outcome."""
    outcome = np.asarray(outcome, dtype=bool)
    positives = int(outcome.sum())
    negatives = len(outcome) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = rank_average(score)
    return float((ranks[outcome].sum() - positives * (positives + 1) / 2) / (positives * negatives))


@dataclass(frozen=True)
class ClassRate:
    entities: int  # classified into the class
    inspected: int
    problems: int

    @property
    def rate(self) -> float:
        return self.problems / self.inspected if self.inspected else float("nan")


def class_rates(
    risk_class: np.ndarray, inspected: np.ndarray, problem: np.ndarray
) -> dict[str, ClassRate]:
    """Per class: entities, how many were inspected and in how many a problem was found."""
    risk_class = np.asarray(risk_class, dtype=object)
    inspected = np.asarray(inspected, dtype=bool)
    problem = np.asarray(problem, dtype=bool)
    out = {}
    for c in CLASSES:
        mine = risk_class == c
        out[c] = ClassRate(
            entities=int(mine.sum()),
            inspected=int((mine & inspected).sum()),
            problems=int((mine & inspected & problem).sum()),
        )
    return out


def lift(rates: dict[str, ClassRate], high: str = "D", low: str = "A") -> float:
    """How many times more often a problem is found in ``high`` than in ``low``."""
    lo = rates[low].rate
    if not lo or np.isnan(lo):
        return float("nan")
    return rates[high].rate / lo
