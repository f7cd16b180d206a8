"""Weights learned from inspection outcomes (the seeds' "may learn weights"): logistic
regression on the indicator risk values of one month, fitted on a random half of the
inspected entities and judged on the other half beside the hand-set score.

The features are each general model's indicator risks (0…1, as the scorecard reads
them) plus one intercept per general model, so the learned weights speak the models'
language: a positive coefficient says "this indicator deserves points". Professional
blends are left out; they cover few entities and would need their own fit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from services.scoring.classify.engine import ModelSet, indicator_risk
from services.scoring.classify.features import Frame
from services.scoring.evaluation.metrics import auc


@dataclass(frozen=True)
class Learned:
    columns: list[str]
    coefficients: np.ndarray
    trained_on: int
    held_out: int
    auc_learned: float  # on the held-out half
    auc_handset: float  # the shipped score, same half

    def suggested_weights(self) -> dict[str, float]:
        """Positive coefficients as points summing to 100 per model (negative ones get
        none: a scorecard only adds risk)."""
        out: dict[str, float] = {}
        models = {c.split(".")[0] for c in self.columns}
        for m in sorted(models):
            mine = {
                c: max(float(w), 0.0)
                for c, w in zip(self.columns, self.coefficients, strict=True)
                if c.startswith(m + ".") and not c.endswith(".intercept")
            }
            total = sum(mine.values())
            for c, w in mine.items():
                out[c] = round(100 * w / total, 1) if total else 0.0
        return out


def logistic_regression(
    x: np.ndarray, y: np.ndarray, *, ridge: float = 1.0, max_iter: int = 50, tol: float = 1e-8
) -> np.ndarray:
    """Coefficients by Newton's method (IRLS). A small ridge keeps rare indicators (a few
    dozen entities on a list) from running off to infinity; ``x`` brings its own
    intercept columns, penalised alike, which only matters when a model has few rows."""
    w = np.zeros(x.shape[1])
    penalty = ridge * np.eye(x.shape[1])
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        gradient = x.T @ (y - p) - ridge * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + penalty
        step = np.linalg.solve(hessian, gradient)
        w += step
        if np.max(np.abs(step)) < tol:
            break
    return w


def design(models: ModelSet, frame: Frame, rows: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Indicator risks of each entity's general model (zeros under the other models)."""
    blocks, columns = [], []
    for model in models.general:
        mine = np.isin(frame.entity_type[rows], list(model.applies_to.entity_types))
        block = np.zeros((len(rows), len(model.indicators) + 1))
        block[mine, 0] = 1.0
        for k, ind in enumerate(model.indicators, start=1):
            block[mine, k] = indicator_risk(ind, frame, rows[mine])
        blocks.append(block)
        columns += [f"{model.model_id}.intercept"] + [
            f"{model.model_id}.{i.id}" for i in model.indicators
        ]
    return np.hstack(blocks), columns


def learn(
    models: ModelSet,
    frame: Frame,
    rows: np.ndarray,
    score: np.ndarray,
    problem: np.ndarray,
    *,
    seed: int,
) -> Learned:
    """``rows``: frame positions of the inspected entities; ``score``/``problem`` theirs."""
    x, columns = design(models, frame, rows)
    train = np.random.default_rng(seed).random(len(rows)) < 0.5
    w = logistic_regression(x[train], problem[train].astype(float))
    test = ~train
    return Learned(
        columns=columns,
        coefficients=w,
        trained_on=int(train.sum()),
        held_out=int(test.sum()),
        auc_learned=auc(x[test] @ w, problem[test]),
        auc_handset=auc(score[test], problem[test]),
    )
