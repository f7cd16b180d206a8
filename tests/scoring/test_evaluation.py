"""The evaluation command: its metrics on inputs with known answers, the simulated
inspections, the learned weights, and the whole command on a small generated province."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pytest

from services.registry.generator.generate import generate
from services.scoring.evaluation import cli, outcomes
from services.scoring.evaluation.chart import svg_bars, text_bars
from services.scoring.evaluation.learn import logistic_regression
from services.scoring.evaluation.metrics import ClassRate, auc, class_rates, lift, psi
from services.scoring.evaluation.run import EvaluationError, evaluate, fresh_store

# --- AUC ------------------------------------------------------------------------------


def test_auc_of_a_perfect_ranking_is_one_and_of_an_inverted_one_zero():
    score = np.array([0.1, 0.2, 0.3, 0.8, 0.9])
    problem = np.array([False, False, False, True, True])
    assert auc(score, problem) == 1.0
    assert auc(-score, problem) == 0.0


def test_auc_counts_ties_half():
    # Every entity scored alike: no ranking at all.
    assert auc(np.full(6, 7.0), np.array([1, 0, 1, 0, 0, 1], dtype=bool)) == 0.5
    # Pairs (problem, clean): (2 vs 1) win, (2 vs 2) tie, (3 vs 1) win, (3 vs 2) win.
    assert auc(np.array([1.0, 2.0, 2.0, 3.0]), np.array([0, 1, 0, 1], dtype=bool)) == 0.875


def test_auc_is_undefined_without_both_outcomes():
    assert math.isnan(auc(np.array([1.0, 2.0]), np.array([False, False])))
    assert math.isnan(auc(np.array([1.0, 2.0]), np.array([True, True])))


def test_auc_matches_the_pairwise_definition_on_random_discrete_scores():
    rng = np.random.default_rng(0)
    score = rng.integers(0, 5, 300).astype(float)  # many ties, as class scores have
    problem = rng.random(300) < 0.2 + 0.1 * score
    pos, neg = score[problem], score[~problem]
    pairwise = ((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])).mean()
    assert auc(score, problem) == pytest.approx(pairwise)


# --- PSI ------------------------------------------------------------------------------


def test_psi_of_identical_distributions_is_zero():
    mix = np.array([650, 260, 80, 15])
    assert psi(mix, mix) == 0.0
    assert psi(mix, 3 * mix) == pytest.approx(0.0, abs=1e-3)  # same shares, more entities


def test_psi_grows_with_the_shift_and_survives_an_empty_bin():
    before = np.array([650, 260, 80, 10])
    shifted = [psi(before, before + np.array([-k, 0, 0, k])) for k in (0, 20, 60, 150)]
    assert shifted == sorted(shifted) and shifted[0] == 0.0 and shifted[-1] > 0.1
    assert math.isfinite(psi(before, np.array([700, 300, 0, 0])))


# --- per-class rates, lift, chart ------------------------------------------------------


def test_class_rates_count_only_inspected_entities_and_lift_compares_them():
    classes = np.array(["A"] * 6 + ["D"] * 4, dtype=object)
    inspected = np.array([1, 1, 1, 1, 0, 0, 1, 1, 0, 0], dtype=bool)
    problem = np.array([1, 0, 0, 0, 1, 1, 1, 0, 1, 1], dtype=bool)  # uninspected: ignored
    rates = class_rates(classes, inspected, problem)
    assert rates["A"] == ClassRate(entities=6, inspected=4, problems=1)
    assert rates["D"] == ClassRate(entities=4, inspected=2, problems=1)
    assert rates["B"].inspected == 0 and math.isnan(rates["B"].rate)
    assert lift(rates, "D", "A") == pytest.approx(0.5 / 0.25)


def test_the_chart_draws_the_highest_rate_longest():
    rates = {
        "A": ClassRate(1000, 500, 30),
        "B": ClassRate(400, 200, 20),
        "C": ClassRate(100, 50, 10),
        "D": ClassRate(20, 10, 4),
    }
    lines = text_bars(rates, width=20)
    bars = {line.split()[0]: line.count("█") for line in lines[1:]}
    assert bars == {"A": 3, "B": 5, "C": 10, "D": 20}
    assert "40.0%" in lines[-1] and "(4 of 10)" in lines[-1]
    svg = svg_bars(rates, "rates")
    assert svg.startswith("<svg") and svg.count("<rect") == 4


# --- simulated inspections and learning -------------------------------------------------


def test_inspections_are_a_seeded_random_sample_finding_problems_at_the_true_risk():
    risk = np.where(np.arange(200_000) % 2 == 0, 0.05, 0.4)
    one = outcomes.simulate(risk, share=0.3, seed=5)
    again = outcomes.simulate(risk, share=0.3, seed=5)
    assert np.array_equal(one.inspected, again.inspected)
    assert np.array_equal(one.problem, again.problem)
    assert one.inspected.sum() == 60_000
    assert not (one.problem & ~one.inspected).any()
    for r in (0.05, 0.4):
        seen = one.inspected & (risk == r)
        assert one.problem[seen].mean() == pytest.approx(r, abs=0.01)
    other = outcomes.simulate(risk, share=0.3, seed=6)
    assert not np.array_equal(one.inspected, other.inspected)


def test_logistic_regression_recovers_known_weights():
    rng = np.random.default_rng(1)
    x = np.column_stack([np.ones(40_000), rng.random(40_000), rng.random(40_000) < 0.3])
    true_w = np.array([-2.0, 1.5, 1.0])
    y = (rng.random(40_000) < 1 / (1 + np.exp(-(x @ true_w)))).astype(float)
    w = logistic_regression(x, y, ridge=1e-6)
    assert w == pytest.approx(true_w, abs=0.15)


# --- the command end to end -------------------------------------------------------------


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("province")
    generate(out, n=4000, seed=3, progress=False)
    return out


def test_the_evaluation_classes_everyone_and_d_finds_more_problems_than_a(
    province: Path, db_url: str
):
    ev = evaluate(province, database_url=db_url, inspect_share=1.0, seed=2)
    last = ev.runs[-1]
    assert [r.month for r in ev.runs] == ["2026-10", "2026-11"]
    assert last.entities == ev.classifiable > 3000
    assert all(ev.rates[c].entities > 0 for c in "ABCD")
    assert ev.inspected == last.entities
    assert ev.rates["D"].rate > ev.rates["A"].rate and ev.lift_d_over_a > 1
    assert 0.5 < ev.auc_score < 1 and 0.5 < ev.auc_true_risk < 1
    assert set(ev.auc_by_model) == {"general", "individual_business"}
    assert last.psi_classes is not None and last.psi_indicators
    assert ev.learned is not None and ev.learned.auc_handset > 0.5
    # A store that holds a province already is refused, not mixed into.
    with pytest.raises(EvaluationError, match="not empty"):
        fresh_store(db_url)


def test_the_command_generates_missing_data_and_prints_figures_and_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    parser = argparse.ArgumentParser()
    cli.configure(parser)
    data = tmp_path / "gen"
    args = parser.parse_args(
        ["--n", "3000", "--seed", "4", "--data", str(data), "--inspect-share", "1",
         "--no-learn", "--svg", str(tmp_path / "rates.svg")]
    )  # fmt: skip
    assert cli.run(args) == 0
    assert (data / "truth.csv").exists() and (tmp_path / "rates.svg").exists()
    figures = dict(
        line.split("=", 1) for line in capsys.readouterr().out.splitlines() if "=" in line
    )
    assert int(figures["classified"]) == int(figures["classifiable"])
    assert all(int(figures[f"entities_{c}"]) > 0 for c in "ABCD")
    assert float(figures["lift_D_over_A"]) > 1
    expected = {"auc_score", "auc_score_general", "auc_true_risk", "psi_classes", "problem_rate_D"}
    assert expected <= figures.keys()
    assert "learn_trained_on" not in figures
    assert "evaluate" in cli.evaluate_command()


def test_the_command_refuses_a_folder_without_a_province(tmp_path: Path):
    with pytest.raises(EvaluationError, match="no generated province"):
        evaluate(tmp_path)
