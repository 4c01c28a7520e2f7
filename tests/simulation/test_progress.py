"""The simulator's progress: a bar redrawn in place on a terminal, whole lines elsewhere."""

from __future__ import annotations

import io

from analysis.simulation.progress import progress_printer


def _run(tty: bool) -> str:
    stream = io.StringIO()
    report = progress_printer(stream, tty=tty)
    for stage in ("pricing: users", "coupon: users"):
        for done in range(0, 1001, 50):
            report(done, 1000, stage)
    return stream.getvalue()


def test_progress__not_a_terminal__one_whole_line_per_stage_every_10_percent():
    text = _run(tty=False)
    assert "\r" not in text
    lines = text.splitlines()
    assert len(lines) == 20  # 10%, 20%, ... 100%, for each stage
    assert lines[0].startswith("pricing: users: 100/1,000 (10%)")
    assert lines[9].startswith("pricing: users: 1,000/1,000 (100%)")
    assert lines[19].startswith("coupon: users: 1,000/1,000 (100%)")
    assert all(line.endswith(" s") for line in lines)


def test_progress__terminal__carriage_return_bar_ending_each_stage_with_a_newline():
    text = _run(tty=True)
    assert text.count("\r") == 42 and text.count("\n") == 2
    assert "[" + "#" * 30 + "] 1,000/1,000\n" in text
