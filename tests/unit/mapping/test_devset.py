"""Pin the figures on the shared development set (265 rows) so a vocabulary edit cannot lower them,
and beside them the figures with staff decisions (the learned layer, measured only on the rows it
did not learn from)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mapping import Engine, Taxonomy, evaluate
from mapping.evaluate import read_gold
from mapping.experiments import cv_source, learn

DEV_SET = Path(
    os.environ.get("DEV_SET")
    or Path(__file__).resolve().parents[3].parent / "shared/dev-set/titles.csv"
)


def _need_dev_set() -> None:
    if not DEV_SET.exists():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{DEV_SET} is missing: CI runs with shared/ beside the clone")
        pytest.skip(f"{DEV_SET} is not available")


@pytest.fixture(scope="module")
def figures(engine: Engine) -> dict:
    _need_dev_set()
    return evaluate(DEV_SET, engine=engine).figures


@pytest.fixture(scope="module")
def rows(taxonomy: Taxonomy) -> list:
    _need_dev_set()
    return read_gold(DEV_SET, taxonomy)


def test_area_top1_on_unambiguous_rows(figures: dict) -> None:
    assert figures["n"] == 265
    assert figures["area_top1_unambiguous"] >= 0.99  # measured 0.9934


def test_area_top1_and_top3(figures: dict) -> None:
    assert figures["area_top1"] >= 0.925  # measured 0.9283
    assert figures["area_top3"] >= 0.99


def test_topics(figures: dict) -> None:
    assert figures["topic_precision"] >= 0.98  # measured 0.9804
    assert figures["topic_recall"] >= 0.90  # measured 0.9091


def test_confident_labels_are_safe_and_common(figures: dict) -> None:
    assert figures["confident_label_precision"] >= 0.995  # measured 1.0 (0 wrong of 246)
    assert figures["confident_area_share"] >= 0.60  # measured 0.7472
    assert figures["confident_wrong"] == 0
    assert figures["confident_area_precision"] >= 0.995
    assert figures["confident_wrong_rate"] <= 0.005


def test_per_topic(figures: dict) -> None:
    per = figures["per_topic"]
    assert per["firearms"]["precision"] == 1.0 and per["firearms"]["recall"] == 1.0
    assert per["racial-profiling"]["precision"] == 1.0
    assert per["de-escalation"]["recall"] >= 0.92


def test_learning_from_a_quarter_keeps_precision(rows: list, taxonomy: Taxonomy) -> None:
    result = learn(rows, taxonomy, 0.25, seeds=5)
    with_, gain = result["with"], result["gain"]
    assert result["examples"] == 66 and with_["n"] == 199
    # measured (seeded): area top-1 on the rest 0.9256 -> 0.9347 (+0.91 points; the issue's
    # +3 is not reached: see the note), topic precision 0.9802 -> 0.9802, confident labels 100 %
    # right on 72 % of the rest
    assert gain["area_top1"] >= 0.007
    assert gain["topic_precision"] >= 0.0
    assert with_["confident_label_precision"] >= 0.995
    assert with_["confident_wrong"] == 0
    assert with_["confident_area_share"] >= 0.60


def test_teach_order_beats_random_at_a_tenth(rows: list, taxonomy: Taxonomy) -> None:
    taught = learn(rows, taxonomy, 0.10, order="teach")
    drawn = learn(rows, taxonomy, 0.10, seeds=3)
    teach, random = taught["with"], drawn["with"]
    # the whole catalog once a tenth is decided (decided rows right): measured 0.9585 vs 0.9408
    assert taught["catalog_area_top1"] > drawn["catalog_area_top1"]
    # measured: 0.954 vs 0.9344 area top-1 on the rest; topic precision 1.0 vs 0.9858
    assert teach["area_top1"] > random["area_top1"]
    assert teach["topic_precision"] >= random["topic_precision"]


def test_learning_under_source_cross_validation(rows: list, taxonomy: Taxonomy) -> None:
    # no source learns from itself: each fold of sources is scored by an engine fitted on the
    # other folds. Measured: area top-1 0.9283 -> 0.9396 (+1.13 points), topic precision equal,
    # 0 confident-but-wrong, confident area on 74 % of rows
    result = cv_source(rows, taxonomy, folds=5)
    with_, gain = result["with"], result["gain"]
    assert result["folds"] == 5 and with_["n"] == 265
    assert gain["area_top1"] >= 0.007
    assert gain["topic_precision"] >= 0.0
    assert with_["confident_wrong"] == 0 and with_["confident_area_share"] >= 0.60
