"""Server-rendered SVG charts for the report: pure geometry, no Django, no chart library.

``scale`` maps data values onto pixels, ``nice_ticks`` chooses round axis labels,
``interval_bar`` places an effect's interval around zero, and ``line_with_band`` draws the
effect over time with its interval band; ``later_domain``, ``time_ticks`` and ``time_points``
(``timeline``) scale it to the later snapshots and put dates on it. Templates only print the
numbers these return.
"""

from .geometry import (
    Band,
    IntervalBar,
    LinearScale,
    Tick,
    interval_bar,
    line_with_band,
    nice_ticks,
    shared_domain,
)
from .timeline import TimePoint, TimeTicks, later_domain, time_points, time_ticks

__all__ = [
    "Band",
    "IntervalBar",
    "LinearScale",
    "Tick",
    "TimePoint",
    "TimeTicks",
    "interval_bar",
    "later_domain",
    "line_with_band",
    "nice_ticks",
    "shared_domain",
    "time_points",
    "time_ticks",
]
