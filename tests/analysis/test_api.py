"""Result endpoints: results, history, CSV, refresh (202), 404s and permissions."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from analysis.models import ResultSnapshot
from analysis.services.snapshots import experiment_refresh
from experiments.models import Metric
from tests.analysis.helpers import T0, Data, experiment_with, metric

H = dt.timedelta(hours=1)


@pytest.fixture
def exp(db: None):
    exp = experiment_with(
        [(metric("conv"), "primary"), (metric("arpu", "mean", value_field="revenue"), "secondary")]
    )
    d = Data(exp)
    for i in range(40):
        unit = f"u{i}"
        d.expose(unit, "treatment" if i % 2 else "control", T0)
        if i % 3 == 0:
            d.event(unit, T0 + H, value=float(i))
    d.save()
    return exp


def test_results__latest_snapshot__served(exp, viewer) -> None:
    experiment_refresh(experiment=exp, as_of=T0 + 10 * H)
    newest = experiment_refresh(experiment=exp, as_of=T0 + 20 * H)
    response = viewer.get(f"/api/v1/experiments/{exp.key}/results")
    assert response.status_code == 200
    body = response.json()
    assert body["snapshot_id"] == newest.id
    assert body["experiment"] == exp.key
    assert body["as_of"] == (T0 + 20 * H).isoformat()
    assert body["metrics"][0]["variants"][1]["variant"] == "treatment"
    assert body["last_refresh"] is None


def test_results__after_failed_refresh__last_good_served_with_failure_noted(exp, viewer) -> None:
    good = experiment_refresh(experiment=exp, as_of=T0 + 10 * H)
    exp.metric_links.create(
        metric=Metric.objects.create(key="broken", name="b", type="ratio"), role="secondary"
    )
    with pytest.raises(Exception):  # noqa: B017 - the service raises RefreshFailed
        experiment_refresh(experiment=exp, as_of=T0 + 20 * H)
    body = viewer.get(f"/api/v1/experiments/{exp.key}/results").json()
    assert body["snapshot_id"] == good.id
    assert body["last_refresh"]["status"] == "failed"


def test_results__no_snapshot_yet__404_with_hint(exp, viewer) -> None:
    response = viewer.get(f"/api/v1/experiments/{exp.key}/results")
    assert response.status_code == 404
    assert "refresh" in response.json()["detail"]


def test_results__unknown_key__404(viewer) -> None:
    for path in ("results", "results/history", "results.csv"):
        assert viewer.get(f"/api/v1/experiments/nope/{path}").status_code == 404
    assert viewer.post("/api/v1/experiments/nope/results/refresh").status_code in (403, 404)


def test_history__several_snapshots__newest_first_with_effects(exp, viewer) -> None:
    for hours in (10, 20, 30):
        experiment_refresh(experiment=exp, as_of=T0 + hours * H)
    body = viewer.get(f"/api/v1/experiments/{exp.key}/results/history?limit=2").json()
    assert [s["as_of"] for s in body["snapshots"]] == [
        (T0 + 30 * H).isoformat(),
        (T0 + 20 * H).isoformat(),
    ]
    treatment = body["snapshots"][0]["metrics"][0]["variants"][1]
    assert set(treatment) >= {"variant", "effect", "ci", "p_value", "significant"}
    bad = viewer.get(f"/api/v1/experiments/{exp.key}/results/history?limit=zero")
    assert bad.status_code == 400 and "limit" in bad.json()
    schema = viewer.get("/api/schema/?format=json").json()
    documented = schema["paths"]["/api/v1/experiments/{key}/results/history"]["get"]["responses"]
    assert "400" in documented


def test_csv__latest_snapshot__one_row_per_metric_and_variant(exp, viewer) -> None:
    snapshot = experiment_refresh(experiment=exp, as_of=T0 + 10 * H)
    response = viewer.get(f"/api/v1/experiments/{exp.key}/results.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["metric"], r["variant"]) for r in rows] == [
        ("conv", "control"),
        ("conv", "treatment"),
        ("arpu", "control"),
        ("arpu", "treatment"),
    ]
    treatment = snapshot.results["metrics"][0]["variants"][1]
    assert float(rows[1]["effect"]) == pytest.approx(treatment["effect"])
    assert float(rows[1]["ci_low"]) == pytest.approx(treatment["ci"][0])


def test_refresh__editor_without_broker__202_and_snapshot_computed_in_process(
    exp, editor, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = editor.post(f"/api/v1/experiments/{exp.key}/results/refresh")
    assert response.status_code == 202
    assert response.json() == {"experiment": exp.key, "status": "queued"}
    assert ResultSnapshot.objects.filter(experiment=exp, status="ok").count() == 1
    assert editor.get(f"/api/v1/experiments/{exp.key}/results").status_code == 200


def test_permissions__roles__viewer_reads_only_app_and_anonymous_refused(
    exp, viewer, app_client, client_for
) -> None:
    experiment_refresh(experiment=exp, as_of=T0 + 10 * H)
    url = f"/api/v1/experiments/{exp.key}/results"
    assert client_for(None).get(url).status_code == 401
    assert app_client.get(url).status_code == 403
    assert viewer.post(f"{url}/refresh").status_code == 403
    assert app_client.post(f"{url}/refresh").status_code == 403
    assert client_for(None).post(f"{url}/refresh").status_code == 401
