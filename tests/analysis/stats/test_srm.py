import json

import pytest
from scipy import stats as sps

from analysis.engine.stats import srm_check


@pytest.mark.parametrize(
    ("observed", "weights"),
    [([5000, 5100], [0.5, 0.5]), ([1000, 2100, 980], [1, 2, 1]), ([70, 30], [0.7, 0.3])],
)
def test_srm_check__counts_and_weights__agrees_with_scipy_chisquare(observed, weights):
    total = sum(observed)
    expected = [total * w / sum(weights) for w in weights]
    ref = sps.chisquare(observed, expected)
    r = srm_check(observed, weights)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert r.mismatch == bool(ref.pvalue < 0.001)


def test_srm_check__fifty_fifty_split_served_as_52_48__mismatch():
    r = srm_check([52_000, 48_000], [0.5, 0.5])
    assert r.mismatch and r.p_value < 1e-30


def test_srm_check__small_imbalance__no_mismatch():
    assert srm_check([10_050, 9_950], [1, 1]).mismatch is False


def test_srm_check__no_units_yet__no_mismatch_not_exception():
    r = srm_check([0, 0], [0.5, 0.5])
    assert (r.statistic, r.p_value, r.mismatch) == (0.0, 1.0, False)


def test_srm_result_to_dict__any_result__strict_json():
    d = srm_check([52_000, 48_000], [0.5, 0.5]).to_dict()
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    assert isinstance(d["expected"], list)


def test_srm_check__length_mismatch__value_error():
    with pytest.raises(ValueError, match="same length"):
        srm_check([1, 2, 3], [0.5, 0.5])


def test_srm_check__negative_count__value_error_names_index():
    with pytest.raises(ValueError, match=r"observed\[1\] must be a non-negative integer"):
        srm_check([10, -1], [0.5, 0.5])


def test_srm_check__zero_weight__value_error_names_index():
    with pytest.raises(ValueError, match=r"weights\[0\] must be a positive number"):
        srm_check([10, 10], [0.0, 1.0])
