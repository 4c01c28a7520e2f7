"""The lake export and a write transaction still open when a batch's ids are read (PostgreSQL):
the row it commits with a lower id is exported, not passed over."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pyarrow.dataset as ds
import pytest
from django.db import connection, connections, transaction

from analysis.warehouse.export import lake_export
from assignment.models import Event

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
WRITER_WAIT = 5.0
T0 = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for concurrent transactions")


def event(event_id: str) -> Event:
    return Event.objects.create(
        event_id=event_id,
        unit_id="u1",
        event="purchase",
        timestamp=T0,
        client_timestamp=T0,
        received_at=T0,
        value=1.0,
    )


def test_export__insert_committing_late_with_a_lower_id__exported_once(tmp_path) -> None:
    inserted, release = threading.Event(), threading.Event()
    held: dict[str, int] = {}

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                held["id"] = event("slow").id
                inserted.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert inserted.wait(timeout=10)
    fast = event("fast")  # committed at once, with a higher id
    assert fast.id > held["id"]
    threading.Timer(1.0, release.set).start()

    started = time.monotonic()
    report = lake_export(destination=str(tmp_path), writer_wait=WRITER_WAIT)
    waited = time.monotonic() - started
    writer.join(timeout=10)

    events = ds.dataset(tmp_path / "events", format="parquet", partitioning="hive").to_table()
    assert sorted(events.column("event_id").to_pylist()) == ["fast", "slow"]
    assert report.tables["events"].rows == 2
    assert waited >= 0.8  # it waited for the open transaction
    assert lake_export(destination=str(tmp_path)).rows == 0
