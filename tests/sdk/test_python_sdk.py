"""GrowthBook's Python SDK (PyPI ``growthbook``) evaluating Verdict's payload locally."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import requests
from growthbook import GrowthBook

from assignment.models import Exposure

from .conftest import Verdict
from .scenario import FORCED, FORCED_UNITS, KEYS

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _quiet_sdk():
    """The SDK logs a warning for every evaluation of an unknown feature (the draft)."""
    logger = logging.getLogger("growthbook")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


def _answer(result: Any) -> tuple[Any, bool]:
    in_experiment = result.source == "force" or (
        result.source == "experiment" and bool(result.experimentResult.inExperiment)
    )
    return result.value, in_experiment


def test_python_sdk__10000_units__same_variant_as_assign(verdict: Verdict):
    loader = GrowthBook(api_host=verdict.url, client_key=verdict.client_key)
    loader.load_features()
    features = loader.get_features()
    assert set(features) == set(KEYS) - {"sdk-draft"}
    # Evaluate from the loaded features (an instance with api_host re-reads its cache per call).
    gb = GrowthBook(features=features)
    differences = []
    reasons_in = 0
    for unit_id, attributes in verdict.units:
        gb.set_attributes(dict(attributes))
        expected = verdict.reference[unit_id]
        for key in KEYS:
            got = _answer(gb.eval_feature(key))
            if got != expected[key]:
                differences.append((unit_id, key, got, expected[key]))
            reasons_in += expected[key][1]
    gb.destroy()
    loader.destroy()
    assert differences == []
    # The population exercises both sides of every experiment.
    for key in ("sdk-coverage", "sdk-layer-a", "sdk-layer-b", "sdk-targeted", "sdk-account"):
        ins = sum(verdict.reference[u][key][1] for u, _ in verdict.units)
        assert 0 < ins < len(verdict.units), key
    for unit, variant in FORCED_UNITS.items():
        assert verdict.reference[unit]["sdk-forced"] == ({"variant": variant}, True)
    assert reasons_in > len(verdict.units)


def test_python_sdk__tracking_callback_forwarded__each_exposure_stored_once(verdict: Verdict):
    tracked: list[dict[str, Any]] = []
    population = verdict.units[:1000] + verdict.units[-len(FORCED) :]
    for unit_id, attributes in population:
        # One SDK instance per user, as an app has; the payload comes from the SDK's cache.
        def forward(
            experiment: Any,
            result: Any,
            *rest: Any,
            unit_id=unit_id,
            attributes=attributes,
            **kw: Any,
        ):
            tracked.append(
                {
                    "unit_id": unit_id,
                    "experiment": experiment.key,
                    "variant": result.key,
                    "attributes": attributes,
                }
            )

        gb = GrowthBook(
            api_host=verdict.url,
            client_key=verdict.client_key,
            attributes=dict(attributes),  # destroy() clears the dict it was given
            on_experiment_viewed=forward,
        )
        gb.load_features()
        for key in KEYS:
            gb.eval_feature(key)
            gb.eval_feature(key)  # evaluated twice, tracked once
        gb.destroy()
    expected = {
        (key, unit_id)
        for unit_id, _ in population
        for key in KEYS
        if verdict.reference[unit_id][key][1] and (key, unit_id) not in FORCED
    }
    # Forced units are never tracked.
    assert {(t["experiment"], t["unit_id"]) for t in tracked} == expected
    assert len(tracked) == len(expected)
    headers = {"Authorization": f"Bearer {verdict.app_key}"}
    url = f"{verdict.url}/api/v1/exposures"
    accepted = 0
    for start in range(0, len(tracked), 1000):
        batch = {"exposures": tracked[start : start + 1000]}
        answer = requests.post(url, json=batch, headers=headers, timeout=30).json()
        assert answer["rejected"] == [], [
            batch["exposures"][r["index"]] for r in answer["rejected"][:3]
        ]
        accepted += answer["accepted"]
    # Sent again (a retrying client): every item is a duplicate.
    again = requests.post(url, json={"exposures": tracked[:1000]}, headers=headers, timeout=30)
    assert again.json()["duplicates"] == min(1000, len(tracked))
    assert accepted == len(tracked) == Exposure.objects.count()
    stored = set(Exposure.objects.values_list("experiment__key", "unit_id"))
    assert stored == {(t["experiment"], t["unit_id"]) for t in tracked}
