"""A full exposure cache over time: one process's resident memory while the cache of exposures
it wrote (``assignment.services.exposures``, bounded by ``VERDICT_EXPOSURE_CACHE_BYTES``) is
filled and then replaced many times over, as in a server seeing only new units.

Run:  .venv/bin/python bench/caches.py [--inserts 3000000] [--unit-length 34]

Stores ``--inserts`` exposures of distinct units (ids of ``--unit-length`` characters) in the
process's own cache, under its lock, as ``exposures_record`` does once a write commits; no
database. Printed every 100,000 inserts: the process's RSS above its start and the cache's
estimated bytes. Then: the RSS when the cache first filled, once its entries had been replaced
four times (CPython's dicts keep room for about twice their entries once entries are dropped and
stored, and rebuild their tables as they go) and at the end. Goal: from then to the end RSS
grows less than 1% of the bound; RSS over the bound is the allocator's slack around those
tables.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inserts", type=int, default=3_000_000)
    parser.add_argument("--unit-length", type=int, default=34)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from assignment.services import exposures

    cache = exposures._recorded
    bound = cache.maxsize
    experiment_ids = [int("1001"), int("1002")]  # shared with the definitions in a server
    start = rss_mb()
    full_at = settled_at = None
    full_rss = settled_rss = 0.0
    print(f"exposure cache bound {bound / 2**20:.1f} MiB; unit ids of {args.unit_length} chars")
    for i in range(args.inserts):
        unit_id = f"{i:0{args.unit_length}d}"
        with exposures._lock:
            cache[(experiment_ids[i % 2], 1, unit_id)] = 7
        if full_at is None and cache.currsize > bound - 1024:
            full_at, full_rss = i + 1, rss_mb() - start
            entries = len(cache)
            print(f"  full after {full_at:,} inserts ({entries:,} entries): RSS +{full_rss:.1f} MB")
        if full_at is not None and settled_at is None and i + 1 >= 5 * full_at:
            settled_at, settled_rss = i + 1, rss_mb() - start
        if (i + 1) % 100_000 == 0:
            print(
                f"  {i + 1:>9,} inserts: RSS +{rss_mb() - start:6.1f} MB, "
                f"estimate {cache.currsize / 2**20:5.1f} MiB, {len(cache):,} entries",
                flush=True,
            )
    end = rss_mb() - start
    if full_at is None or settled_at is None:
        print("the cache was not filled and replaced four times: raise --inserts")
        return 1
    growth = (end - settled_rss) / (bound / 2**20)
    print(
        f"RSS above start: full {full_rss:.1f} MB, replaced four times {settled_rss:.1f} MB, "
        f"end {end:.1f} MB ({end / (bound / 2**20):.2f} x the bound); from replaced four "
        f"times to the end {growth:+.1%} of the bound (goal under 1%)"
    )
    return 0 if growth < 0.01 else 1


if __name__ == "__main__":
    sys.exit(main())
