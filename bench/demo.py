"""The full demo's load time on the embedded SQLite default (goal: under 60 s on 2 cores).

Run:  .venv/bin/python bench/demo.py [--runs 3] [--processes 1 2] [--scale 1]

Each run migrates a new temporary SQLite file and times ``manage.py demo`` on it in a fresh
process, as ``make run`` does; with several ``--processes`` values the runs alternate between
them, so the figures are measured side by side. Printed per setting: each run's seconds (the
command's own "Demo loaded in" figure and the whole process), the median, and whether the
median is under the 60-second goal.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 60.0
LOADED = re.compile(r"Demo loaded in ([0-9.]+) s")


def _run(processes: int, scale: float) -> tuple[float, float]:
    """(the demo's own figure, the whole command) in seconds, on a new SQLite file."""
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": f"sqlite:///{folder}/demo.sqlite3",
        }
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        started = time.perf_counter()
        done = subprocess.run(
            [*manage, "demo", "--processes", str(processes), "--scale", str(scale)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        whole = time.perf_counter() - started
    found = LOADED.search(done.stdout)
    if found is None:
        raise SystemExit(f"manage.py demo printed no load time:\n{done.stdout}")
    return float(found.group(1)), whole


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--processes", type=int, nargs="+", default=[2])
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    print(f"manage.py demo --scale {args.scale} on SQLite, {os.cpu_count()} cores")
    times: dict[int, list[tuple[float, float]]] = {p: [] for p in args.processes}
    for run in range(args.runs):
        for processes in args.processes:
            loaded, whole = _run(processes, args.scale)
            times[processes].append((loaded, whole))
            print(f"  run {run + 1}, {processes} processes: {loaded:.1f} s ({whole:.1f} s)")
    for processes, runs in times.items():
        median = statistics.median(loaded for loaded, _ in runs)
        low, high = min(r[0] for r in runs), max(r[0] for r in runs)
        verdict = "met" if median < GOAL_SECONDS else "NOT met"
        print(
            f"{processes} processes: median {median:.1f} s (from {low:.1f} to {high:.1f}); "
            f"the {GOAL_SECONDS:.0f}-second goal is {verdict}"
        )


if __name__ == "__main__":
    main()
