import pytest

from analysis.engine.stats import expected_duration_days, minimum_detectable_effect, sample_size


def test_sample_size_proportion__r_power_prop_test_example__76_71():
    # R: power.prop.test(p1 = 0.5, p2 = 0.75, power = 0.9) -> n = 76.7 per group
    assert sample_size("proportion", 0.5, 0.75, power=0.9) == pytest.approx(76.71, abs=0.005)


def test_sample_size_mean__r_power_t_test_example__22_02():
    # R: power.t.test(delta = 1, sd = 1, power = 0.9) -> n = 22.02110 per group
    assert sample_size("mean", 10.0, 11.0, std=1.0, power=0.9) == pytest.approx(22.02, abs=0.005)


def test_sample_size__decrease_instead_of_increase__same_size():
    up = sample_size("mean", 10.0, 11.0, std=2.0)
    down = sample_size("mean", 10.0, 9.0, std=2.0)
    assert up == pytest.approx(down)


def test_sample_size__conversion_alias__same_as_proportion():
    assert sample_size("conversion", 0.1, 0.11) == sample_size("proportion", 0.1, 0.11)


@pytest.mark.parametrize("n", [200.0, 5_000.0, 123_456.0])
def test_minimum_detectable_effect_proportion__n__inverse_of_sample_size(n):
    mde = minimum_detectable_effect("proportion", 0.1, n)
    assert sample_size("proportion", 0.1, 0.1 + mde) == pytest.approx(n, rel=1e-8)


def test_minimum_detectable_effect_mean__r_example__one_std():
    mde = minimum_detectable_effect("mean", 10.0, 22.021088441446, std=3.0, power=0.9)
    assert mde == pytest.approx(3.0, rel=1e-6)


def test_minimum_detectable_effect_proportion__too_few_units__value_error():
    with pytest.raises(ValueError, match="cannot detect any lift"):
        minimum_detectable_effect("proportion", 0.99, 3)


def test_expected_duration_days__three_arms_half_coverage__days():
    # 1,000 per arm * 3 arms = 3,000 units; 600 eligible a day * 50% coverage = 300 a day
    assert expected_duration_days(1000, 600, arms=3, coverage=0.5) == pytest.approx(10.0)


def test_sample_size_mean__missing_std__value_error_names_std():
    with pytest.raises(ValueError, match="std is required"):
        sample_size("mean", 1.0, 2.0)


def test_sample_size_proportion__baseline_above_one__value_error_names_baseline():
    with pytest.raises(ValueError, match="baseline must be a proportion"):
        sample_size("proportion", 1.5, 0.5)


def test_sample_size__same_values__value_error():
    with pytest.raises(ValueError, match="must differ from baseline"):
        sample_size("proportion", 0.2, 0.2)


def test_sample_size__unknown_metric__value_error_names_metric():
    with pytest.raises(ValueError, match="metric must be one of"):
        sample_size("median", 1.0, 2.0, std=1.0)


def test_expected_duration_days__one_arm__value_error_names_arms():
    with pytest.raises(ValueError, match="arms must be an integer >= 2"):
        expected_duration_days(100, 10, arms=1)
