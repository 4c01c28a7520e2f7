"""The report's database queries do not grow with the number of metrics (issue 13)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analysis.services.snapshots import experiment_refresh
from tests.analysis.helpers import T0, Data, experiment_with, metric
from tests.console.helpers import client_as

H = dt.timedelta(hours=1)


def _experiment(n_metrics: int, key: str):
    links = [(metric(f"{key}-m0"), "primary")]
    for i in range(1, n_metrics):
        role = "guardrail" if i % 4 == 0 else "secondary"
        links.append((metric(f"{key}-m{i}", "mean", value_field="revenue"), role))
    exp = experiment_with(links, variants=("control", "a", "b"), key=key)
    d = Data(exp)
    for i in range(120):
        unit = f"{key}-u{i}"
        d.expose(unit, ("control", "a", "b")[i % 3], T0, attributes={"platform": f"p{i % 4}"})
        if i % 2:
            d.event(unit, T0 + H, value=float(i % 9))
    d.save()
    experiment_refresh(experiment=exp, as_of=T0 + 10 * H)
    experiment_refresh(experiment=exp, as_of=T0 + 11 * H)
    return exp


def _count(client, url: str, **headers: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200
    return len(queries)


HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("", {}),
        ("", HTMX | {"HTTP_HX_TARGET": "tab-panel"}),
        ("", HTMX | {"HTTP_HX_TARGET": "report-body"}),
        ("?segment=platform", HTMX | {"HTTP_HX_TARGET": "segments"}),
    ],
    ids=["full-page", "htmx-tab-panel", "htmx-report-body", "htmx-segments"],
)
def test_report__2_vs_10_metrics__same_query_count(db: None, path: str, headers: dict) -> None:
    small, large = _experiment(2, "q-small"), _experiment(10, "q-large")
    client = client_as("viewer")
    client.get(f"/experiments/{small.key}/results/")  # sessions, user and groups warmed alike
    counts = [
        _count(client, f"/experiments/{exp.key}/results/{path}", **headers)
        for exp in (small, large)
    ]
    assert counts[0] == counts[1], counts


def test_report__permalink_and_print__same_query_count(db: None) -> None:
    small, large = _experiment(2, "p-small"), _experiment(10, "p-large")
    client = client_as("viewer")
    client.get(f"/experiments/{small.key}/results/")
    for view in ("", "print/"):
        counts = []
        for exp in (small, large):
            snapshot = exp.snapshots.filter(status="ok").latest("computed_at")
            counts.append(_count(client, f"/experiments/{exp.key}/results/{snapshot.pk}/{view}"))
        assert counts[0] == counts[1], (view, counts)


def test_report__long_history__results_loaded_for_one_snapshot_only(db: None) -> None:
    exp = _experiment(3, "h-long")
    for hours in range(12, 20):
        experiment_refresh(experiment=exp, as_of=T0 + hours * H)
    client = client_as("viewer")
    with CaptureQueriesContext(connection) as queries:
        html = client.get(f"/experiments/{exp.key}/results/").content.decode()
    results_loads = [q for q in queries if '"analysis_resultsnapshot"."results"' in q["sql"]]
    assert len(results_loads) == 1, [q["sql"][:200] for q in results_loads]
    picker = re.findall(rf'<option value="/experiments/{exp.key}/results/[0-9]+/"', html)
    assert len(picker) == 10  # the picker still lists every snapshot
