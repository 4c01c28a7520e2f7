"""The aggregation reads the exposure and event tables under the names the models give them."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import replace

import pytest
from django.db import connection
from django.db.models import Model

from analysis.aggregation import experiment_inputs
from assignment.models import Event, Exposure
from assignment.tables import event_table, exposure_table
from tests.analysis.helpers import T0, Data, experiment_with, metric, stats

H = dt.timedelta(hours=1)
AS_OF = T0 + dt.timedelta(days=30)


def test_tables__exposure_and_event_names__are_columns_of_the_database(db: None) -> None:
    for names in (exposure_table(), event_table()):
        with connection.cursor() as cursor:
            described = connection.introspection.get_table_description(cursor, names.table)
        columns = {c.name for c in described}
        wanted = {v for k, v in vars(names).items() if k != "table"}
        assert wanted <= columns, f"{names.table} lacks {sorted(wanted - columns)}"


@contextlib.contextmanager
def _renamed(model: type[Model], table: str, **columns: str) -> Iterator[None]:
    """Rename a model's table (and columns) in the database and in the model's ``_meta``;
    the test's transaction rolls the database back, the model is restored on exit."""
    quote = connection.ops.quote_name
    old_table = model._meta.db_table
    fields = {name: model._meta.get_field(name) for name in columns}
    old_columns = {name: f.column for name, f in fields.items()}  # type: ignore[union-attr]

    def set_names(table: str, columns: dict[str, str]) -> None:
        model._meta.db_table = table
        for name, column in columns.items():
            fields[name].column = column  # type: ignore[union-attr]
        for f in model._meta.get_fields():
            f.__dict__.pop("cached_col", None)  # the ORM's column reference names the table

    with connection.cursor() as cursor:
        for name, new in columns.items():
            cursor.execute(
                f"ALTER TABLE {quote(old_table)} RENAME COLUMN {quote(old_columns[name])}"
                f" TO {quote(new)}"
            )
        cursor.execute(f"ALTER TABLE {quote(old_table)} RENAME TO {quote(table)}")
    set_names(table, columns)
    try:
        yield
    finally:
        set_names(old_table, old_columns)


def test_inputs__renamed_tables_and_columns__still_aggregated(db: None) -> None:
    arpu = metric("renamed_arpu", "mean", value_field="revenue")
    exp = experiment_with([(metric("renamed_conv"), "primary"), (arpu, "secondary")])
    d = Data(exp)
    d.expose("t1", "treatment", attributes={"country": "CN"}).event("t1", T0 + H, value=12.5)
    d.expose("t2", "treatment", attributes={"country": "SG"})
    d.expose("c1", "control", attributes={"country": "CN"}).event("c1", T0 + 2 * H, value=4.0)
    d.save()
    expected = experiment_inputs(experiment=exp, as_of=AS_OF)

    exposures = _renamed(
        Exposure, "renamed_exposures", first_exposed_at="exposed_at", attributes="unit_attrs"
    )
    events = _renamed(Event, "renamed_events", timestamp="occurred_at", event="event_name")
    with exposures, events:
        inputs = experiment_inputs(experiment=exp, as_of=AS_OF)

    assert stats(inputs, "renamed_conv", "treatment") == {
        "kind": "proportion",
        "n": 2,
        "conversions": 1,
    }
    assert stats(inputs, "renamed_arpu", "control")["sum"] == pytest.approx(4.0)
    assert {(s.attribute, s.value) for s in inputs.segments} == {
        ("country", "CN"),
        ("country", "SG"),
    }
    assert replace(inputs, started_at=None) == replace(expected, started_at=None)
