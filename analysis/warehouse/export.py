"""The lake export: Verdict's own exposures and events as date-partitioned Parquet.

Written in the layout of ``analysis.warehouse.source`` (``exposures/date=YYYY-MM-DD/`` by the
first exposure's UTC date, ``events/date=YYYY-MM-DD/`` by the event's UTC date), so a ``spark``
data source can read it as ``parquet.`<lake>/exposures``` and ``parquet.`<lake>/events```.

Incremental and idempotent, per table and destination (``analysis.models.LakeExport``):

1. reserve a batch: the ids after ``last_id``, up to ``batch_size`` of them, recorded as
   ``pending_upto`` and committed before any file is written (a crashed batch is redone as is);
2. write one file per date of the batch, ``part-<first id>-<last id>.parquet``: each to a
   hidden temporary name first (``.part-...``, which Spark and pyarrow skip), flushed and
   fsynced, then renamed over the final name;
3. advance ``last_id`` to ``pending_upto`` once every file is durable.

Running it twice writes nothing the second time; a run that failed after some files were
written rewrites the same names with the same rows, so each row is in the lake once.

An exposure's ``forced`` and ``multiple_variants`` flags can turn on after it was exported (a QA
override, a second variant). Each run compares the flagged exposures with the flags the lake
has (``analysis.models.LakeExportFlag``) and rewrites the files that hold stale ones, so the lake
leaves out the same units as the application database.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.db import connection, transaction
from django.db.models import F, Max, Model, Q, TextField
from django.db.models.functions import Cast

from analysis.models import LakeExport, LakeExportFlag
from assignment.models import Event, Exposure
from core.warehouse_columns import EVENT_COLUMNS, EXPOSURE_COLUMNS

TIMESTAMP = pa.timestamp("us", tz="UTC")
SCHEMAS: dict[str, pa.Schema] = {
    "exposures": pa.schema(
        [
            ("unit_id", pa.string()),
            ("experiment", pa.string()),
            ("variant", pa.string()),
            ("phase", pa.int32()),
            ("first_exposed_at", TIMESTAMP),
            ("forced", pa.bool_()),
            ("multiple_variants", pa.bool_()),
            ("attributes", pa.string()),
        ]
    ),
    "events": pa.schema(
        [
            ("event_id", pa.string()),
            ("unit_id", pa.string()),
            ("event", pa.string()),
            ("timestamp", TIMESTAMP),
            ("value", pa.float64()),
            ("properties", pa.string()),
        ]
    ),
}
assert tuple(SCHEMAS["exposures"].names) == EXPOSURE_COLUMNS
assert tuple(SCHEMAS["events"].names) == EVENT_COLUMNS
TABLES = ("exposures", "events")
BATCH_SIZE = 100_000
# How long a batch waits for write transactions that were open when its ids were read.
WRITER_WAIT_SECONDS = 30.0
logger = logging.getLogger(__name__)


class LakeExportError(Exception):
    """The lake cannot be written (a bad destination, a path that is not a directory, ...)."""


@dataclass
class TableReport:
    rows: int = 0
    files: int = 0
    skipped_before_since: int = 0
    last_id: int = 0
    flags_updated: int = 0


@dataclass
class ExportReport:
    destination: str
    tables: dict[str, TableReport] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables.values())


@dataclass(frozen=True)
class PurgeReport:
    files_rewritten: int
    files_removed: int
    rows_removed: int


# Destinations -------------------------------------------------------------------------------


class Lake:
    """A lake directory: a local path (written with fsync and an atomic rename) or a URL that
    pyarrow's file systems understand (``s3://bucket/lake``, ``gs://...``, ``hdfs://...``)."""

    def __init__(self, destination: str):
        destination = destination.strip()
        if not destination:
            raise LakeExportError("Give the lake's directory or URL (--to).")
        self.remote = "://" in destination and not destination.startswith("file://")
        if self.remote:
            from pyarrow import fs

            try:
                self.fs, self.base = fs.FileSystem.from_uri(destination)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
                raise LakeExportError(f"Cannot open the lake {destination!r}: {exc}") from exc
            self.key = destination.rstrip("/")
        else:
            path = destination.removeprefix("file://")
            self.base = os.path.abspath(path)
            self.key = self.base
            if os.path.exists(self.base) and not os.path.isdir(self.base):
                raise LakeExportError(f"{self.base} exists and is not a directory.")

    def join(self, *parts: str) -> str:
        return "/".join([self.base.rstrip("/"), *parts])

    def write(self, directory: str, name: str, table: pa.Table) -> None:
        """Write ``table`` as ``directory/name``, atomically, and durably on local disks."""
        final = f"{directory}/{name}"
        temporary = f"{directory}/.{name}.{uuid.uuid4().hex[:8]}.tmp"
        if self.remote:
            self.fs.create_dir(directory, recursive=True)
            with self.fs.open_output_stream(temporary) as out:
                pq.write_table(table, out)
            self.fs.move(temporary, final)
            return
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as exc:
            raise LakeExportError(f"Cannot create {directory}: {exc.strerror}.") from exc
        try:
            with open(temporary, "wb") as out:
                pq.write_table(table, out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, final)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def list_dir(self, directory: str) -> list[str]:
        """The names of the files directly in ``directory`` (none when it does not exist)."""
        if self.remote:
            from pyarrow import fs

            selector = fs.FileSelector(directory, recursive=False, allow_not_found=True)
            return [
                i.base_name for i in self.fs.get_file_info(selector) if i.type == fs.FileType.File
            ]
        try:
            return [n for n in os.listdir(directory) if os.path.isfile(f"{directory}/{n}")]
        except FileNotFoundError:
            return []

    def remove(self, path: str) -> None:
        if self.remote:
            self.fs.delete_file(path)
        else:
            os.unlink(path)

    def files(self, table_name: str) -> Iterator[str]:
        """The data files of one table (hidden and temporary files left out)."""
        root = self.join(table_name)
        if self.remote:
            from pyarrow import fs

            selector = fs.FileSelector(root, recursive=True, allow_not_found=True)
            infos = self.fs.get_file_info(selector)
            paths = [i.path for i in infos if i.type == fs.FileType.File]
        else:
            paths = [
                os.path.join(folder, name) for folder, _, names in os.walk(root) for name in names
            ]
        for path in sorted(paths):
            name = path.rsplit("/", 1)[-1]
            if name.endswith(".parquet") and not name.startswith((".", "_")):
                yield path

    def read(self, path: str) -> pa.Table:
        if self.remote:
            with self.fs.open_input_file(path) as source:
                return pq.read_table(source)
        return pq.read_table(path)


# Rows ---------------------------------------------------------------------------------------


def _json_text(field: str) -> Cast:
    # The stored JSON as text, as the database writes it (no decode and re-encode in Python).
    return Cast(field, output_field=TextField())


def _exposure_rows(lo: int, hi: int) -> Iterator[tuple[int, dt.date, tuple]]:
    rows = (
        Exposure.objects.filter(id__gt=lo, id__lte=hi)
        .order_by("id")
        .annotate(attributes_text=_json_text("attributes"))
        .values_list(
            "id",
            "unit_id",
            "experiment__key",
            "variant__key",
            "phase",
            "first_exposed_at",
            "forced",
            "multiple_variants",
            "attributes_text",
        )
    )
    for pk, unit, experiment, variant, phase, at, forced, multiple, attributes in rows.iterator(
        chunk_size=5000
    ):
        at = at.astimezone(dt.UTC)
        yield (
            pk,
            at.date(),
            (unit, experiment, variant, phase, at, forced, multiple, attributes or "{}"),
        )


def _event_rows(lo: int, hi: int) -> Iterator[tuple[int, dt.date, tuple]]:
    rows = (
        Event.objects.filter(id__gt=lo, id__lte=hi)
        .order_by("id")
        .annotate(properties_text=_json_text("properties"))
        .values_list("id", "event_id", "unit_id", "event", "timestamp", "value", "properties_text")
    )
    for pk, event_id, unit, name, at, value, properties in rows.iterator(chunk_size=5000):
        at = at.astimezone(dt.UTC)
        yield pk, at.date(), (event_id, unit, name, at, value, properties or "{}")


ROWS = {"exposures": _exposure_rows, "events": _event_rows}
MODELS: dict[str, type[Model]] = {"exposures": Exposure, "events": Event}


def _arrow(table_name: str, rows: list[tuple]) -> pa.Table:
    schema = SCHEMAS[table_name]
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in schema.names]
    return pa.Table.from_arrays(
        [pa.array(list(col), type=f.type) for col, f in zip(columns, schema, strict=True)],
        schema=schema,
    )


# The export ---------------------------------------------------------------------------------


def _reserve(lake: Lake, table_name: str, batch_size: int) -> tuple[int, int] | None:
    """The next batch ``(after id, up to id)``: a pending one first; None when all is out."""
    LakeExport.objects.get_or_create(destination=lake.key, table=table_name)
    with transaction.atomic():
        mark = LakeExport.objects.select_for_update().get(destination=lake.key, table=table_name)
        if mark.pending_upto > mark.last_id:
            return mark.last_id, mark.pending_upto
        newer = MODELS[table_name].objects.filter(id__gt=mark.last_id).order_by("id")
        nth = list(newer.values_list("id", flat=True)[batch_size - 1 : batch_size])
        upto = nth[0] if nth else None
        if upto is None:
            upto = newer.aggregate(top=Max("id"))["top"]
        if upto is None:
            return None
        mark.pending_upto = upto
        mark.save(update_fields=["pending_upto", "updated_at"])
        return mark.last_id, upto


def _open_writers() -> set[tuple[int, str]]:
    """PostgreSQL: the other sessions of this database with a write transaction open now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, backend_xid::text FROM pg_stat_activity "
            "WHERE datname = current_database() AND backend_xid IS NOT NULL "
            "AND pid <> pg_backend_pid()"
        )
        return {(pid, xid) for pid, xid in cursor.fetchall()}


def _wait_for_writers(timeout: float) -> bool:
    """Wait until the write transactions open when a batch's last id was read have ended.

    An insert's id is taken when it runs, but the row is seen only when its transaction
    commits: a transaction still open may hold an id below the batch's last one. Once every
    such transaction has committed or rolled back, the batch's rows are final. PostgreSQL only
    (SQLite has one writer at a time, so its ids commit in order). Returns False when some were
    still open after ``timeout`` seconds (the batch is written anyway, and a warning logged).
    """
    if connection.vendor != "postgresql" or timeout <= 0:
        return True
    waiting = _open_writers()
    deadline = time.monotonic() + timeout
    while waiting:
        if time.monotonic() > deadline:
            logger.warning(
                "lake export: %d write transactions still open after %.0f s; exporting anyway",
                len(waiting),
                timeout,
            )
            return False
        time.sleep(0.05)
        waiting &= _open_writers()
    return True


def _write_batch(
    lake: Lake, table_name: str, lo: int, hi: int, since: dt.date | None, report: TableReport
) -> int:
    """Write the batch's rows, one file per date; returns how many rows were written."""
    by_date: dict[dt.date, list[tuple]] = defaultdict(list)
    flagged: list[LakeExportFlag] = []
    for pk, day, row in ROWS[table_name](lo, hi):
        if table_name == "exposures" and (row[5] or row[6]):
            flagged.append(
                LakeExportFlag(
                    destination=lake.key, exposure_id=pk, forced=row[5], multiple_variants=row[6]
                )
            )
        if since is not None and day < since:
            report.skipped_before_since += 1
            continue
        by_date[day].append(row)
    name = f"part-{lo + 1:012d}-{hi:012d}.parquet"
    written = 0
    for day in sorted(by_date):
        directory = lake.join(table_name, f"date={day.isoformat()}")
        lake.write(directory, name, _arrow(table_name, by_date[day]))
        report.files += 1
        written += len(by_date[day])
    _record_flags(flagged)
    return written


def _record_flags(flags: list[LakeExportFlag]) -> None:
    """Remember the flags these exposures have in the lake (their files are durable)."""
    if flags:
        LakeExportFlag.objects.bulk_create(
            flags,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["destination", "exposure_id"],
            update_fields=["forced", "multiple_variants"],
        )


_PART = re.compile(r"part-([0-9]+)-([0-9]+)\.parquet")


def _sync_flags(lake: Lake, last_id: int) -> int:
    """Rewrite the lake files holding exposures flagged since their export; returns how many
    exposures were updated."""
    known = {
        pk: (forced, multiple)
        for pk, forced, multiple in LakeExportFlag.objects.filter(destination=lake.key).values_list(
            "exposure_id", "forced", "multiple_variants"
        )
    }
    flagged = (
        Exposure.objects.filter(id__lte=last_id)
        .filter(Q(forced=True) | Q(multiple_variants=True))
        .values_list(
            "id",
            "experiment__key",
            "phase",
            "unit_id",
            "first_exposed_at",
            "forced",
            "multiple_variants",
        )
    )
    stale: dict[str, list[tuple]] = defaultdict(list)
    for pk, experiment, phase, unit, at, forced, multiple in flagged.iterator(chunk_size=5000):
        if known.get(pk) == (forced, multiple):
            continue
        day = at.astimezone(dt.UTC).date().isoformat()
        stale[lake.join("exposures", f"date={day}")].append(
            (pk, experiment, phase, unit, forced, multiple)
        )
    updated = 0
    for directory, rows in stale.items():
        files = [(m, n) for n in lake.list_dir(directory) if (m := _PART.fullmatch(n))]
        by_file: dict[str, dict[tuple, tuple[bool, bool]]] = defaultdict(dict)
        for pk, experiment, phase, unit, forced, multiple in rows:
            for match, name in files:
                if int(match.group(1)) <= pk <= int(match.group(2)):
                    by_file[name][(experiment, phase, unit)] = (forced, multiple)
        for name, flags in by_file.items():
            table = lake.read(f"{directory}/{name}")
            table = table.select(list(SCHEMAS["exposures"].names))
            changed = []
            for row in table.to_pylist():
                key = (row["experiment"], row["phase"], row["unit_id"])
                if key in flags:
                    forced, multiple = flags[key]
                    row["forced"] = row["forced"] or forced
                    row["multiple_variants"] = row["multiple_variants"] or multiple
                changed.append(tuple(row[n] for n in SCHEMAS["exposures"].names))
            lake.write(directory, name, _arrow("exposures", changed))
            updated += len(flags)
        # Exposures with no file (left out by --since, or purged) need nothing.
        _record_flags(
            [
                LakeExportFlag(
                    destination=lake.key, exposure_id=pk, forced=forced, multiple_variants=multiple
                )
                for pk, _, _, _, forced, multiple in rows
            ]
        )
    return updated


def _advance(lake: Lake, table_name: str, lo: int, hi: int, rows: int) -> None:
    LakeExport.objects.filter(
        destination=lake.key, table=table_name, last_id=lo, pending_upto=hi
    ).update(last_id=hi, rows_exported=F("rows_exported") + rows)


def lake_export(
    *,
    destination: str,
    since: dt.date | None = None,
    batch_size: int = BATCH_SIZE,
    tables: Iterable[str] = TABLES,
    writer_wait: float = WRITER_WAIT_SECONDS,
) -> ExportReport:
    """Export the exposures and events not yet in the lake at ``destination``.

    ``since`` leaves out rows dated before that day (UTC); they are passed over for good, as
    the watermark moves past them. Raises ``LakeExportError`` when the lake cannot be written;
    the batch that failed is redone by the next run.
    """
    if batch_size < 1:
        raise LakeExportError("The batch size is at least 1.")
    lake = Lake(destination)
    report = ExportReport(destination=lake.key)
    for table_name in tables:
        table_report = report.tables.setdefault(table_name, TableReport())
        while (batch := _reserve(lake, table_name, batch_size)) is not None:
            lo, hi = batch
            _wait_for_writers(writer_wait)
            rows = _write_batch(lake, table_name, lo, hi, since, table_report)
            _advance(lake, table_name, lo, hi, rows)
            table_report.rows += rows
            table_report.last_id = hi
        if table_name == "exposures":
            mark = LakeExport.objects.filter(destination=lake.key, table=table_name).first()
            if mark is not None and mark.last_id:
                table_report.flags_updated = _sync_flags(lake, mark.last_id)
    return report


def lake_purge_unit(*, destination: str, unit_id: str) -> PurgeReport:
    """Remove every exposure and event of ``unit_id`` from the lake's files (each affected
    file rewritten atomically, or removed when nothing is left in it)."""
    if not unit_id:
        raise LakeExportError("Give the unit id to purge.")
    lake = Lake(destination)
    rewritten = removed = rows = 0
    for table_name in TABLES:
        for path in lake.files(table_name):
            table = lake.read(path)
            # Hive partition columns (date=...) are not stored in the files themselves.
            table = table.select([n for n in table.schema.names if n in SCHEMAS[table_name].names])
            keep = pc.invert(pc.equal(table["unit_id"], pa.scalar(unit_id, pa.string())))
            kept = table.filter(pc.fill_null(keep, True))
            if kept.num_rows == table.num_rows:
                continue
            rows += table.num_rows - kept.num_rows
            directory, name = path.rsplit("/", 1)
            if kept.num_rows == 0:
                lake.remove(path)
                removed += 1
            else:
                lake.write(directory, name, kept.cast(SCHEMAS[table_name]))
                rewritten += 1
    return PurgeReport(files_rewritten=rewritten, files_removed=removed, rows_removed=rows)
