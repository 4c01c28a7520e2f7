"""Running a loader over several experiments in side-by-side processes (the demo's traffic and
history: one experiment's work never touches another's rows).

The processes are forked: each opens its own database connection (the parent's are closed
first, so none is shared) and takes the next experiment from a queue until none is left. A
failure in any process fails the whole run, naming the experiment. Inside a transaction (the
test suite) the work stays in the calling process, since other processes could not see the
uncommitted rows.

On SQLite the database is switched to write-ahead logging, so a refresh reads while another
process writes, and each process waits up to ten minutes for the write lock instead of failing
at once.
"""

from __future__ import annotations

import multiprocessing
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, connections

from experiments.models import Experiment

LOCK_WAIT_MS = 600_000


def _work(ids: list[int], taken: Any, failed: Any, slot: int, load: Callable) -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {LOCK_WAIT_MS}")
    try:
        while True:
            with taken.get_lock():
                index = taken.value
                taken.value += 1
            if index >= len(ids):
                return
            failed[slot] = index
            load(Experiment.objects.get(pk=ids[index]))
            failed[slot] = -1
    except BaseException:
        sys.stderr.write(traceback.format_exc())
        raise
    finally:
        connections.close_all()


def each_in_processes(
    experiments: Sequence[Experiment],
    load: Callable[[Experiment], None],
    *,
    processes: int,
) -> None:
    """Call ``load`` on each experiment, in order, in up to ``processes`` forked processes
    (in this process when one, or inside a transaction). Raises ``RuntimeError`` naming each
    experiment whose load failed (its traceback is on standard error)."""
    if processes <= 1 or len(experiments) <= 1 or connection.in_atomic_block:
        for experiment in experiments:
            load(experiment)
        return
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode = WAL")
    connections.close_all()
    context = multiprocessing.get_context("fork")
    ids = [e.pk for e in experiments]
    count = min(processes, len(ids))
    taken = context.Value("i", 0)
    failed = context.Array("i", [-1] * count)
    workers = [
        context.Process(target=_work, args=(ids, taken, failed, slot, load))
        for slot in range(count)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    keys = {e.pk: e.key for e in experiments}
    problems = [
        f"{keys[ids[failed[slot]]] if failed[slot] >= 0 else 'a loader'} (exit code "
        f"{worker.exitcode})"
        for slot, worker in enumerate(workers)
        if worker.exitcode != 0
    ]
    if problems:
        raise RuntimeError("The demo could not load: " + ", ".join(problems) + ".")
