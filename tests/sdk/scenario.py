"""A set of experiments and units that exercises everything the SDK payload expresses.

Experiments (distinct payloads per variant, so a payload names its variant):

- ``sdk-coverage``: three variants weighted 1:2:3, coverage 0.6;
- ``sdk-layer-a`` and ``sdk-layer-b``: one layer, half of it each;
- ``sdk-targeted``: targeting on country and a version, coverage 0.9;
- ``sdk-account``: randomized by ``account_id``, uneven weights, coverage 0.8;
- ``sdk-forced``: QA overrides (one of them a non-ASCII unit id), coverage 0.5;
- ``sdk-paused`` (with an override), ``sdk-stopped``, ``sdk-concluded`` (shipped winner) and a
  draft, which the payload leaves out.
"""

from __future__ import annotations

from typing import Any

from core.actors import Actor
from experiments.models import Experiment, Variant
from experiments.services.lifecycle import experiment_transition
from experiments.services.overrides import override_set
from tests.factories import LayerFactory, ready_experiment

ACTOR = Actor.system("test")
KEYS = (
    "sdk-coverage",
    "sdk-layer-a",
    "sdk-layer-b",
    "sdk-targeted",
    "sdk-account",
    "sdk-forced",
    "sdk-paused",
    "sdk-stopped",
    "sdk-concluded",
    "sdk-draft",
)
FORCED_UNITS = {"用户42": "treatment", "u-7": "control", "u-8": "treatment"}
# (experiment, unit) pairs that QA overrides force: SDKs serve them by force rules, untracked.
FORCED = {("sdk-forced", unit) for unit in FORCED_UNITS} | {("sdk-paused", "u-9")}
COUNTRIES = ("CN", "SG", "US", "DE", None)


def _weights(experiment: Experiment, weights: list[float]) -> None:
    for variant, weight in zip(experiment.variants.order_by("position"), weights, strict=True):
        Variant.objects.filter(pk=variant.pk).update(weight=weight)


def _act(experiment: Experiment, action: str, **params: Any) -> Experiment:
    return experiment_transition(
        actor=ACTOR, experiment=experiment, action=action, params=params or None
    )


def build_scenario() -> None:
    """Create and start the experiments (runs inside a test with database access)."""
    cov = ready_experiment(key="sdk-coverage", coverage=0.6, variants=("control", "b", "c"))
    _weights(cov, [1, 2, 3])
    _act(cov, "start")
    layer = LayerFactory(key="checkout-layer")
    for key in ("sdk-layer-a", "sdk-layer-b"):
        _act(ready_experiment(key=key, layer=layer, layer_share=0.5), "start")
    targeted = ready_experiment(
        key="sdk-targeted",
        coverage=0.9,
        targeting={"country": {"$in": ["CN", "SG"]}, "app_version": {"$vgte": "3.0.0"}},
    )
    _act(targeted, "start")
    account = ready_experiment(key="sdk-account", unit_attribute="account_id", coverage=0.8)
    _weights(account, [0.3, 0.7])
    _act(account, "start")
    forced = _act(ready_experiment(key="sdk-forced", coverage=0.5), "start")
    for unit, variant in FORCED_UNITS.items():
        override_set(actor=ACTOR, experiment=forced, unit_id=unit, variant_key=variant)
    paused = _act(ready_experiment(key="sdk-paused"), "start")
    override_set(actor=ACTOR, experiment=paused, unit_id="u-9", variant_key="treatment")
    _act(paused, "pause")
    _act(_act(ready_experiment(key="sdk-stopped"), "start"), "stop")
    concluded = _act(_act(ready_experiment(key="sdk-concluded"), "start"), "stop")
    _act(concluded, "conclude", decision="ship", winner="treatment")
    ready_experiment(key="sdk-draft")


def units(n: int = 10_000) -> list[tuple[str, dict[str, Any]]]:
    """``n`` unit ids (ASCII, Chinese, emoji, mixed) with varied attribute sets."""
    out: list[tuple[str, dict[str, Any]]] = []
    shapes = ("u-{}", "用户{}", "🎉{}👍", "Zoë-{}", "{}")
    for i in range(n):
        unit_id = shapes[i % len(shapes)].format(i)
        attributes: dict[str, Any] = {"user_id": unit_id}
        country = COUNTRIES[i % len(COUNTRIES)]
        if country is not None:
            attributes["country"] = country
        attributes["app_version"] = ("2.9.1", "3.0.0", "3.10.2")[i % 3]
        if i % 7:
            attributes["account_id"] = f"acct-{i % 997}"
        out.append((unit_id, attributes))
    for unit in [*FORCED_UNITS, "u-9"]:
        out.append((unit, {"user_id": unit, "country": "CN", "account_id": "acct-1"}))
    return out
