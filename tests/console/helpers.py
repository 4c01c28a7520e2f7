"""Shared helpers of the console tests: people with roles, snapshots stored like analysis does."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from analysis.engine.contract import (
    RESULTS_SCHEMA_VERSION,
    Decision,
    Excluded,
    Freshness,
    HealthCheck,
    MetricResult,
    Plan,
    PowerResult,
    Results,
    SrmResult,
    UnitsResult,
    VariantResult,
)
from analysis.models import ResultSnapshot

PASSWORD = "web-test-password"


def person(username: str, role: str) -> Any:
    user = get_user_model().objects.create_user(username, password=PASSWORD)
    group, _ = Group.objects.get_or_create(name=role)
    user.groups.add(group)
    return user


def client_as(role: str, username: str | None = None) -> Client:
    client = Client()
    client.force_login(person(username or f"{role}-1", role))
    return client


def results_json(
    *,
    effect: float = 0.109,
    outcome: str = "better",
    health: list[dict[str, Any]] | None = None,
    variants: tuple[str, str] = ("control", "treatment"),
) -> dict[str, Any]:
    """Results of the typed contract as a snapshot stores them (``Results.to_dict()``): 30,512
    units split evenly, a primary conversion metric whose treatment has ``effect`` and
    ``outcome``, a guardrail, and ``health`` checks given as ``check``, ``severity``, ``code``
    and ``params`` (see ``multiple_exposures``)."""
    control, treatment = variants
    split = {control: 15256, treatment: 15256}
    significant = outcome in ("better", "worse")

    def rows(effect: float, outcome: str, significant: bool) -> tuple[VariantResult, ...]:
        return (
            VariantResult(variant=control, name=control, is_control=True, units=15256, mean=0.1),
            VariantResult(
                variant=treatment,
                name=treatment,
                is_control=False,
                units=15256,
                mean=0.1 * (1 + effect),
                effect=effect,
                significant=significant,
                outcome=outcome,
                status="ok",
            ),
        )

    def metric(key: str, name: str, role: str, variants: tuple[VariantResult, ...]):
        return MetricResult(
            metric=key,
            name=name,
            type="conversion",
            role=role,
            higher_is_better=True,
            corrected=False,
            cuped=False,
            winsorized_at=None,
            variants=variants,
        )

    now = timezone.now().isoformat()
    return Results(
        schema_version=RESULTS_SCHEMA_VERSION,
        experiment="test",
        phase=1,
        status="ok",
        computed_at=now,
        as_of=now,
        engine_version="test",
        plan=Plan(
            alpha=0.05,
            method="frequentist",
            correction=None,
            cuped=False,
            mde=None,
            planned_sample_size=None,
            planned_duration_days=None,
        ),
        units=UnitsResult(total=30512, by_variant=split, excluded=Excluded(0, 0, 0)),
        events=0,
        freshness=Freshness(last_exposure_at=None, last_event_at=None),
        srm=SrmResult(
            p_value=1.0, mismatch=False, statistic=0.0, observed=split, expected=dict(split)
        ),
        power=PowerResult(
            metric="conversion",
            planned_mde=None,
            power=0.8,
            units_per_arm=15256,
            required_units_per_arm=None,
            current_mde=None,
            planned_sample_reached=None,
        ),
        metrics=(
            metric("conversion", "Paid conversion", "primary", rows(effect, outcome, significant)),
            metric("revenue", "Revenue", "guardrail", rows(-0.5, "not_significant", False)),
        ),
        segments=(),
        decision=Decision.from_dict({"recommendation": "keep_running", "variant": None}),
        health=tuple(
            HealthCheck.from_dict({"condition": h["check"], "message": "", **h})
            for h in health or []
        ),
    ).to_dict()


def multiple_exposures(units: int = 12, *, severity: str = "warning") -> dict[str, Any]:
    """A health check as the engine codes it: units that saw more than one variant."""
    return {
        "check": "multiple_exposures",
        "severity": severity,
        "code": "multiple_exposures",
        "params": {"units": units, "share": units / 30512},
    }


def store_snapshot(experiment: Any, results: dict, *, minutes_ago: int = 0) -> ResultSnapshot:
    at = timezone.now() - timezone.timedelta(minutes=minutes_ago)
    return ResultSnapshot.objects.create(
        experiment=experiment,
        phase=experiment.phase,
        status="ok",
        as_of=at,
        computed_at=at,
        results=results,
    )


def has_field_error(html: str, field_id: str) -> bool:
    """Whether the field with this id is marked as having an error (its message beside it)."""
    import re

    return re.search(rf'class="field has-error">\s*<label for="{field_id}"', html) is not None
