"""Copy-paste snippets of the Integrate tab: curl for assign and events, the Python client."""

from __future__ import annotations

import json
from typing import Any

from experiments.models import Experiment


def _example_attributes(experiment: Experiment) -> dict[str, Any]:
    """Attribute names the targeting uses, with a placeholder value each."""
    names: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("$and", "$or", "$nor"):
                    for part in value or []:
                        walk(part)
                elif key == "$not":
                    walk(value)
                elif not key.startswith("$") and key not in names:
                    names.append(key)

    walk(experiment.targeting or {})
    attributes: dict[str, Any] = {name: "..." for name in names}
    if experiment.unit_attribute not in ("user_id", "id", ""):
        attributes.setdefault(experiment.unit_attribute, "...")
    return attributes


def integration_snippets(*, experiment: Experiment, base_url: str, events: list[str]) -> dict:
    """The three snippets for ``experiment``, served from ``base_url`` (no trailing slash)."""
    attributes = _example_attributes(experiment)
    assign_body = json.dumps(
        {"unit_id": "user-42", "attributes": attributes, "experiments": [experiment.key]},
        ensure_ascii=False,
    )
    event = events[0] if events else "purchase"
    events_body = json.dumps(
        {
            "events": [
                {
                    "event_id": "7d0c3a52-0b1e-4c1c-9a63-3c2a4f0e9b11",
                    "unit_id": "user-42",
                    "event": event,
                    "timestamp": "2026-11-23T08:00:00+08:00",
                    "value": 29,
                }
            ]
        },
        ensure_ascii=False,
        indent=2,
    )
    curl_assign = (
        'curl -s -H "Authorization: Bearer $VERDICT_APP_KEY" '
        "-H 'Content-Type: application/json' \\\n"
        f"  -d '{assign_body}' \\\n  {base_url}/api/v1/assign"
    )
    curl_events = (
        'curl -s -H "Authorization: Bearer $VERDICT_APP_KEY" '
        "-H 'Content-Type: application/json' \\\n"
        f"  -d '{events_body}' \\\n  {base_url}/api/v1/events"
    )
    python = "\n".join(
        [
            "import os",
            "",
            "from verdict_client import VerdictClient  # clients/python/verdict_client.py",
            "",
            f'verdict = VerdictClient("{base_url}", os.environ["VERDICT_APP_KEY"], timeout=0.3)',
            f'answer = verdict.assign("user-42", {attributes!r}, experiments=["{experiment.key}"])',
            f'assignment = answer["{experiment.key}"]',
            "payload = assignment.payload or {}  # the variant's payload; act on it",
            f'verdict.track("{event}", "user-42", value=29.0)',
            "verdict.close()  # at shutdown: sends what is still buffered",
        ]
    )
    return {"curl_assign": curl_assign, "curl_events": curl_events, "python": python}
