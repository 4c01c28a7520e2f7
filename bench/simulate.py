"""Simulator storage throughput: the bulk path beside the per-call path, for the same users.

Run:  .venv/bin/python bench/simulate.py [--users 20000] [--postgres] [--experiment KEY]

On a fresh database (a temporary SQLite file, or with ``--postgres`` the PostgreSQL database
``verdict_bench_simulate``, recreated), the demo definitions are loaded and ``--users`` users
of the demo experiment ``--experiment`` are generated once (``analysis.simulation.bulk``:
attributes, assignment with the assign API's decision, events with 2% sent again). The same
users are then stored twice, from empty tables:

1. bulk: ``assignment.services.bulk`` (multi-row statements in one transaction);
2. per call: ``exposures_record`` once per user and ``events_ingest`` per 1,000 events, as
   the API does (without HTTP).

Printed per path: events sent, stored and duplicates, exposures, seconds, and events and
exposures stored per second, with the bulk path's speed-up. Generation is timed apart.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import recreate_database  # noqa: E402

DATABASE = "verdict_bench_simulate"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--experiment", default="onboarding-checklist")
    args = parser.parse_args()

    if args.postgres:
        os.environ["DATABASE_URL"] = recreate_database(DATABASE)
    else:
        path = Path(tempfile.mkdtemp()) / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    from analysis.simulation import SCENARIOS
    from analysis.simulation.bulk import simulate_chunk, store_bulk, store_per_call
    from analysis.simulation.demo import demo_definitions_ensure
    from assignment.models import Event, Exposure
    from assignment.services.exposures import exposure_cache_clear
    from core.actors import Actor

    settings.DEBUG = False  # no query log: the loaders' own speed
    call_command("migrate", verbosity=0)
    now = timezone.now()
    experiments = demo_definitions_ensure(actor=Actor.system("bench"), now=now, days=28)
    experiment = next(e for e in experiments if e.key == args.experiment)

    started = time.perf_counter()
    chunk = simulate_chunk(
        experiment=experiment,
        scenario=SCENARIOS[experiment.key],
        seed=1,
        first_index=0,
        users=args.users,
        arrive_from=now - timezone.timedelta(days=28),
        arrive_to=now,
        now=now,
    )
    generated = time.perf_counter() - started
    vendor = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"{vendor}, {experiment.key}: {args.users:,} users, {len(chunk.items):,} events "
        f"generated in {generated:.2f} s ({len(chunk.items) / generated:,.0f} events/s)"
    )
    print(
        f"{'path':<9} {'exposures':>9} {'events':>8} {'stored':>8} {'dups':>6} "
        f"{'seconds':>8} {'events/s':>9} {'exposures/s':>11}"
    )
    rates = {}
    for name, store in (("bulk", store_bulk), ("per call", store_per_call)):
        Exposure.objects.all().delete()
        Event.objects.all().delete()
        exposure_cache_clear()
        started = time.perf_counter()
        store(chunk, received_at=now)
        seconds = time.perf_counter() - started
        exposures, stored = Exposure.objects.count(), Event.objects.count()
        rates[name] = len(chunk.items) / seconds
        print(
            f"{name:<9} {exposures:>9,} {len(chunk.items):>8,} {stored:>8,} "
            f"{len(chunk.items) - stored:>6,} {seconds:>8.2f} {rates[name]:>9,.0f} "
            f"{exposures / seconds:>11,.0f}"
        )
    print(f"bulk / per call: {rates['bulk'] / rates['per call']:.1f}x")


if __name__ == "__main__":
    main()
