"""Variant weights: any the API accepts split units in the SDK payload as ``/assign`` splits them
(issue 21, defect 6).

Weights of 1.7e308 used to be accepted: their sum overflowed to infinity, so the SDK payload
carried ``"weights": [0.0, 0.0]`` (an SDK that takes the weights as they are puts nobody in)
while ``/assign`` fell back to equal weights. Weights are now above 0 and at most 1e6
(``core.limits.MAX_WEIGHT``), so their sum is finite and the payload's weights are the very
fractions assign uses.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from growthbook import GrowthBook
from growthbook.core import getBucketRanges
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from assignment.definitions import definitions_clear, definitions_get
from assignment.services.sdk_payload import sdk_payload_clear
from core.api_keys import api_key_create
from core.limits import MAX_WEIGHT
from experiments.models import Variant
from tests.factories import MetricFactory, started_experiment

pytestmark = pytest.mark.django_db

UNITS = 60
_keys = itertools.count()

WEIGHTS = st.lists(
    st.one_of(
        st.floats(min_value=0, max_value=MAX_WEIGHT, exclude_min=True),
        st.floats(min_value=MAX_WEIGHT, exclude_min=True, allow_infinity=False),
        st.floats(max_value=0, allow_infinity=False, allow_nan=False),
        st.sampled_from([5e-324, 1e-300, 1.0, MAX_WEIGHT, 1.7e308]),
    ),
    min_size=2,
    max_size=4,
)


def _plain_ranges(weights: list[float], coverage: float) -> list[tuple[float, float]]:
    """Ranges from the payload's weights as given (no SDK fallback to equal weights)."""
    ranges, cumulative = [], 0.0
    for w in weights:
        ranges.append((cumulative, cumulative + coverage * w))
        cumulative += w
    return ranges


def _in_experiment(result: Any) -> str | None:
    experiment = result.experimentResult
    if result.source != "experiment" or not experiment.inExperiment:
        return None
    return experiment.key


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(weights=[1.7e308, 1.7e308])
@example(weights=[5e-324, 1.0])
@example(weights=[MAX_WEIGHT, MAX_WEIGHT, 1e-300])
@given(weights=WEIGHTS)
def test_weights__any_accepted__sdk_payload_splits_units_as_assign_does(
    editor: APIClient, app_client: APIClient, weights: list[float]
) -> None:
    MetricFactory(key="paid")
    key = f"weights-{next(_keys)}"
    variants = [
        {"key": f"v{i}", "weight": w, "is_control": i == 0, "payload": {"v": i}}
        for i, w in enumerate(weights)
    ]
    body = {"key": key, "name": key, "variants": variants, "coverage": 0.9}
    body["metrics"] = [{"metric": "paid", "role": "primary"}]

    created = editor.post("/api/v1/experiments", body, format="json")

    out_of_range = {
        f"variants[{i}].weight" for i, w in enumerate(weights) if not 0 < w <= MAX_WEIGHT
    }
    if out_of_range:
        assert created.status_code == 400, created.content
        assert out_of_range <= set(created.json())
        return
    assert created.status_code == 201, created.content
    started = editor.post(f"/api/v1/experiments/{key}/start", {}, format="json")
    assert started.status_code == 200, started.content

    # One test transaction for every example: nothing commits, so the definitions version is
    # not bumped; start each example from the database.
    definitions_clear()
    sdk_payload_clear()
    client_key = api_key_create(name=f"sdk-{key}", role="client")[1]
    features = APIClient().get(f"/api/v1/sdk/{client_key}/features").json()["features"]
    [rule] = features[key]["rules"]
    payload_weights = rule["weights"]
    # Every SDK takes these weights as they are: finite, not negative, summing to about 1.
    assert all(math.isfinite(w) and w >= 0 for w in payload_weights)
    assert 0.99 <= sum(payload_weights) <= 1.01
    ranges = list(definitions_get().by_key[key].ranges)
    assert _plain_ranges(payload_weights, rule["coverage"]) == ranges
    assert getBucketRanges(len(weights), rule["coverage"], payload_weights) == ranges

    sdk = GrowthBook(features={key: features[key]})
    for i in range(UNITS):
        unit = f"unit-{i}"
        sdk.set_attributes({"user_id": unit})
        answer = app_client.post(
            "/api/v1/assign",
            {"unit_id": unit, "experiments": [key], "track": False},
            format="json",
        )
        [assigned] = answer.json()["assignments"]
        expected = assigned["variant"] if assigned["in_experiment"] else None
        assert _in_experiment(sdk.eval_feature(key)) == expected, unit
    sdk.destroy()


def test_sdk_payload__weights_stored_before_the_bound__split_as_assign_splits(
    app_client: APIClient,
) -> None:
    """Weights whose sum overflows, stored before weights were bounded, are served as the
    equal split ``/assign`` falls back to, not as ``[0.0, 0.0]``."""
    experiment = started_experiment(key="legacy-weights")
    Variant.objects.filter(experiment=experiment).update(weight=1.7e308)
    definitions_clear()
    sdk_payload_clear()
    client_key = api_key_create(name="sdk-legacy", role="client")[1]

    features = APIClient().get(f"/api/v1/sdk/{client_key}/features").json()["features"]

    [rule] = features["legacy-weights"]["rules"]
    assert rule["weights"] == [0.5, 0.5]
    assert _plain_ranges(rule["weights"], 1.0) == list(
        definitions_get().by_key["legacy-weights"].ranges
    )
