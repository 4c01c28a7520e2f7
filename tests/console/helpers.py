"""Shared helpers of the web page tests: people with roles, snapshots stored like analysis does."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

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


def results_json(*, effect: float = 0.109, outcome: str = "better", health: list | None = None):
    """Results in the documented shape (docs/analysis.md), as a snapshot stores them."""
    return {
        "schema_version": 3,
        "units": {"total": 30512, "by_variant": {"control": 15256, "treatment": 15256}},
        "metrics": [
            {
                "metric": "conversion",
                "name": "Paid conversion",
                "role": "primary",
                "variants": [
                    {"variant": "control", "is_control": True, "units": 15256},
                    {
                        "variant": "treatment",
                        "is_control": False,
                        "units": 15256,
                        "effect": effect,
                        "significant": outcome in ("better", "worse"),
                        "outcome": outcome,
                    },
                ],
            },
            {
                "metric": "revenue",
                "role": "guardrail",
                "variants": [{"variant": "treatment", "is_control": False, "effect": -0.5}],
            },
        ],
        "health": health or [],
    }


def store_snapshot(experiment: Any, results: dict, *, minutes_ago: int = 0) -> Any:
    snapshot_model = apps.get_model("analysis", "ResultSnapshot")
    at = timezone.now() - timezone.timedelta(minutes=minutes_ago)
    return snapshot_model.objects.create(
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
