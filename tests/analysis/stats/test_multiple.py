import pytest
from statsmodels.stats.multitest import multipletests

from analysis.engine.stats import adjust_p_values

P = [0.01, 0.04, 0.03, 0.005, 0.20, 0.5, 0.049]


def test_adjust_p_values_holm__p_values__agrees_with_statsmodels_holm():
    assert adjust_p_values(P, "holm") == pytest.approx(list(multipletests(P, method="holm")[1]))


def test_adjust_p_values_bh__p_values__agrees_with_statsmodels_fdr_bh():
    assert adjust_p_values(P, "bh") == pytest.approx(list(multipletests(P, method="fdr_bh")[1]))


def test_adjust_p_values_holm__p_values__not_statsmodels_default_holm_sidak():
    default = list(multipletests(P)[1])  # statsmodels' default is Holm–Šidák
    assert adjust_p_values(P, "holm") != pytest.approx(default)


def test_adjust_p_values_holm__hand_worked_example__bonferroni_step_down():
    # sorted 0.01, 0.02, 0.03 -> 3*0.01, max(0.03, 2*0.02), max(0.04, 1*0.03)
    assert adjust_p_values([0.03, 0.01, 0.02], "holm") == pytest.approx([0.04, 0.03, 0.04])


def test_adjust_p_values__empty__empty():
    assert adjust_p_values([], "bh") == []


def test_adjust_p_values__unknown_method__value_error_names_method():
    with pytest.raises(ValueError, match="method must be one of"):
        adjust_p_values(P, "bonferroni")


@pytest.mark.parametrize("bad", [1.5, -0.1, float("nan")])
def test_adjust_p_values__out_of_range_p__value_error_names_index(bad):
    with pytest.raises(ValueError, match=r"p_values\[1\] must be in \[0, 1\]"):
        adjust_p_values([0.1, bad], "holm")


def test_adjust_p_values_holm__ties_and_ones__agrees_with_statsmodels_holm():
    values = [0.01, 0.01, 0.5, 0.5, 1.0, 1e-90, 0.2]
    expected = list(multipletests(values, method="holm")[1])
    assert adjust_p_values(values, "holm") == pytest.approx(expected, rel=1e-12)


def test_adjust_p_values_holm__many_families_per_refresh__no_full_garbage_collection(
    monkeypatch,
):
    # statsmodels' Holm runs gc.collect() on every call, about 50 ms in a large process; the
    # sample ratio checks correct one family per segment dimension at every refresh.
    import gc

    def refuse() -> int:
        raise AssertionError("gc.collect() called")

    monkeypatch.setattr(gc, "collect", refuse)
    assert adjust_p_values([0.01, 0.04, 0.03], "holm") == pytest.approx([0.03, 0.06, 0.06])
