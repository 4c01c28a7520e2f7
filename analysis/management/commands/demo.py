"""``python manage.py demo``: demo people, definitions, simulated traffic and snapshots."""

from __future__ import annotations

import gc
import os
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from analysis.models import ResultSnapshot
from analysis.simulation.demo import demo_load
from analysis.simulation.progress import progress_printer
from assignment.models import Event, Exposure
from experiments.demo import TRAFFIC_DAYS


class Command(BaseCommand):
    help = (
        "Load the demo: an admin, an editor and a viewer; metrics and experiments; simulated "
        "traffic with planted effects (over 100,000 exposed users per experiment at scale 1) "
        "and a daily history of result snapshots. Idempotent."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-traffic", action="store_true", help="definitions and people only")
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="multiply the simulated users (1: over 100,000 exposed per experiment; the "
            "tests use 0.02)",
        )

        parser.add_argument(
            "--days",
            type=float,
            default=TRAFFIC_DAYS,
            help=f"days since the experiments started, one snapshot each ({TRAFFIC_DAYS})",
        )
        parser.add_argument(
            "--processes",
            type=int,
            default=min(2, os.cpu_count() or 1),
            help="processes loading the experiments side by side (default: 2, or 1 on one core)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        password = settings.VERDICT_DEMO_PASSWORD
        # The load creates hundreds of thousands of objects; with the ones it starts with frozen
        # out of the collector, each garbage collection (statsmodels' corrections run full
        # ones) scans only what the load creates.
        gc.freeze()
        # With DEBUG (the local settings) every query and its parameters would be kept in
        # memory and formatted: a tenth of the load's time.
        debug_off = override_settings(DEBUG=False)
        debug_off.enable()
        try:
            people, experiments = demo_load(
                password=password,
                traffic=not options["no_traffic"],
                scale=options["scale"],
                days=options["days"],
                progress=progress_printer(sys.stderr),
                workers=options["processes"],
            )
        except (ValueError, RuntimeError) as exc:
            raise CommandError(str(exc)) from exc
        finally:
            debug_off.disable()
            gc.unfreeze()
        w = self.stdout.write
        w(
            f"Demo loaded in {time.perf_counter() - started:.1f} s: {len(experiments)} "
            f"experiments, {Exposure.objects.count():,} exposures, "
            f"{Event.objects.count():,} events, {ResultSnapshot.objects.count():,} snapshots."
        )
        for person in people:
            shown = password if person.created else f"unchanged (first set to '{password}')"
            w(f"Demo login ({person.role}): username '{person.username}', password '{shown}'")
