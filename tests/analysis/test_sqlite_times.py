"""SQLite's time markers: unixepoch() (SQLite 3.38+) and the strftime() fallback read the same
microseconds and days as Python does from the text Django stores."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from analysis.aggregation import render as render_module
from analysis.aggregation.dialect import Dialect, micros
from analysis.aggregation.render import render

TEXTS = [
    "1970-01-01 00:00:00",
    "2026-12-07 15:09:09",
    "2026-12-07 15:09:09.000001",
    "2024-02-29 23:59:59.999999",
    "1969-12-31 23:59:59.500000",
    "1900-03-01 12:34:56.123456",
    "2999-12-31 23:59:59.999999",
]


def _python(text: str) -> tuple[int, int]:
    when = dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
    return micros(when), (when.date() - dt.date(1970, 1, 1)).days


@pytest.mark.parametrize("unixepoch", [True, False])
def test_sqlite_ts_and_day__both_forms__equal_python(monkeypatch, unixepoch: bool) -> None:
    if unixepoch and sqlite3.sqlite_version_info < (3, 38, 0):
        pytest.skip("this SQLite has no unixepoch()")
    monkeypatch.setattr(render_module, "SQLITE_HAS_UNIXEPOCH", unixepoch)
    sql = render("SELECT VERDICT_TS(x.t) AS s, VERDICT_DAY(x.t) AS d FROM x", Dialect("sqlite"))
    assert ("UNIXEPOCH" in sql.upper()) is unixepoch
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE x (t TEXT)")
    db.executemany("INSERT INTO x VALUES (?)", [(t,) for t in [*TEXTS, "not a time", None]])
    rows = db.execute(sql).fetchall()
    assert [(s, int(d)) for s, d in rows[: len(TEXTS)]] == [_python(t) for t in TEXTS]
    assert rows[len(TEXTS) :] == [(None, None), (None, None)]
