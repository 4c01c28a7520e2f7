"""Two health signals on the report and in the results API: metrics whose event values were
beyond the accepted range (issue 15) and client exposures rejected (issue 16)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from analysis.selectors import snapshot_latest, snapshot_results
from analysis.services.snapshots import experiment_refresh
from core.actors import Actor
from experiments.services.lifecycle import experiment_transition
from tests.analysis.helpers import T0, Data, experiment_with, metric
from tests.console.helpers import client_as

H = dt.timedelta(hours=1)
AS_OF = T0 + 10 * H


@pytest.fixture
def huge(db: None):
    """Revenue of 1e300 (beyond the accepted +-1e100) for 3 units stored around ingestion."""
    exp = experiment_with(
        [(metric("paid"), "primary"), (metric("arpu", "mean", value_field="revenue"), "secondary")],
        key="huge-values",
    )
    d = Data(exp)
    for i in range(60):
        unit = f"h{i}"
        d.expose(unit, ("control", "treatment")[i % 2], T0)
        if i % 3 == 0:
            d.event(unit, T0 + H, value=1e300 if i in (0, 3, 6) else 20.0)
    d.save()
    experiment_refresh(experiment=exp, as_of=AS_OF)
    return exp


def test_results_api__values_out_of_range__metric_status_units_and_health(huge, viewer) -> None:
    body = viewer.get(f"/api/v1/experiments/{huge.key}/results").json()
    metrics = {m["metric"]: m for m in body["metrics"]}
    assert (metrics["arpu"]["status"], metrics["arpu"]["out_of_range_units"]) == (
        "values_out_of_range",
        3,
    )
    assert (metrics["paid"]["status"], metrics["paid"]["out_of_range_units"]) == ("ok", 0)
    (check,) = [h for h in body["health"] if h["check"] == "values_out_of_range"]
    assert check["severity"] == "warning"
    assert check["condition"] == "values_out_of_range:arpu"
    assert check["message"].startswith("arpu: 3 units had values beyond the accepted range")
    assert (check["code"], check["params"]) == (
        "values_out_of_range",
        {"metric": "arpu", "name": "arpu", "units": 3},
    )


def test_report__values_out_of_range__marker_on_the_metric_row_and_health_warning(huge) -> None:
    html = client_as("viewer").get(f"/experiments/{huge.key}/results/").content.decode()
    marker = "3 units had values beyond the accepted range; counted at the limit"
    assert html.count(marker) == 1
    table = html[html.index('id="table-secondary"') :]
    row = table[table.index("<tbody>") :]
    assert marker in row[: row.index("</tr>")]  # on arpu's row, in the secondary table
    health = html[html.index('class="messages health"') :]
    assert "arpu: 3 units had values beyond the accepted range (±1e100)" in health
    # Means of values counted at the limit are written with an exponent, not 98 digits.
    tables = html[html.index('id="table-primary"') : html.index('id="metric-detail"')]
    # Means, effects, the rows' full figures and the axis ticks.
    assert not re.search(r"[0-9]{16}", tables)
    mean = (
        next(
            m
            for m in snapshot_results(snapshot=snapshot_latest(experiment=huge)).metrics
            if m.metric == "arpu"
        )
        .variants[0]
        .mean
    )
    assert f"{mean:.4g}" in row[: row.index("</tr>")]


def _post(client, items):
    return client.post("/api/v1/exposures", {"exposures": items}, format="json").json()


def test_report_and_api__client_exposures_rejected__warning_with_reasons_and_counts(
    app_client, viewer, django_capture_on_commit_callbacks
) -> None:
    exp = experiment_with([(metric("paid"), "primary")], key="sdk-checkout")
    # Each unit reported in both variants: the one it does not hash to is rejected.
    items = [
        {"unit_id": f"s{i}", "experiment": exp.key, "variant": variant}
        for i in range(5)
        for variant in ("control", "treatment")
    ]
    answer = _post(app_client, items)
    assert (answer["accepted"], len(answer["rejected"])) == (5, 5)
    experiment_refresh(experiment=exp)
    with django_capture_on_commit_callbacks(execute=True):  # the definitions version bump
        experiment_transition(actor=Actor.system("test"), experiment=exp, action="pause")
    answer = _post(app_client, items[:2])
    assert [r["reason"].split(":")[0] for r in answer["rejected"]] == ["not_running"] * 2

    body = viewer.get(f"/api/v1/experiments/{exp.key}/results").json()
    assert body["client_exposure_rejections"] == {"variant_mismatch": 5, "not_running": 2}

    html = client_as("viewer").get(f"/experiments/{exp.key}/results/").content.decode()
    health = html[html.index('class="messages health"') :]
    assert "Client exposures rejected in this phase: 7." in health
    assert (
        '<span class="rejection" data-reason="variant_mismatch">the unit does not hash to the '
        "reported variant: 5</span>" in health
    )
    assert (
        '<span class="rejection" data-reason="not_running">the experiment was not running: 2</span>'
        in health
    )


def test_report_and_api__no_client_rejections__no_warning(huge, viewer) -> None:
    body = viewer.get(f"/api/v1/experiments/{huge.key}/results").json()
    assert body["client_exposure_rejections"] == {}
    html = client_as("viewer").get(f"/experiments/{huge.key}/results/").content.decode()
    assert "Client exposures rejected" not in html
