"""Personal data: deleting a unit's data (API, audit, recompute) and event retention."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from analysis.models import ResultSnapshot
from analysis.services.retention import events_purge
from analysis.services.snapshots import experiment_refresh, snapshot_recompute
from analysis.tasks import purge_events
from assignment.models import Event, Exposure
from core.actors import Actor
from experiments.models import AuditLogEntry, Experiment, Override
from experiments.services.lifecycle import experiment_transition
from tests.analysis.helpers import Data, experiment_with, metric

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)
H = dt.timedelta(hours=1)


def _experiment(key: str = "price", **fields):
    return experiment_with([(metric("paid", window_hours=168), "primary")], key=key, **fields)


def _populated(exp, t0: dt.datetime, units: int = 6) -> Data:
    d = Data(exp)
    for i in range(units):
        d.expose(f"u{i}", "treatment" if i % 2 else "control", t0)
        d.event(f"u{i}", t0 + H)
    return d.save()


# Deleting a unit's data -------------------------------------------------------------------


def test_unit_delete__admin_key__exposures_events_overrides_of_that_unit_only_gone(client_for):
    admin = client_for("admin")
    exp = _experiment()
    t0 = timezone.now() - 2 * DAY
    _populated(exp, t0)
    Data(exp).event("u1", t0 + 2 * H, name="app_open").event("u1/x", t0).save()
    Override.objects.create(experiment=exp, unit_id="u1", variant=exp.variants.get(key="control"))

    response = admin.delete("/api/v1/units/u1")

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "unit_id": "u1",
        "unit_hash": hashlib.sha256(b"u1").hexdigest(),
        "exposures": 1,
        "events": 2,
        "overrides": 1,
        "audit_entries": 0,
        "experiments": ["price"],
    }
    assert not Exposure.objects.filter(unit_id="u1").exists()
    assert not Event.objects.filter(unit_id="u1").exists()
    assert not Override.objects.filter(unit_id="u1").exists()
    assert Exposure.objects.count() == 5
    assert Event.objects.filter(unit_id="u1/x").count() == 1


def test_unit_delete__any_deletion__audited_by_hash_without_the_unit_id(client_for):
    admin = client_for("admin")
    exp = _experiment()
    _populated(exp, timezone.now() - DAY)

    admin.delete("/api/v1/units/u3")

    entries = AuditLogEntry.objects.filter(action="unit_data_delete").order_by("id")
    digest = hashlib.sha256(b"u3").hexdigest()
    assert [(e.object_type, e.object_key, e.experiment_id) for e in entries] == [
        ("unit", digest, None),
        ("unit", digest, exp.id),
    ]
    assert entries[0].actor_label == "api-key:test-admin"
    assert entries[0].after == {
        "exposures": 1,
        "events": 1,
        "overrides": 0,
        "audit_entries": 0,
        "experiments": ["price"],
    }
    assert all("u3" not in str(e.after) + e.message for e in entries)
    audit = client_for("viewer").get("/api/v1/experiments/price/audit").json()
    assert "unit_data_delete" in str(audit)


def test_unit_delete__unit_named_in_override_audit__entries_keep_only_its_hash(client_for):
    admin = client_for("admin")
    _experiment(key="qa", start=False)
    body = {"unit_id": "alice@example.com", "variant": "treatment"}
    assert admin.post("/api/v1/experiments/qa/overrides", body, format="json").status_code == 201
    other = {"unit_id": "bob", "variant": "control"}
    assert admin.post("/api/v1/experiments/qa/overrides", other, format="json").status_code == 201

    response = admin.delete("/api/v1/units/alice@example.com")

    assert response.json()["audit_entries"] == 1
    assert response.json()["overrides"] == 1
    logged = str(list(AuditLogEntry.objects.values_list("before", "after", "message")))
    assert "alice@example.com" not in logged
    digest = hashlib.sha256(b"alice@example.com").hexdigest()
    assert f"sha256:{digest}" in logged
    assert "'bob'" in logged


@pytest.mark.parametrize(
    ("role", "code"), [(None, 401), ("viewer", 403), ("editor", 403), ("app", 403)]
)
def test_unit_delete__not_an_admin__refused_and_nothing_deleted(client_for, role, code):
    exp = _experiment()
    _populated(exp, timezone.now() - DAY)

    response = client_for(role).delete("/api/v1/units/u1")

    assert response.status_code == code
    assert "detail" in response.json()
    assert Exposure.objects.filter(unit_id="u1").exists()
    assert Event.objects.filter(unit_id="u1").exists()
    assert not AuditLogEntry.objects.filter(action="unit_data_delete").exists()


def test_unit_delete__admin_session__allowed(client_for, django_user_model):
    from rest_framework.test import APIClient

    exp = _experiment()
    _populated(exp, timezone.now() - DAY)
    client = APIClient()
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "pw"))

    response = client.delete("/api/v1/units/u2")

    assert response.status_code == 200
    assert response.json()["exposures"] == 1
    assert AuditLogEntry.objects.filter(action="unit_data_delete").first().actor_label == "root"


def test_unit_delete__repeated_or_unknown_unit__zeros_and_still_audited(client_for):
    admin = client_for("admin")
    exp = _experiment()
    _populated(exp, timezone.now() - DAY)
    assert admin.delete("/api/v1/units/u1").json()["exposures"] == 1

    again = admin.delete("/api/v1/units/u1")

    assert again.status_code == 200
    assert again.json()["exposures"] == again.json()["events"] == 0
    assert again.json()["experiments"] == []
    assert AuditLogEntry.objects.filter(action="unit_data_delete", experiment=None).count() == 2


def test_unit_delete__unit_id_with_slash_and_unicode__deleted(client_for):
    admin = client_for("admin")
    exp = _experiment()
    Data(exp).expose("team/张三", "control", timezone.now() - DAY).save()

    response = admin.delete("/api/v1/units/team/张三")

    assert response.status_code == 200
    assert response.json()["unit_id"] == "team/张三"
    assert not Exposure.objects.exists()


def test_unit_delete__unit_id_with_line_break__deleted(client_for):
    exp = _experiment()
    Data(exp).expose("line\nbreak", "control", timezone.now() - DAY).save()

    response = client_for("admin").delete("/api/v1/units/line%0Abreak")

    assert response.status_code == 200
    assert response.json()["exposures"] == 1


def test_unit_delete__unit_id_too_long__400_naming_the_field(client_for):
    response = client_for("admin").delete("/api/v1/units/" + "a" * 257)

    assert response.status_code == 400
    assert "unit_id" in response.json()
    assert not AuditLogEntry.objects.exists()


def test_unit_delete__then_refresh__snapshot_recomputed_without_the_unit(client_for):
    exp = _experiment()
    t0 = timezone.now() - 3 * DAY
    _populated(exp, t0, units=8)
    before = experiment_refresh(experiment=exp, as_of=t0 + DAY)
    assert sum(before.inputs["units"].values()) == 8

    client_for("admin").delete("/api/v1/units/u0")
    after = experiment_refresh(experiment=exp, as_of=t0 + DAY + H)

    assert sum(after.inputs["units"].values()) == 7
    # The earlier snapshot holds sums only and still reproduces its own results.
    before.refresh_from_db()
    assert snapshot_recompute(snapshot=before) == before.results


def _events() -> Data:
    d = Data.__new__(Data)
    d.events, d.exposures = [], []
    return d


# Retention --------------------------------------------------------------------------------


def test_purge__running_experiment__keeps_events_its_analysis_reads(settings):
    now = timezone.now()
    exp = _experiment()
    t0 = now - 60 * DAY
    _populated(exp, t0, units=4)  # events at t0 + 1h: inside the 7-day window
    d = Data(exp)
    d.event("u0", t0 + 30 * DAY)  # old, after the window: no analysis reads it
    d.event("stranger", t0)  # old, unit never exposed
    d.event("u0", now - DAY)  # within the retention period
    d.save()

    report = events_purge(days=10, now=now)

    assert report.deleted == 2
    assert sorted(Event.objects.values_list("unit_id", "timestamp")) == sorted(
        [(f"u{i}", t0 + H) for i in range(4)] + [("u0", now - DAY)]
    )


def test_purge__stopped_experiment__waits_for_its_final_snapshot_then_purges():
    exp = _experiment()
    now = timezone.now()
    t0 = now - 60 * DAY
    _populated(exp, t0, units=6)
    exp = experiment_transition(actor=Actor.system("test"), experiment=exp, action="stop")

    assert events_purge(days=10).deleted == 0
    assert Event.objects.count() == 6

    final = experiment_refresh(experiment=exp)  # as of now, after the stop
    report = events_purge(days=10)

    assert report.deleted == 6
    assert report.open_phases == 0
    assert not Event.objects.exists()
    final.refresh_from_db()
    assert final.inputs["metrics"][0]["stats"]["treatment"]["conversions"] == 3
    assert snapshot_recompute(snapshot=final) == final.results


def test_purge__older_phase__closed_so_its_events_go():
    exp = _experiment()
    t0 = timezone.now() - 60 * DAY
    _populated(exp, t0, units=4)
    # A new phase began: refreshes now compute phase 2 only.
    Experiment.objects.filter(pk=exp.pk).update(phase=2)

    assert events_purge(days=10).deleted == 4


def test_purge__live_cuped_experiment__keeps_events_its_pre_period_can_read():
    now = timezone.now()
    experiment_with(
        [(metric("revenue", type="mean", value_field="revenue", window_hours=14 * 24), "primary")],
        key="cuped",
        cuped=True,
    )
    d = _events()
    d.event("later", now - 5 * DAY, name="purchase").event("later", now - 20 * DAY).save()

    report = events_purge(days=3, now=now)

    assert report.cutoff == now - 14 * DAY
    assert list(Event.objects.values_list("timestamp", flat=True)) == [now - 5 * DAY]


def test_purge__small_batches__every_purgeable_event_deleted():
    now = timezone.now()
    d = _events()
    for i in range(7):
        d.event(f"x{i}", now - (20 + i) * DAY)
    d.event("fresh", now).save()

    report = events_purge(days=10, batch_size=2, now=now)

    assert (report.deleted, report.batches) == (7, 4)
    assert list(Event.objects.values_list("unit_id", flat=True)) == ["fresh"]


def test_purge_task__retention_off_by_default__deletes_nothing(settings):
    assert settings.VERDICT_EVENT_RETENTION_DAYS == 0
    d = _events()
    d.event("old", timezone.now() - 400 * DAY).save()

    assert purge_events.delay().get() == {"status": "off", "deleted": 0}
    assert Event.objects.count() == 1


def test_purge_task__retention_set__purges(settings):
    settings.VERDICT_EVENT_RETENTION_DAYS = 30
    d = _events()
    d.event("old", timezone.now() - 40 * DAY).event("new", timezone.now() - 20 * DAY).save()

    result = purge_events.delay().get()

    assert (result["status"], result["deleted"]) == ("ok", 1)
    assert list(Event.objects.values_list("unit_id", flat=True)) == ["new"]


def test_purge_command__dry_run_then_days__counts_then_deletes():
    d = _events()
    d.event("old", timezone.now() - 40 * DAY).save()
    out = io.StringIO()

    call_command("purge_events", "--days", "30", "--dry-run", stdout=out)
    assert "would delete 1 events" in out.getvalue()
    assert Event.objects.count() == 1

    call_command("purge_events", "--days", "30", stdout=out)
    assert "deleted 1 events" in out.getvalue()
    assert not Event.objects.exists()


def test_purge_command__retention_off__says_so_and_keeps_events():
    d = _events()
    d.event("old", timezone.now() - 400 * DAY).save()
    out = io.StringIO()

    call_command("purge_events", stdout=out)

    assert "Retention is off" in out.getvalue()
    assert Event.objects.count() == 1


@pytest.mark.parametrize(
    "args", [["--days", "0"], ["--days", "-3"], ["--days", "5", "--batch-size", "0"]]
)
def test_purge_command__bad_numbers__clear_error(args):
    with pytest.raises(CommandError):
        call_command("purge_events", *args)


def test_purge__snapshots_untouched():
    exp = _experiment()
    t0 = timezone.now() - 60 * DAY
    _populated(exp, t0)
    snap = experiment_refresh(experiment=exp, as_of=t0 + 2 * DAY)
    exp = experiment_transition(actor=Actor.system("test"), experiment=exp, action="stop")
    experiment_refresh(experiment=exp)
    events_purge(days=10)
    snap.refresh_from_db()
    assert ResultSnapshot.objects.filter(experiment=exp).count() == 2
    assert snapshot_recompute(snapshot=snap) == snap.results


def test_beat_schedule__configured__purge_task_every_hour():
    from config.celery import app

    app.loader.import_default_modules()
    entries = {e["task"]: e["schedule"] for e in app.conf.beat_schedule.values()}
    assert entries["analysis.purge_events"] == 3600.0
    assert "analysis.purge_events" in app.tasks
