"""The report page (console.report.views): full page, partials, geometry and permissions."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from analysis.engine.charts import LinearScale, shared_domain
from analysis.models import ResultSnapshot
from analysis.selectors import snapshot_results
from analysis.services.snapshots import experiment_refresh
from console.report.rows import BAR_PAD, BAR_WIDTH
from tests.analysis.helpers import T0, Data, experiment_with, metric
from tests.console.helpers import client_as

H = dt.timedelta(hours=1)


@pytest.fixture
def exp(db: None):
    exp = experiment_with(
        [(metric("conv"), "primary"), (metric("spend", "mean", value_field="revenue"), "guardrail")]
    )
    d = Data(exp)
    for i in range(400):
        unit = f"u{i}"
        treated = i % 2 == 1
        attributes = {"platform": "ios" if i % 4 < 2 else "android", "country": "CN"}
        d.expose(unit, "treatment" if treated else "control", T0, attributes=attributes)
        if (treated and i % 3 != 0) or (not treated and i % 5 == 0):
            d.event(unit, T0 + H, value=float(i % 7))
    d.save()
    return exp


def test_report__no_snapshot__page_says_so(exp) -> None:
    response = client_as("viewer").get(f"/experiments/{exp.key}/results/")
    assert response.status_code == 200
    assert "No analysis yet" in response.content.decode()


def test_report__snapshot__header_decision_tables_and_bars(exp) -> None:
    experiment_refresh(experiment=exp, as_of=T0 + 10 * H)
    html = client_as("viewer").get(f"/experiments/{exp.key}/results/").content.decode()
    assert 'id="experiment-header"' in html
    assert 'aria-current="page"' in html and f"/experiments/{exp.key}/results/" in html
    for text in ("Decision", "Notable changes", "Primary", "Guardrails", "Sample ratio (SRM)"):
        assert text in html
    tables = html.split('id="segments"')[0]
    assert tables.count('class="interval-bar tone-') == 2  # the metric tables' bars
    assert "↑ better" in html  # the treatment converts far more: significant, with a word


def test_report__bar_ends__sit_at_interval_bounds_on_the_table_scale(exp) -> None:
    snapshot = experiment_refresh(experiment=exp, as_of=T0 + 10 * H)
    results = snapshot_results(snapshot=snapshot)
    primary = results.primary
    treatment = primary.treatments[0]
    lo, hi = shared_domain([treatment.ci])
    scale = LinearScale(lo, hi, BAR_PAD, BAR_WIDTH - BAR_PAD)
    html = client_as("viewer").get(f"/experiments/{exp.key}/results/").content.decode()
    first = re.search(r'data-x-lo="([-\d.]+)" data-x-hi="([-\d.]+)"', html)
    rect = re.search(r'<rect class="bar" x="([-\d.]+)" y="6" width="([-\d.]+)"', html)
    assert float(first.group(1)) == pytest.approx(scale(treatment.ci[0]))
    assert float(first.group(2)) == pytest.approx(scale(treatment.ci[1]))
    assert float(rect.group(1)) + float(rect.group(2)) == pytest.approx(scale(treatment.ci[1]))


def test_report__htmx_body_partial__only_the_report_body(exp) -> None:
    experiment_refresh(experiment=exp, as_of=T0 + 10 * H)
    response = client_as("viewer").get(
        f"/experiments/{exp.key}/results/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="report-body"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="report-body">')
    assert "<html" not in html and "interval-bar" in html


def test_report__permalink__shows_that_snapshot(exp) -> None:
    old = experiment_refresh(experiment=exp, as_of=T0 + 5 * H)
    experiment_refresh(experiment=exp, as_of=T0 + 10 * H)
    viewer = client_as("viewer")
    html = viewer.get(f"/experiments/{exp.key}/results/{old.pk}/").content.decode()
    assert f'value="/experiments/{exp.key}/results/{old.pk}/" selected' in html
    assert viewer.get(f"/experiments/{exp.key}/results/999999/").status_code == 404
    printed = viewer.get(f"/experiments/{exp.key}/results/{old.pk}/print/")
    assert printed.status_code == 200 and "interval-bar" in printed.content.decode()


def test_report__viewer_refresh__refused_403(exp) -> None:
    response = client_as("viewer").post(f"/experiments/{exp.key}/results/refresh/")
    assert response.status_code == 403
    assert not ResultSnapshot.objects.filter(experiment=exp).exists()


def test_report__viewer__sees_no_refresh_button(exp) -> None:
    html = client_as("viewer").get(f"/experiments/{exp.key}/results/").content.decode()
    assert "Refresh results" not in html
    assert (
        "Refresh results"
        in client_as("editor").get(f"/experiments/{exp.key}/results/").content.decode()
    )


def test_report__editor_refresh_htmx__status_partial_then_done(exp) -> None:
    editor = client_as("editor")
    response = editor.post(
        f"/experiments/{exp.key}/results/refresh/",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="refresh-status",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="refresh-status"' in html and "<html" not in html
    status = editor.get(
        f"/experiments/{exp.key}/results/status/?since=0",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="refresh-status",
    ).content.decode()
    # With no broker configured the refresh runs after commit, in this process.
    assert "New results are ready" in status or "Refreshing" in status


def test_report__editor_refresh_without_js__redirects_to_report(exp) -> None:
    response = client_as("editor").post(f"/experiments/{exp.key}/results/refresh/")
    assert response.status_code == 302
    assert response["Location"] == f"/experiments/{exp.key}/results/"


def test_report__failed_refresh__says_so_and_keeps_last_good(exp) -> None:
    from experiments.models import Metric

    good = experiment_refresh(experiment=exp, as_of=T0 + 10 * H)
    exp.metric_links.create(
        metric=Metric.objects.create(key="broken", name="b", type="ratio"), role="secondary"
    )
    with pytest.raises(Exception):  # noqa: B017 - the service raises RefreshFailed
        experiment_refresh(experiment=exp, as_of=T0 + 20 * H)
    html = client_as("viewer").get(f"/experiments/{exp.key}/results/").content.decode()
    assert "The last refresh failed" in html
    assert f"/results/{good.pk}/" in html


def test_experiment_page__results_tab__links_to_report(exp) -> None:
    html = client_as("viewer").get(f"/experiments/{exp.key}/").content.decode()
    assert f'href="/experiments/{exp.key}/results/"' in html


def test_report__segments__tab_per_attribute_with_exploratory_note(exp) -> None:
    experiment_refresh(experiment=exp, as_of=T0 + 10 * H)
    viewer = client_as("viewer")
    html = viewer.get(f"/experiments/{exp.key}/results/").content.decode()
    assert "Segment results are exploratory" in html
    assert "?segment=platform" in html and "?segment=country" in html
    partial = viewer.get(
        f"/experiments/{exp.key}/results/?segment=platform",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="segments",
    ).content.decode()
    assert partial.lstrip().startswith('<section id="segments"')
    assert "platform = ios" in partial and "platform = android" in partial
    assert "country = CN" not in partial


def test_report__metric_detail__effect_line_band_and_daily_units(exp) -> None:
    for hours in (5, 10, 20):
        experiment_refresh(experiment=exp, as_of=T0 + hours * H)
    viewer = client_as("viewer")
    url = f"/experiments/{exp.key}/results/metrics/conv/"
    assert url in viewer.get(f"/experiments/{exp.key}/results/").content.decode()
    html = viewer.get(url).content.decode()
    assert "<html" in html and "Effect over time" in html
    assert html.count('<circle class="point') == 3
    assert re.search(r'<path class="band band-1" d="M[\d., L]+Z"', html)
    partial = viewer.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="metric-detail")
    body = partial.content.decode()
    assert body.lstrip().startswith('<section id="metric-detail"')
    assert "<td>200</td>" in body  # 200 units a variant, all exposed on one day
    assert '<th scope="col">Treatment</th>' in body  # the variant's name, not its key
    assert viewer.get(f"/experiments/{exp.key}/results/metrics/nope/").status_code == 404


def test_report__metric_detail__plan_change_marked(exp) -> None:
    experiment_refresh(experiment=exp, as_of=T0 + 5 * H)
    exp.alpha = 0.01
    exp.save()
    experiment_refresh(experiment=exp, as_of=T0 + 10 * H)
    html = client_as("viewer").get(f"/experiments/{exp.key}/results/metrics/conv/").content
    assert b'class="plan-change"' in html and b"plan changed" in html


def test_report__progress__days_left_at_last_week_traffic(exp) -> None:
    exp.mde = 0.5
    exp.save()
    experiment_refresh(experiment=exp, as_of=T0 + 10 * H)
    results = snapshot_results(snapshot=ResultSnapshot.objects.get(experiment=exp))
    power = results.power
    html = client_as("viewer").get(f"/experiments/{exp.key}/results/").content.decode()
    assert f"{power.units_per_arm:,} of {power.required_units_per_arm:,} units per variant" in html
    # 400 units in the last 7 days over 2 variants: 200/7 a variant a day.
    days = (power.required_units_per_arm - power.units_per_arm) / (400 / 7 / 2)
    assert f"about {days:.0f} days left at the last 7 days" in html


def test_report__rows__full_figures_in_title_and_focus_text(exp) -> None:
    experiment_refresh(experiment=exp, as_of=T0 + 10 * H)
    html = client_as("viewer").get(f"/experiments/{exp.key}/results/").content.decode()
    row = re.search(r'<tr title="(conv, Treatment vs control:[^"]+)" tabindex="0"', html)
    assert row and "relative effect" in row.group(1) and "interval" in row.group(1)
    assert f'<small class="row-figures">{row.group(1)}</small>' in html


def test_report__holm_plan__p_values_labelled_adjusted(db: None) -> None:
    exp = experiment_with(
        [(metric("conv"), "primary"), (metric("conv2", event="signup"), "secondary")],
        variants=("control", "a", "b"),
        correction="holm",
    )
    d = Data(exp)
    for i in range(300):
        d.expose(f"u{i}", ("control", "a", "b")[i % 3], T0)
        if i % 4 == 0:
            d.event(f"u{i}", T0 + H, value=1.0)
    d.save()
    snapshot = experiment_refresh(experiment=exp, as_of=T0 + 10 * H)
    assert any(m.corrected for m in snapshot_results(snapshot=snapshot).metrics)
    html = client_as("viewer").get(f"/experiments/{exp.key}/results/").content.decode()
    assert "p-value, adjusted (Holm)" in html


def test_report__paused_by_the_breaker__says_why_days_stop_at_the_pause_no_projection(exp) -> None:
    from django.utils import timezone

    from core.actors import Actor
    from experiments.models import AuditLogEntry, Experiment
    from experiments.services.lifecycle import experiment_transition

    exp.mde = 0.5
    exp.save()
    experiment_refresh(experiment=exp, as_of=T0 + 10 * H)
    now = timezone.now()
    Experiment.objects.filter(pk=exp.pk).update(started_at=now - dt.timedelta(days=21))
    exp.refresh_from_db()
    experiment_transition(
        actor=Actor.system("analysis"),
        experiment=exp,
        action="pause",
        params={"reason": "Guardrail spend worse (snapshot 1)."},
    )
    AuditLogEntry.objects.filter(experiment=exp, action="pause").update(
        at=now - dt.timedelta(days=18)
    )
    viewer = client_as("viewer")
    html = viewer.get(f"/experiments/{exp.key}/results/").content.decode()
    assert "Paused by the guardrail circuit breaker" in html
    assert "Guardrail spend worse (snapshot 1)." in html
    assert "<dt>Days running</dt><dd>3</dd>" in html
    assert "days left at the last 7 days" not in html
    listing = viewer.get("/experiments/").content.decode()
    assert "3 days running" in listing
