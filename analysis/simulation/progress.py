"""Progress of a simulation on a stream: a bar redrawn in place on a terminal, whole lines
elsewhere (a log file, CI), so the lines never run together."""

from __future__ import annotations

import time
from typing import TextIO

from .runner import Progress

BAR_WIDTH = 30
STEP = 10  # percent between lines when the stream is not a terminal


def progress_printer(stream: TextIO, *, tty: bool | None = None) -> Progress:
    """A ``Progress`` callback writing to ``stream``: on a terminal one carriage-return bar per
    stage; otherwise one line per stage each 10% (and at its end), with the seconds since the
    stage began."""
    interactive = stream.isatty() if tty is None else tty
    shown: dict[str, int] = {}
    began: dict[str, float] = {}

    def report(done: int, total: int, stage: str) -> None:
        total = max(total, 1)
        now = time.perf_counter()
        if done == 0 or stage not in began:  # a stage (re)starts
            began[stage] = now
            shown.pop(stage, None)
        if interactive:
            filled = BAR_WIDTH * done // total
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            end = "\n" if done >= total else ""
            stream.write(f"\r{stage} [{bar}] {done:,}/{total:,}{end}")
            stream.flush()
            return
        percent = 100 * done // total
        step = percent // STEP * STEP
        if done < total and (step == 0 or shown.get(stage, -1) >= step):
            return
        if done >= total and shown.get(stage) == 100:
            return
        shown[stage] = 100 if done >= total else step
        seconds = now - began[stage]
        stream.write(f"{stage}: {done:,}/{total:,} ({percent}%) {seconds:.1f} s\n")
        stream.flush()

    return report
