"""The guardrail circuit breaker: the always-valid harm rule against a computation from raw
data, the pause with its audit entry and one notification, resuming, and the whole path
through the public APIs."""

from __future__ import annotations

import datetime as dt
import math
import uuid

import numpy as np
import pytest
from django.core import mail
from django.utils import timezone

from analysis.engine.breaker_rule import guardrail_breaker, guardrail_harm
from analysis.engine.contract import Plan, SnapshotInputs
from analysis.engine.stats import MeanStats, ProportionStats
from analysis.models import Notification, ResultSnapshot
from analysis.services.breaker import breaker_condition, snapshot_breaker_apply
from analysis.services.snapshots import experiment_refresh
from analysis.tasks import refresh_experiment
from core.actors import Actor
from experiments.models import AuditLogEntry, Experiment, ExperimentMetric
from experiments.services.lifecycle import experiment_transition
from tests.analysis.helpers import T0, Data, experiment_with, metric
from tests.analysis.reference import plan, synthetic_inputs

H = dt.timedelta(hours=1)
TUNING = 5000  # the confidence sequences' documented default N*


def _cs_critical(n_total: int, alpha: float) -> float:
    """Waudby-Smith et al. (2023): the asymptotic confidence sequence's half-width over SE."""
    r2 = (-2 * math.log(alpha) + math.log(1 - 2 * math.log(alpha))) / TUNING
    a = n_total * r2 + 1
    return math.sqrt(n_total * 2 * a / (n_total**2 * r2) * math.log(math.sqrt(a) / alpha))


def _harmful_from_raw(
    c: np.ndarray,
    t: np.ndarray,
    *,
    threshold: float,
    higher_is_better: bool,
    alpha: float,
    ddof: int,
) -> bool:
    """Is the ratio r0 = 1 ∓ threshold outside the Fieller set on the harmful side, using the
    confidence sequence's critical value, computed from per-unit values."""
    n_c, n_t = len(c), len(t)
    d, num = c.mean(), t.mean()
    v_d, v_n = c.var(ddof=ddof) / n_c, t.var(ddof=ddof) / n_t
    r0 = 1 - threshold if higher_is_better else 1 + threshold
    k = _cs_critical(n_c + n_t, alpha)
    gap = num - r0 * d
    outside = gap * gap > k * k * (v_n + r0 * r0 * v_d)
    return bool(outside and (gap < 0 if higher_is_better else gap > 0))


@pytest.mark.parametrize("seed", range(12))
def test_guardrail_harm__simulated_conversions__matches_fieller_test_on_raw_data(seed) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(800, 6000))
    p_c = float(rng.uniform(0.05, 0.3))
    p_t = p_c * float(rng.uniform(0.6, 1.1))
    threshold = float(rng.choice([0.0, 0.05, 0.1]))
    c = (rng.random(n) < p_c).astype(float)
    t = (rng.random(n) < p_t).astype(float)
    got = guardrail_harm(
        ProportionStats(n, int(c.sum())),
        ProportionStats(n, int(t.sum())),
        higher_is_better=True,
        alpha=0.05,
        threshold=threshold,
    )
    assert got.basis == "relative"
    assert got.harmful == _harmful_from_raw(
        c, t, threshold=threshold, higher_is_better=True, alpha=0.05, ddof=0
    )


@pytest.mark.parametrize("seed", range(8))
def test_guardrail_harm__lower_is_better_revenue__matches_fieller_test_on_raw_data(seed) -> None:
    rng = np.random.default_rng(100 + seed)
    n = 3000
    c = rng.lognormal(2.0, 1.0, n)
    t = rng.lognormal(2.0, 1.0, n) * float(rng.uniform(0.95, 1.35))
    threshold = float(rng.choice([0.0, 0.1]))

    def stats(y: np.ndarray) -> MeanStats:
        return MeanStats(n=len(y), sum=float(y.sum()), sum_squares=float((y * y).sum()))

    got = guardrail_harm(
        stats(c), stats(t), higher_is_better=False, alpha=0.05, threshold=threshold
    )
    assert got.harmful == _harmful_from_raw(
        c, t, threshold=threshold, higher_is_better=False, alpha=0.05, ddof=1
    )


def test_guardrail_harm__fixed_horizon_significant_drop__not_enough_always_valid_evidence() -> None:
    # 10.0% vs 9.0% at 8,000 per arm: Welch p = 0.03, but the confidence sequence, valid at
    # every read, still holds 0.
    control, treatment = ProportionStats(8000, 800), ProportionStats(8000, 720)
    c = np.r_[np.ones(800), np.zeros(7200)]
    t = np.r_[np.ones(720), np.zeros(7280)]
    from scipy import stats as sps

    assert sps.ttest_ind(t, c, equal_var=False).pvalue < 0.05
    got = guardrail_harm(control, treatment, higher_is_better=True, alpha=0.05)
    assert got.harmful is False and got.ci[0] < 0 < got.ci[1]


def test_guardrail_harm__threshold__harm_within_it_tolerated() -> None:
    control, treatment = ProportionStats(20000, 4000), ProportionStats(20000, 3400)  # −15%
    harm = guardrail_harm(control, treatment, higher_is_better=True, alpha=0.05)
    assert harm.harmful and harm.effect == pytest.approx(-0.15)
    tolerated = guardrail_harm(
        control, treatment, higher_is_better=True, alpha=0.05, threshold=0.10
    )
    assert tolerated.harmful is False  # the interval reaches past −10%
    assert guardrail_harm(
        control, treatment, higher_is_better=True, alpha=0.05, threshold=0.02
    ).harmful


def test_guardrail_harm__zero_control_lower_is_better__absolute_interval_trips() -> None:
    # Errors at 0/1,387 in control and 50/1,414 in treatment: no relative effect exists.
    got = guardrail_harm(
        ProportionStats(1387, 0), ProportionStats(1414, 50), higher_is_better=False, alpha=0.05
    )
    assert got.basis == "absolute"
    assert got.effect == pytest.approx(50 / 1414)
    assert got.harmful and got.ci[0] > 0


def test_guardrail_harm__both_arms_zero__never_harmful() -> None:
    got = guardrail_harm(
        ProportionStats(1000, 0), ProportionStats(1000, 0), higher_is_better=False, alpha=0.05
    )
    assert (got.basis, got.harmful) == (None, False)


def _guardrail_inputs(control: tuple[int, int], treatment: tuple[int, int]) -> SnapshotInputs:
    return SnapshotInputs.from_dict(
        synthetic_inputs(
            metrics=[
                {
                    "metric": "conv",
                    "role": "primary",
                    "stats": {
                        "control": ProportionStats(*control),
                        "treatment": ProportionStats(*control),
                    },
                },
                {
                    "metric": "errors",
                    "role": "guardrail",
                    "higher_is_better": False,
                    "stats": {
                        "control": ProportionStats(*control),
                        "treatment": ProportionStats(*treatment),
                    },
                },
            ]
        )
    )


def test_guardrail_breaker__plan_off__no_reading() -> None:
    inputs = _guardrail_inputs((5000, 250), (5000, 500))
    assert guardrail_breaker(inputs=inputs, plan=Plan.from_dict(plan())) is None


def test_guardrail_breaker__plan_on__only_guardrails_read_with_their_thresholds() -> None:
    inputs = _guardrail_inputs((5000, 250), (5000, 500))
    on = Plan.from_dict(plan(guardrail_auto_pause=True, harm_thresholds={"errors": 0.5}))
    reading = guardrail_breaker(inputs=inputs, plan=on)
    (row,) = reading.guardrails
    assert (row.metric, row.variant, row.threshold) == ("errors", "treatment", 0.5)
    assert row.effect == pytest.approx(1.0) and row.harmful  # +100% errors, beyond +50%
    strict = Plan.from_dict(plan(guardrail_auto_pause=True, harm_thresholds={"errors": 2.0}))
    assert guardrail_breaker(inputs=inputs, plan=strict).tripped is False


# --- The service: pause, audit, notify once ---------------------------------------------------


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("pm", email="pm@example.com")


def _harmed_experiment(owner, *, auto_pause: bool = True, threshold: float | None = None):
    """Control errs for 10% of units, treatment for 50%: a guardrail clearly harmed."""
    exp = experiment_with(
        [
            (metric("paid"), "primary"),
            (metric("errors", event="error", higher_is_better=False), "guardrail"),
        ],
        owner=owner,
        guardrail_auto_pause=auto_pause,
    )
    ExperimentMetric.objects.filter(experiment=exp, metric__key="errors").update(
        harm_threshold=threshold
    )
    d = Data(exp)
    for i in range(800):
        variant = "control" if i % 2 else "treatment"
        d.expose(f"u{i}", variant, T0)
        if (variant == "control" and i % 20 == 1) or (variant == "treatment" and i % 4 == 0):
            d.event(f"u{i}", T0 + H, "error")
    d.save()
    return exp


def _refresh(exp, capture, hours: int = 10) -> dict:
    as_of = (T0 + hours * H).isoformat()
    with capture(execute=True):
        return refresh_experiment.delay(exp.id, as_of).get()


def test_refresh__harmful_guardrail_with_auto_pause__paused_by_analysis_with_audit(
    db: None, owner, django_capture_on_commit_callbacks
) -> None:
    exp = _harmed_experiment(owner)
    out = _refresh(exp, django_capture_on_commit_callbacks)
    exp.refresh_from_db()
    assert exp.status == "paused"
    entry = AuditLogEntry.objects.get(experiment=exp, action="pause")
    assert entry.actor_label == "analysis" and entry.actor is None
    assert (entry.before["status"], entry.after["status"]) == ("running", "paused")
    snapshot = ResultSnapshot.objects.get(pk=out["snapshot_id"])
    row = next(r for r in snapshot.results["breaker"]["guardrails"] if r["metric"] == "errors")
    assert row["harmful"] is True and snapshot.results["breaker"]["tripped"] is True
    # The reason names the metric, variant, effect, interval and snapshot.
    assert '"errors"' in entry.message and '"treatment"' in entry.message
    assert f"{row['effect'] * 100:+.1f}%" in entry.message
    assert f"{row['ci'][0] * 100:+.1f}% to {row['ci'][1] * 100:+.1f}%" in entry.message
    assert f"Snapshot {snapshot.id}" in entry.message
    # The owner is told once, by email (the webhook goes out with the same row).
    note = Notification.objects.get(condition="phase-1:breaker:errors:treatment")
    assert note.payload["kind"] == "breaker" and note.payload["snapshot_id"] == snapshot.id
    breaker_mails = [m for m in mail.outbox if "guardrail breaker" in m.subject]
    assert len(breaker_mails) == 1 and breaker_mails[0].to == ["pm@example.com"]


def test_refresh__harmful_guardrail_with_auto_pause_off__keeps_running(
    db: None, owner, django_capture_on_commit_callbacks
) -> None:
    exp = _harmed_experiment(owner, auto_pause=False)
    out = _refresh(exp, django_capture_on_commit_callbacks)
    exp.refresh_from_db()
    assert exp.status == "running"
    assert "breaker" not in ResultSnapshot.objects.get(pk=out["snapshot_id"]).results
    assert not AuditLogEntry.objects.filter(experiment=exp, action="pause").exists()


def test_refresh__harm_within_threshold__keeps_running(
    db: None, owner, django_capture_on_commit_callbacks
) -> None:
    exp = _harmed_experiment(owner, threshold=5.0)  # tolerates up to +500% errors
    out = _refresh(exp, django_capture_on_commit_callbacks)
    exp.refresh_from_db()
    assert exp.status == "running"
    snapshot = ResultSnapshot.objects.get(pk=out["snapshot_id"])
    assert snapshot.plan["harm_thresholds"] == {"errors": 5.0}
    assert snapshot.results["breaker"]["tripped"] is False


def test_refresh__resumed_by_a_person__not_paused_again_for_the_same_guardrail(
    db: None, owner, django_capture_on_commit_callbacks
) -> None:
    exp = _harmed_experiment(owner)
    capture = django_capture_on_commit_callbacks
    _refresh(exp, capture)
    experiment_transition(actor=Actor(label="pm", user=owner), experiment=exp, action="resume")
    _refresh(exp, capture, hours=20)
    exp.refresh_from_db()
    assert exp.status == "running"
    assert AuditLogEntry.objects.filter(experiment=exp, action="pause").count() == 1
    assert Notification.objects.filter(condition__contains=":breaker:").count() == 1


def test_breaker_apply__paused_by_a_person_already__left_alone(
    db: None, owner, django_capture_on_commit_callbacks
) -> None:
    exp = _harmed_experiment(owner)
    snapshot = experiment_refresh(experiment=exp, as_of=T0 + 10 * H)
    experiment_transition(actor=Actor(label="pm", user=owner), experiment=exp, action="pause")
    assert snapshot_breaker_apply(snapshot=snapshot) == []
    assert AuditLogEntry.objects.filter(experiment=exp, action="pause").count() == 1
    assert not Notification.objects.filter(
        condition=breaker_condition(phase=1, metric="errors", variant="treatment")
    ).exists()


# --- Settings through the control-plane API ---------------------------------------------------


def _definition(key: str, **plan_fields) -> dict:
    return {
        "key": key,
        "name": "Breaker",
        "variants": [
            {"key": "control", "is_control": True},
            {"key": "treatment"},
        ],
        "metrics": [
            {"metric": "bk_paid", "role": "primary"},
            {"metric": "bk_errors", "role": "guardrail", "harm_threshold": 0.02},
        ],
        "analysis_plan": {"alpha": 0.05, **plan_fields},
    }


def _library(editor) -> None:
    for body in (
        {"key": "bk_paid", "name": "Paid", "type": "conversion", "event": "purchase"},
        {
            "key": "bk_errors",
            "name": "Errors",
            "type": "conversion",
            "event": "error",
            "higher_is_better": False,
        },
    ):
        assert editor.post("/api/v1/metrics", body, format="json").status_code == 201


def test_experiment_api__breaker_settings__stored_and_served(db: None, editor) -> None:
    _library(editor)
    response = editor.post(
        "/api/v1/experiments", _definition("bk", guardrail_auto_pause=True), format="json"
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["analysis_plan"]["guardrail_auto_pause"] is True
    assert data["metrics"] == [
        {"metric": "bk_paid", "role": "primary"},
        {"metric": "bk_errors", "role": "guardrail", "harm_threshold": 0.02},
    ]
    default = editor.post("/api/v1/experiments", _definition("bk-default"), format="json")
    assert default.json()["analysis_plan"]["guardrail_auto_pause"] is False


@pytest.mark.parametrize(
    ("link", "field"),
    [
        ({"metric": "bk_paid", "role": "primary", "harm_threshold": 0.1}, "harm_threshold"),
        ({"metric": "bk_errors", "role": "guardrail", "harm_threshold": -0.1}, "harm_threshold"),
    ],
)
def test_experiment_api__bad_harm_threshold__400_and_nothing_stored(
    db: None, editor, link, field
) -> None:
    _library(editor)
    body = _definition("bk-bad")
    body["metrics"] = [{"metric": "bk_paid", "role": "primary"}, link]
    if link["role"] == "primary":
        body["metrics"] = [link, {"metric": "bk_errors", "role": "guardrail"}]
    response = editor.post("/api/v1/experiments", body, format="json")
    assert response.status_code == 400
    assert field in str(response.json())
    assert not Experiment.objects.filter(key="bk-bad").exists()


# --- End to end through the public APIs --------------------------------------------------------


def test_end_to_end__auto_pause_and_harmful_treatment__paused_after_refresh_with_audit(
    db: None, editor, app_client, viewer, django_capture_on_commit_callbacks
) -> None:
    capture = django_capture_on_commit_callbacks
    _library(editor)
    key = "bk-e2e"
    body = _definition(key, guardrail_auto_pause=True)
    assert editor.post("/api/v1/experiments", body, format="json").status_code == 201
    with capture(execute=True):
        assert editor.post(f"/api/v1/experiments/{key}/start").status_code == 200

    variants = {}
    for i in range(400):
        unit = f"user-{i}"
        response = app_client.post(
            "/api/v1/assign", {"unit_id": unit, "experiments": [key]}, format="json"
        )
        (a,) = response.json()["assignments"]
        variants[unit] = a["variant"]
    at = timezone.now().isoformat()
    # Errors: 1 unit in 20 in control, 1 in 3 in treatment.
    events = [
        {"event_id": str(uuid.uuid4()), "unit_id": unit, "event": "error", "timestamp": at}
        for i, (unit, variant) in enumerate(variants.items())
        if i % (20 if variant == "control" else 3) == 0
    ]
    response = app_client.post("/api/v1/events", {"events": events}, format="json")
    assert response.status_code == 200 and response.json()["rejected"] == []

    with capture(execute=True):
        assert editor.post(f"/api/v1/experiments/{key}/results/refresh").status_code == 202

    assert viewer.get(f"/api/v1/experiments/{key}").json()["status"] == "paused"
    pause = [
        e for e in viewer.get(f"/api/v1/experiments/{key}/audit").json() if e["action"] == "pause"
    ]
    assert len(pause) == 1 and pause[0]["actor"] == "analysis"
    assert "bk_errors" in pause[0]["message"] and "treatment" in pause[0]["message"]
    results = viewer.get(f"/api/v1/experiments/{key}/results").json()
    assert results["breaker"]["tripped"] is True
    assert f"Snapshot {results['snapshot_id']}" in pause[0]["message"]
    (row,) = results["breaker"]["guardrails"]
    assert (row["metric"], row["variant"], row["threshold"], row["harmful"]) == (
        "bk_errors",
        "treatment",
        0.02,
        True,
    )
    # Paused: every unit now gets the control.
    response = app_client.post(
        "/api/v1/assign", {"unit_id": "user-new", "experiments": [key]}, format="json"
    )
    (a,) = response.json()["assignments"]
    assert a["variant"] == "control"


# --- Every door runs the same refresh ----------------------------------------------------------


def test_analyze_command__harmful_guardrail_with_auto_pause__paused_audited_and_owner_told(
    db: None, owner, django_capture_on_commit_callbacks
) -> None:
    from io import StringIO

    from django.core.management import call_command

    exp = _harmed_experiment(owner)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("analyze", exp.key, stdout=out)
    exp.refresh_from_db()
    assert exp.status == "paused"
    entry = AuditLogEntry.objects.get(experiment=exp, action="pause")
    assert entry.actor_label == "analysis" and entry.actor is None
    snapshot = ResultSnapshot.objects.filter(experiment=exp).latest("id")
    assert f"Snapshot {snapshot.id}" in entry.message
    note = Notification.objects.get(condition="phase-1:breaker:errors:treatment")
    assert note.payload["snapshot_id"] == snapshot.id
    breaker_mails = [m for m in mail.outbox if "guardrail breaker" in m.subject]
    assert len(breaker_mails) == 1 and breaker_mails[0].to == ["pm@example.com"]
