"""The lake export: date-partitioned Parquet in the layout of analysis.warehouse.source, written
incrementally, idempotent across runs and exact after a failed run; purging a unit."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from django.core.management import CommandError, call_command

from analysis.models import LakeExport
from analysis.tasks import export_lake
from analysis.warehouse.export import LakeExportError, lake_export, lake_purge_unit
from analysis.warehouse.source import EVENT_COLUMNS, EXPOSURE_COLUMNS
from assignment.models import Event, Exposure
from tests.analysis.helpers import T0, Data, experiment_with, metric

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def lake_table(lake: Path, name: str) -> pa.Table:
    """Read a table of the lake back the way Spark does (hive partitions, hidden files
    skipped)."""
    root = lake / name
    if not root.exists():
        return pa.table({})
    return ds.dataset(root, format="parquet", partitioning="hive").to_table()


def populate(days: int = 3, units: int = 12) -> Data:
    exp = experiment_with([(metric("conv"), "primary")], key="pricing")
    data = Data(exp)
    for i in range(units):
        at = T0 + (i % days) * DAY
        data.expose(f"u{i}", ("control", "treatment")[i % 2], at, attributes={"plan": i % 3})
        data.event(f"u{i}", at + dt.timedelta(hours=1), value=float(i))
        data.event(f"u{i}", at + dt.timedelta(hours=2), name="app_open")
    return data.save()


def test_export__layout_columns_and_values__as_the_source_contract_says(tmp_path) -> None:
    populate()
    report = lake_export(destination=str(tmp_path))
    assert (report.tables["exposures"].rows, report.tables["events"].rows) == (12, 24)
    partitions = sorted(p.name for p in (tmp_path / "exposures").iterdir())
    assert partitions == ["date=2026-01-05", "date=2026-01-06", "date=2026-01-07"]

    exposures = lake_table(tmp_path, "exposures")
    assert tuple(n for n in exposures.schema.names if n != "date") == EXPOSURE_COLUMNS
    assert exposures.schema.field("first_exposed_at").type == pa.timestamp("us", tz="UTC")
    rows = {r["unit_id"]: r for r in exposures.to_pylist()}
    stored = Exposure.objects.select_related("experiment", "variant").get(unit_id="u4")
    assert rows["u4"]["experiment"] == "pricing"
    assert rows["u4"]["variant"] == stored.variant.key == "control"
    assert rows["u4"]["first_exposed_at"] == stored.first_exposed_at
    assert json.loads(rows["u4"]["attributes"]) == {"plan": 1}
    assert str(rows["u4"]["date"]) == "2026-01-06"

    events = lake_table(tmp_path, "events")
    assert tuple(n for n in events.schema.names if n != "date") == EVENT_COLUMNS
    by_id = {r["event_id"]: r for r in events.to_pylist()}
    for event in Event.objects.all():
        row = by_id[event.event_id]
        assert (row["unit_id"], row["event"], row["value"]) == (
            event.unit_id,
            event.event,
            event.value,
        )
        assert row["timestamp"] == event.timestamp


def test_export__run_twice__second_run_writes_nothing(tmp_path) -> None:
    populate()
    lake_export(destination=str(tmp_path))
    files = sorted(str(p) for p in tmp_path.rglob("*") if p.is_file())
    again = lake_export(destination=str(tmp_path))
    assert again.rows == 0
    assert sorted(str(p) for p in tmp_path.rglob("*") if p.is_file()) == files
    assert lake_table(tmp_path, "exposures").num_rows == 12
    assert lake_table(tmp_path, "events").num_rows == 24


def test_export__new_rows_between_runs__only_they_are_added(tmp_path) -> None:
    data = populate()
    lake_export(destination=str(tmp_path), batch_size=5)
    data.expose("late", "treatment", T0 + 5 * DAY).event("late", T0 + 5 * DAY, value=9.5).save()
    report = lake_export(destination=str(tmp_path), batch_size=5)
    assert (report.tables["exposures"].rows, report.tables["events"].rows) == (1, 1)
    assert lake_table(tmp_path, "exposures").num_rows == 13
    events = lake_table(tmp_path, "events")
    assert events.num_rows == 25
    assert sorted(events.column("event_id").to_pylist()) == sorted(
        Event.objects.values_list("event_id", flat=True)
    )


def test_export__failed_mid_batch_then_new_rows__each_row_exactly_once(tmp_path) -> None:
    data = populate(days=3)
    # The second day's partition cannot be created: the run fails after writing the first
    # day's file of its batch, before its watermark moves.
    (tmp_path / "exposures").mkdir()
    blocker = tmp_path / "exposures" / "date=2026-01-06"
    blocker.write_text("not a directory")
    with pytest.raises(LakeExportError):
        lake_export(destination=str(tmp_path))
    first_day = ds.dataset(tmp_path / "exposures" / "date=2026-01-05", format="parquet")
    assert first_day.to_table().num_rows == 4  # written before the failure
    mark = LakeExport.objects.get(table="exposures")
    assert (mark.last_id, mark.pending_upto > 0) == (0, True)

    data.expose("late", "treatment", T0).event("late", T0, value=1.0).save()
    blocker.unlink()
    lake_export(destination=str(tmp_path))
    exposures = lake_table(tmp_path, "exposures")
    units = exposures.column("unit_id").to_pylist()
    assert len(units) == len(set(units)) == Exposure.objects.count() == 13
    events = lake_table(tmp_path, "events").column("event_id").to_pylist()
    assert len(events) == len(set(events)) == Event.objects.count() == 25
    leftovers = [p.name for p in tmp_path.rglob(".*")]
    assert leftovers == []


def test_export__exposure_flagged_after_export__lake_file_updated_once(tmp_path) -> None:
    data = populate()
    data.expose("qa", "treatment", T0, forced=True).save()
    lake_export(destination=str(tmp_path))
    # Later, u3 is assigned another variant and u5 gets a QA override (flags only turn on).
    Exposure.objects.filter(unit_id="u3").update(multiple_variants=True)
    Exposure.objects.filter(unit_id="u5").update(forced=True)
    out = StringIO()
    call_command("export_lake", "--to", str(tmp_path), stdout=out)
    assert "exposures: 2 exported exposures flagged since" in out.getvalue()
    rows = {r["unit_id"]: r for r in lake_table(tmp_path, "exposures").to_pylist()}
    assert len(rows) == 13
    assert (rows["u3"]["multiple_variants"], rows["u3"]["forced"]) == (True, False)
    assert (rows["u5"]["multiple_variants"], rows["u5"]["forced"]) == (False, True)
    assert rows["qa"]["forced"] is True
    flagged = {u for u, r in rows.items() if r["forced"] or r["multiple_variants"]}
    assert flagged == {"u3", "u5", "qa"}
    again = lake_export(destination=str(tmp_path))
    assert (again.rows, again.tables["exposures"].flags_updated) == (0, 0)


def test_export__two_destinations__each_has_its_own_watermark(tmp_path) -> None:
    populate()
    lake_export(destination=str(tmp_path / "a"))
    report = lake_export(destination=str(tmp_path / "b"))
    assert report.rows == 36
    assert lake_table(tmp_path / "b", "events").num_rows == 24


def test_command__since__older_days_left_out_for_good(tmp_path) -> None:
    populate(days=3)
    out = StringIO()
    call_command("export_lake", "--to", str(tmp_path), "--since", "2026-01-06", stdout=out)
    assert "exposures: 8 rows in 2 files, 4 before 2026-01-06" in out.getvalue()
    days = set(map(str, lake_table(tmp_path, "exposures").column("date").to_pylist()))
    assert days == {"2026-01-06", "2026-01-07"}
    out = StringIO()
    call_command("export_lake", "--to", str(tmp_path), stdout=out)
    assert out.getvalue().splitlines() == ["exposures: nothing new", "events: nothing new"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--since", "yesterday"], "--since is a date"),
        (["--batch-size", "0"], "--batch-size"),
    ],
)
def test_command__bad_arguments__clear_error(tmp_path, args, says) -> None:
    with pytest.raises(CommandError, match=says):
        call_command("export_lake", "--to", str(tmp_path), *args)


def test_command__no_destination__clear_error(settings) -> None:
    settings.VERDICT_LAKE_EXPORT_DIR = ""
    with pytest.raises(CommandError, match="--to"):
        call_command("export_lake")


def test_command__destination_is_a_file__clear_error(tmp_path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(CommandError, match="not a directory"):
        call_command("export_lake", "--to", str(target))


def test_purge_unit__after_unit_deletion__its_rows_leave_the_lake(tmp_path, client_for) -> None:
    populate()
    lake_export(destination=str(tmp_path))
    admin = client_for("admin")
    assert admin.delete("/api/v1/units/u4").status_code == 200
    out = StringIO()
    call_command("export_lake", "--to", str(tmp_path), "--purge-unit", "u4", stdout=out)
    assert "removed 3 rows" in out.getvalue()
    assert "u4" not in lake_table(tmp_path, "exposures").column("unit_id").to_pylist()
    assert "u4" not in lake_table(tmp_path, "events").column("unit_id").to_pylist()
    assert lake_table(tmp_path, "events").num_rows == 22
    # A second purge finds nothing; the next export writes nothing back.
    assert lake_purge_unit(destination=str(tmp_path), unit_id="u4").rows_removed == 0
    assert lake_export(destination=str(tmp_path)).rows == 0


def test_task__off_without_a_lake__on_with_one(tmp_path, settings) -> None:
    populate()
    settings.VERDICT_LAKE_EXPORT_DIR = ""
    assert export_lake() == {"status": "off"}
    settings.VERDICT_LAKE_EXPORT_DIR = str(tmp_path)
    assert export_lake() == {"status": "ok", "rows": {"exposures": 12, "events": 24}}
    assert export_lake() == {"status": "ok", "rows": {"exposures": 0, "events": 0}}


def test_beat_schedule__only_when_a_lake_is_set() -> None:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings.base'; "
        "django.setup(); from config.celery import app; "
        "print(app.conf.beat_schedule.get('analysis-export-lake'))"
    )
    env = {
        **os.environ,
        "VERDICT_LAKE_EXPORT_DIR": "/srv/lake",
        "VERDICT_LAKE_EXPORT_MINUTES": "15",
    }
    on = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert "'task': 'analysis.export_lake', 'schedule': 900.0" in on.stdout, on.stderr
    env.pop("VERDICT_LAKE_EXPORT_DIR")
    off = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert off.stdout.strip() == "None", off.stderr
