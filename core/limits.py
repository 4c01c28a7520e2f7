"""Input limits every door applies the same way: unit ids, event names and storable text.

The API, the admin, the web forms and the runtime endpoints all check input against these, and
the models size their columns from them, so a value accepted anywhere can be stored everywhere.
"""

from __future__ import annotations

import re

MAX_UNIT_ID_LENGTH = 256
MAX_EVENT_NAME_LENGTH = 64
EVENT_NAME_PATTERN = "^[a-z0-9_.:-]{1,64}$"
EVENT_NAME_HELP = "1-64 of a-z, 0-9, _ . : -"

_EVENT_NAME = re.compile(r"[a-z0-9_.:-]{1,64}")


def is_event_name(value: object) -> bool:
    """Whether ``value`` is a valid event name (``EVENT_NAME_PATTERN``)."""
    return type(value) is str and _EVENT_NAME.fullmatch(value) is not None


def storable_text(text: str) -> bool:
    """Whether PostgreSQL can store ``text``: no NUL character, valid UTF-8 (no lone surrogate)."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
