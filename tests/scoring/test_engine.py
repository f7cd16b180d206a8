"""The scorecard arithmetic on hand-made frames: bins, categories, decay, blending and
overrides, and that the points always add up to the score."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from pydantic import ValidationError

from services.scoring.classify.engine import ModelSet, bin_risk, category_risk, classify
from services.scoring.classify.features import KIND_CODE, Frame
from services.scoring.indicators.spec import Bins, Categories, ModelSpec
from services.scoring.indicators.store import shipped_models

AS_OF = date(2026, 11, 1)


def frame(n: int, **attributes: list[float]) -> Frame:
    f = Frame(
        as_of=AS_OF,
        codes=np.array([f"C{i}" for i in range(n)], dtype=object),
        entity_type=np.array(["enterprise"] * n, dtype=object),
        region_code=np.array(["140502"] * n, dtype=object),
        industry_code=np.array(["5261"] * n, dtype=object),
        licences=[[] for _ in range(n)],
    )
    f.attributes = {k: np.array(v, dtype=float) for k, v in attributes.items()}
    f.attributes.setdefault("on_dishonest_list", np.zeros(n))
    return f


def add_facts(f: Frame, facts: list[tuple[int, str, int]]) -> None:
    """(entity position, kind, age in days)."""
    f.fact_idx = np.array([i for i, _, _ in facts], dtype=np.int64)
    f.fact_kind = np.array([KIND_CODE[k] for _, k, _ in facts], dtype=np.int8)
    f.fact_detail = np.array([None] * len(facts), dtype=object)
    f.fact_age = np.array([a for _, _, a in facts], dtype=np.int64)


def model(**overrides: object) -> ModelSpec:
    spec: dict = {
        "model_id": "toy",
        "kind": "general",
        "name_zh": "测试",
        "name_en": "toy",
        "applies_to": {"entity_types": ["enterprise"]},
        "indicators": [
            {
                "id": "capital",
                "group": "basic",
                "name_zh": "注册资本",
                "name_en": "capital",
                "attribute": "registered_capital",
                "bins": {"edges": [10, 100], "risk": [1, 0.5, 0], "missing_risk": 0.25},
                "weight": 40,
            },
            {
                "id": "penalties",
                "group": "regulatory",
                "name_zh": "行政处罚",
                "name_en": "penalties",
                "facts": {"kinds": ["penalty"], "window_days": 1095, "half_life_days": 365},
                "bins": {"edges": [0.3, 1], "risk": [0, 0.5, 1], "missing_risk": 0},
                "weight": 60,
            },
        ],
        "cutoffs": {"B": 20, "C": 40, "D": 70},
        "overrides": [{"when": "on_dishonest_list", "risk_class": "D"}],
    }
    spec.update(overrides)
    return ModelSpec.model_validate(spec)


def test_bins_put_values_in_the_right_bin_and_missing_in_its_own():
    bins = Bins(edges=[10, 100], risk=[1, 0.5, 0], missing_risk=0.25)
    got = bin_risk(bins, np.array([0, 9.99, 10, 99, 100, 5000, np.nan]))
    assert got.tolist() == [1, 1, 0.5, 0.5, 0, 0, 0.25]


def test_categories_take_the_longest_prefix():
    cats = Categories(risk_by_prefix={"14": 0.8, "1491": 0.3}, default_risk=0.1, missing_risk=0.5)
    got = category_risk(cats, np.array(["1411", "1491", "5261", None], dtype=object))
    assert got.tolist() == [0.8, 0.3, 0.1, 0.5]


def test_a_penalty_fades_with_age_and_drops_out_after_its_window():
    f = frame(4, registered_capital=[500, 500, 500, 500])
    # fresh penalty; one a year old (half weight); two years old (quarter); four years (gone)
    add_facts(
        f, [(0, "penalty", 0), (1, "penalty", 365), (2, "penalty", 730), (3, "penalty", 1460)]
    )
    counts = f.fact_count(["penalty"], window_days=1095, half_life_days=365)
    assert counts == pytest.approx([1.0, 0.5, 0.25, 0.0])


def test_points_add_up_to_the_score_and_cutoffs_class_it():
    f = frame(3, registered_capital=[5, 50, np.nan])
    add_facts(f, [(0, "penalty", 10), (0, "penalty", 20), (1, "penalty", 400)])
    result = classify(ModelSet(general=(model(),), professional=(), versions={"toy": 3}), f)
    points = result.points_of()
    for k in range(3):
        assert sum(points[k].values()) == pytest.approx(result.score[k], abs=0.02)
    # 40 + 60 = 100 → D; 20 + 30 = 50 → C; 10 + 0 = 10 → A
    assert result.risk_class.tolist() == ["D", "C", "A"]
    assert result.model_version.tolist() == [3, 3, 3]


def test_serious_dishonest_is_d_whatever_the_score():
    f = frame(2, registered_capital=[500, 500], on_dishonest_list=[1, 0])
    add_facts(f, [])
    result = classify(ModelSet(general=(model(),), professional=(), versions={"toy": 1}), f)
    assert result.risk_class.tolist() == ["D", "A"]
    assert result.overridden_by.tolist() == ["on_dishonest_list", None]


def test_a_professional_model_blends_with_the_general_one():
    prof = ModelSpec.model_validate(
        {
            "model_id": "food",
            "kind": "professional",
            "name_zh": "食品",
            "name_en": "food",
            "applies_to": {"entity_types": ["enterprise"], "industry_prefixes": ["14"]},
            "blend": 0.5,
            "indicators": [
                {
                    "id": "failures",
                    "group": "regulatory",
                    "name_zh": "抽检不合格",
                    "name_en": "failures",
                    "facts": {"kinds": ["sampling_failure"], "window_days": 1095},
                    "bins": {"edges": [1], "risk": [0, 1], "missing_risk": 0},
                    "weight": 100,
                }
            ],
        }
    )
    f = frame(2, registered_capital=[500, 500])
    f.industry_code = np.array(["1411", "5261"], dtype=object)
    add_facts(f, [(0, "sampling_failure", 30), (1, "sampling_failure", 30)])
    models = ModelSet(general=(model(),), professional=(prof,), versions={"toy": 1, "food": 1})
    result = classify(models, f)
    assert result.model_id.tolist() == ["toy+food", "toy"]
    assert result.score.tolist() == pytest.approx([50.0, 0.0])  # 0.5 × 0 + 0.5 × 100
    # Indicators that gave no points are left out of the stored points.
    assert result.points_of()[0] == {"food.failures": 50.0}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"cutoffs": {"B": 30, "C": 20, "D": 70}}, "cutoffs"),
        ({"kind": "professional"}, "blend"),
        ({"indicators": []}, "indicators"),
    ],
)
def test_an_inconsistent_model_is_refused(change: dict, field: str):
    with pytest.raises(ValidationError) as err:
        model(**change)
    assert field in str(err.value)


def test_the_shipped_models_load_and_cover_the_required_kinds():
    models = {m.model_id: m for m in shipped_models()}
    assert {"general", "individual_business", "food_production", "special_equipment"} <= set(models)
    groups = {i.group for i in models["general"].indicators}
    assert groups == {"basic", "dynamic", "regulatory", "relationship", "social"}
    assert models["individual_business"].applies_to.entity_types == ["individual_business"]
    for m in models.values():
        assert m.max_score == pytest.approx(100)
