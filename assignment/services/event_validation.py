"""Validation of one conversion event as an app sends it: a clean row, or why it was refused.

Plain Python (no Django, no database): the ingestion service (``assignment.services.events``)
runs it on every item of a batch, so it is written for speed: exact type checks, one regex, one
``json.dumps`` per item that has properties.

Times: ``timestamp`` is when the event happened by the client's clock. When the batch carries
``sent_at`` (the client's clock when it sent the batch), the stored event time is corrected for
the client's clock skew: ``received_at - (sent_at - timestamp)``, i.e. ``timestamp + skew`` with
``skew = received_at - sent_at``. The corrected time must lie within
``[received_at - 90 days, received_at + 24 hours]`` (both edges included).

Numbers: ``value`` and numeric ``properties`` must be finite doubles of absolute value at most
``core.limits.MAX_ABS_NUMBER`` (1e15), so no stored row can make a later aggregation overflow.
Identifiers follow ``core.limits.is_identifier`` (not empty, not only whitespace), the rule the
assign API applies to ``unit_id`` too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from core.limits import (
    EVENT_NAME_PATTERN,
    MAX_ABS_NUMBER_TEXT,
    MAX_UNIT_ID_LENGTH,
    is_bounded_number,
    is_event_name,
    is_identifier,
    storable_text,
)

MAX_EVENT_ID_LENGTH = 128
MAX_PROPERTIES_BYTES = 8 * 1024
MAX_FUTURE = timedelta(hours=24)
MAX_AGE = timedelta(days=90)
REQUIRED_FIELDS = ("event_id", "unit_id", "event", "timestamp")

_MAX_TIMESTAMP_LENGTH = 64


class Reason:
    """The reasons an item can be rejected for (``missing`` is formatted with the field names)."""

    NOT_OBJECT = "event must be a JSON object"
    MISSING = "missing required field(s): {}"
    EVENT_ID = "event_id must be a non-empty string of at most 128 characters, not only whitespace"
    UNIT_ID = "unit_id must be a non-empty string of at most 256 characters, not only whitespace"
    EVENT_NAME = f"event name must match {EVENT_NAME_PATTERN}"
    TIMESTAMP = (
        "timestamp must be an ISO-8601 date-time with a time zone, e.g. 2024-05-01T12:00:00Z"
    )
    VALUE = (
        f"value must be a finite number from -{MAX_ABS_NUMBER_TEXT} to {MAX_ABS_NUMBER_TEXT} "
        "(or null)"
    )
    PROPERTY_NUMBER = (
        'properties: "{}" must be a finite number from '
        f"-{MAX_ABS_NUMBER_TEXT} to {MAX_ABS_NUMBER_TEXT}"
    )
    PROPERTIES_FLAT = (
        "properties must be a flat object whose values are strings, finite numbers, "
        "booleans or null"
    )
    PROPERTIES_SIZE = f"properties exceed {MAX_PROPERTIES_BYTES} bytes serialized as JSON"
    TEXT = "{} contains characters that cannot be stored (NUL or an unpaired surrogate)"
    TOO_FUTURE = "timestamp is more than 24 hours in the future (after clock-skew correction)"
    TOO_OLD = "timestamp is more than 90 days old (after clock-skew correction)"


class EventRow(NamedTuple):
    """A valid event, ready to store (times in UTC, properties serialized as JSON text)."""

    event_id: str
    unit_id: str
    event: str
    timestamp: datetime
    client_timestamp: datetime
    value: float | None
    properties: str


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """The batch's time context: skew to add to client timestamps, and the accepted range."""

    received_at: datetime
    skew: timedelta
    earliest: datetime
    latest: datetime

    @classmethod
    def for_batch(cls, *, received_at: datetime, sent_at: datetime | None) -> TimeWindow:
        skew = received_at - sent_at if sent_at is not None else timedelta(0)
        return cls(
            received_at=received_at,
            skew=skew,
            earliest=received_at - MAX_AGE,
            latest=received_at + MAX_FUTURE,
        )


def parse_aware_datetime(value: Any) -> datetime | None:
    """An ISO-8601 date-time string with a zone offset (or ``Z``), else None."""
    if type(value) is not str or len(value) > _MAX_TIMESTAMP_LENGTH:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return None
    return parsed


def _identifier(item: dict[str, Any], field: str, max_length: int, reason: str) -> str:
    """The field's value if it is a storable string of 1..max_length characters, else raise."""
    value = item[field]
    if is_identifier(value, max_length):
        return value
    if type(value) is str and 0 < len(value) <= max_length and not value.isspace():
        raise _Rejected(Reason.TEXT.format(field))
    raise _Rejected(reason)


class _Rejected(Exception):
    def __init__(self, reason: str):
        self.reason = reason


def _value(raw: Any) -> float | None:
    if raw is None:
        return None
    if is_bounded_number(raw):
        return float(raw)
    raise _Rejected(Reason.VALUE)


def _properties(raw: Any) -> str:
    if raw is None:
        return "{}"
    if type(raw) is not dict:
        raise _Rejected(Reason.PROPERTIES_FLAT)
    if not raw:
        return "{}"
    for key, value in raw.items():
        kind = type(value)
        if kind is str:
            if "\x00" in value:
                raise _Rejected(Reason.TEXT.format("properties"))
        elif kind is float or kind is int:
            if not is_bounded_number(value):
                name = key[:64] if type(key) is str and storable_text(key) else "?"
                raise _Rejected(Reason.PROPERTY_NUMBER.format(name))
        elif not (kind is bool or value is None):
            raise _Rejected(Reason.PROPERTIES_FLAT)
        if type(key) is not str or "\x00" in key:
            raise _Rejected(Reason.TEXT.format("properties"))
    text = json.dumps(raw, ensure_ascii=False, separators=(",", ":"))
    if len(text) > MAX_PROPERTIES_BYTES:
        raise _Rejected(Reason.PROPERTIES_SIZE)
    if not text.isascii():
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError:
            raise _Rejected(Reason.TEXT.format("properties")) from None
        if size > MAX_PROPERTIES_BYTES:
            raise _Rejected(Reason.PROPERTIES_SIZE)
    return text


def _event_time(raw: Any, window: TimeWindow) -> tuple[datetime, datetime]:
    """(corrected event time, client timestamp), both in UTC, or raise with the reason."""
    client = parse_aware_datetime(raw)
    if client is None:
        raise _Rejected(Reason.TIMESTAMP)
    try:
        corrected = client + window.skew
        too_old = corrected < window.earliest
    except OverflowError:
        # Pushed beyond year 1 (negative skew) or year 9999 (positive skew) by the correction.
        too_old = window.skew < timedelta(0)
        raise _Rejected(Reason.TOO_OLD if too_old else Reason.TOO_FUTURE) from None
    if too_old:
        raise _Rejected(Reason.TOO_OLD)
    if corrected > window.latest:
        raise _Rejected(Reason.TOO_FUTURE)
    try:
        client_utc = client.astimezone(UTC)
    except OverflowError:
        raise _Rejected(Reason.TIMESTAMP) from None
    return corrected.astimezone(UTC), client_utc


def event_validate(item: Any, window: TimeWindow) -> EventRow | str:
    """A clean row for a valid item, else the reason (a sentence) it is rejected."""
    if type(item) is not dict:
        return Reason.NOT_OBJECT
    missing = [field for field in REQUIRED_FIELDS if item.get(field) is None]
    if missing:
        return Reason.MISSING.format(", ".join(missing))
    try:
        event_id = _identifier(item, "event_id", MAX_EVENT_ID_LENGTH, Reason.EVENT_ID)
        unit_id = _identifier(item, "unit_id", MAX_UNIT_ID_LENGTH, Reason.UNIT_ID)
        name = item["event"]
        if not is_event_name(name):
            return Reason.EVENT_NAME
        timestamp, client_timestamp = _event_time(item["timestamp"], window)
        value = _value(item.get("value"))
        properties = _properties(item.get("properties"))
    except _Rejected as rejected:
        return rejected.reason
    return EventRow(event_id, unit_id, name, timestamp, client_timestamp, value, properties)
