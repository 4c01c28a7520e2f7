"""``python manage.py demo``: demo people, definitions, simulated traffic and snapshots."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from analysis.models import ResultSnapshot
from analysis.simulation.demo import demo_load
from assignment.models import Exposure


class Command(BaseCommand):
    help = (
        "Load the demo: an admin, an editor and a viewer; metrics and experiments; simulated "
        "traffic with planted effects and a history of result snapshots. Idempotent."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-traffic", action="store_true", help="definitions and people only")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        password = settings.VERDICT_DEMO_PASSWORD
        people, experiments = demo_load(
            password=password, traffic=not options["no_traffic"], progress=self._progress
        )
        w = self.stdout.write
        w(
            f"Demo loaded in {time.perf_counter() - started:.1f} s: {len(experiments)} "
            f"experiments, {Exposure.objects.count():,} exposures, "
            f"{ResultSnapshot.objects.count():,} snapshots."
        )
        for person in people:
            shown = password if person.created else f"unchanged (first set to '{password}')"
            w(f"Demo login ({person.role}): username '{person.username}', password '{shown}'")

    def _progress(self, done: int, total: int, stage: str) -> None:
        if stage == "users" and (done == 0 or done >= total):
            sys.stderr.write(f"\rsimulating traffic: {done:,}/{total:,} users")
            if done >= total:
                sys.stderr.write("\n")
