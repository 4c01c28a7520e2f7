"""``python manage.py purge_events``: purge raw events past their retention period, now."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from analysis.services.retention import DEFAULT_BATCH_SIZE, events_purge


class Command(BaseCommand):
    help = (
        "Delete raw events older than the retention period (VERDICT_EVENT_RETENTION_DAYS, or "
        "--days) in batches, keeping every event an analysis can still read."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--days",
            type=float,
            default=None,
            help="Retention period in days (default: VERDICT_EVENT_RETENTION_DAYS).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"Events looked at per transaction (default {DEFAULT_BATCH_SIZE}).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count the events that would go; delete none."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days is None:
            days = settings.VERDICT_EVENT_RETENTION_DAYS
            if not days:
                self.stdout.write(
                    "Retention is off (VERDICT_EVENT_RETENTION_DAYS is 0); nothing purged. "
                    "Pass --days to purge once."
                )
                return
        if days <= 0:
            raise CommandError("--days must be a positive number of days.")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        report = events_purge(
            days=days, batch_size=options["batch_size"], dry_run=options["dry_run"]
        )
        verb = "would delete" if options["dry_run"] else "deleted"
        self.stdout.write(
            f"{verb} {report.deleted} events from before {report.cutoff.isoformat()} "
            f"({report.batches} batches; {report.open_phases} experiment phases still open)"
        )
