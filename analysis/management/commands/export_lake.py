"""``python manage.py export_lake --to <dir or URL> [--since YYYY-MM-DD]``: write the exposures
and events not yet in the lake as date-partitioned Parquet (docs/warehouse.md); or, with
``--purge-unit <id>``, remove one unit's rows from the lake's files."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

try:
    from analysis.warehouse.export import (
        BATCH_SIZE,
        LakeExportError,
        lake_export,
        lake_purge_unit,
    )
except ImportError as missing:  # the warehouse extra (pyarrow) is not installed
    _MISSING: ImportError | None = missing
    BATCH_SIZE = 0
else:
    _MISSING = None


class Command(BaseCommand):
    help = (
        "Export Verdict's exposures and events to a lake as date-partitioned Parquet, "
        "incrementally: a second run writes only what is new. --purge-unit removes one unit's "
        "rows from the lake (after DELETE /api/v1/units/<id>)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--to",
            default=None,
            help="The lake: a directory, or a URL such as s3://bucket/lake "
            "(default: VERDICT_LAKE_EXPORT_DIR).",
        )
        parser.add_argument(
            "--since",
            default=None,
            help="Leave out rows dated before this UTC day, YYYY-MM-DD (they are passed over "
            "for good).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=BATCH_SIZE,
            help=f"Rows per batch and file (default {BATCH_SIZE}).",
        )
        parser.add_argument(
            "--purge-unit",
            default=None,
            metavar="UNIT_ID",
            help="Remove this unit's exposures and events from the lake's files; export nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        destination = options["to"] or settings.VERDICT_LAKE_EXPORT_DIR
        if not destination:
            raise CommandError("Give the lake with --to (or set VERDICT_LAKE_EXPORT_DIR).")
        since = None
        if options["since"]:
            try:
                since = dt.date.fromisoformat(options["since"])
            except ValueError:
                raise CommandError("--since is a date, YYYY-MM-DD.") from None
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        if _MISSING is not None:
            raise CommandError(
                f"The lake export needs the warehouse extra ({_MISSING.name} is not installed): "
                "pip install -e '.[warehouse]' (make install adds it)."
            ) from _MISSING
        try:
            if options["purge_unit"] is not None:
                purge = lake_purge_unit(destination=destination, unit_id=options["purge_unit"])
                self.stdout.write(
                    f"removed {purge.rows_removed} rows of the unit "
                    f"({purge.files_rewritten} files rewritten, {purge.files_removed} removed)"
                )
                return
            report = lake_export(
                destination=destination, since=since, batch_size=options["batch_size"]
            )
        except LakeExportError as exc:
            raise CommandError(str(exc)) from exc
        for name, table in report.tables.items():
            if table.flags_updated:
                self.stdout.write(
                    f"{name}: {table.flags_updated} exported exposures flagged since "
                    "(forced or multiple variants) updated in the lake"
                )
            skipped = (
                f", {table.skipped_before_since} before {since}"
                if table.skipped_before_since
                else ""
            )
            self.stdout.write(
                f"{name}: {table.rows} rows in {table.files} files{skipped} "
                f"(exported up to id {table.last_id})"
                if table.rows or table.files or table.skipped_before_since
                else f"{name}: nothing new"
            )
