"""A running Verdict (pytest-django's live server) serving the SDK scenario, with the
reference answers of ``POST /api/v1/assign`` (track false) for every unit."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from core.api_keys import api_key_create

from .scenario import KEYS, build_scenario, units

Answer = tuple[Any, bool]


@dataclass
class Verdict:
    url: str
    client_key: str
    app_key: str
    units: list[tuple[str, dict[str, Any]]]
    reference: dict[str, dict[str, Answer]]


def assign_reference(app_key: str, population: list[tuple[str, dict[str, Any]]]) -> dict:
    """What POST /api/v1/assign answers (payload, in_experiment) for each unit and key."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {app_key}")
    reference: dict[str, dict[str, Answer]] = {}
    for unit_id, attributes in population:
        body = {
            "unit_id": unit_id,
            "attributes": attributes,
            "experiments": list(KEYS),
            "track": False,
        }
        response = client.post("/api/v1/assign", body, format="json")
        assert response.status_code == 200, response.content
        reference[unit_id] = {
            a["experiment"]: (a["payload"], a["in_experiment"])
            for a in response.json()["assignments"]
        }
    return reference


# Salts default to the experiment key and layer slices are allocated in order, so every build of
# the scenario hashes alike: the reference is computed once per test session.
_reference: dict[str, dict[str, Answer]] = {}


@pytest.fixture
def verdict(live_server: Any, transactional_db: None) -> Verdict:
    build_scenario()
    client_key = api_key_create(name="sdk-test-client", role="client")[1]
    app_key = api_key_create(name="sdk-test-app", role="app")[1]
    population = units(int(os.environ.get("SDK_UNITS", "10000")))
    return Verdict(
        url=live_server.url,
        client_key=client_key,
        app_key=app_key,
        units=population,
        reference=_reference
        or _reference.update(assign_reference(app_key, population))
        or _reference,
    )
