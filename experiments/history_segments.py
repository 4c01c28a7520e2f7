"""Segments from each unit's history before its first exposure: what an experiment may ask
for (``Experiment.history_segments``) and the checks on it (pure; field-keyed messages).

The configuration is a JSON object::

    {"kinds": ["new_vs_returning", "rfm", "spend_tier"], "days": 30,
     "value_event": "purchase", "value_field": "revenue", "new_attribute": "is_new"}

``{}`` asks for none. ``days`` is the look-back before each unit's first exposure (1..365,
default 30); ``value_event`` (and optionally ``value_field``, else the event's value) is what
spend is, required by ``rfm`` and ``spend_tier``; ``new_attribute`` optionally names an
exposure attribute that says whether the unit is new (``true``/``"new"``) or returning
(``false``/``"returning"``), read before the history. The aggregation is
``analysis.aggregation.history``; docs/analysis.md says what each segment means.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _

NEW_VS_RETURNING = "new_vs_returning"
RFM = "rfm"
SPEND_TIER = "spend_tier"
KINDS = (NEW_VS_RETURNING, RFM, SPEND_TIER)
DEFAULT_DAYS = 30
MAX_DAYS = 365
KEYS = ("kinds", "days", "value_event", "value_field", "new_attribute")
_NAME = re.compile(r"^[A-Za-z0-9_.:$-]{1,100}$")

Errors = dict[str, list[str]]


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def check_history_segments(
    value: Any, errors: Errors, *, field: str = "history_segments"
) -> dict[str, Any]:
    """The configuration normalised (kinds in ``KINDS`` order, ``days`` filled in; ``{}`` when
    no kind is asked for); problems are added to ``errors`` under ``<field>.<key>``."""
    if value is None or value == {}:
        return {}
    if not isinstance(value, dict):
        _add(errors, field, _("Enter a JSON object."))
        return {}
    for key in sorted(set(value) - set(KEYS)):
        _add(
            errors,
            f"{field}.{key}",
            _('Unknown setting "%(key)s"; use one of: %(allowed)s.')
            % {"key": key, "allowed": ", ".join(KEYS)},
        )
    kinds = value.get("kinds", [])
    if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        _add(errors, f"{field}.kinds", _("Enter a list of segment kinds."))
        kinds = []
    for kind in kinds:
        if kind not in KINDS:
            _add(
                errors,
                f"{field}.kinds",
                _('Unknown segment kind "%(kind)s"; use one of: %(allowed)s.')
                % {"kind": kind, "allowed": ", ".join(KINDS)},
            )
    days = value.get("days", DEFAULT_DAYS)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        _add(
            errors,
            f"{field}.days",
            _("Enter a whole number of days from 1 to %(max)s.") % {"max": MAX_DAYS},
        )
    texts = {}
    for key in ("value_event", "value_field", "new_attribute"):
        text = value.get(key) or ""
        if not isinstance(text, str) or (text and not _NAME.match(text)):
            _add(
                errors,
                f"{field}.{key}",
                _("Use up to 100 letters, digits, and _ . : $ -."),
            )
            text = ""
        texts[key] = text
    if (
        (RFM in kinds or SPEND_TIER in kinds)
        and not texts["value_event"]
        and value.get("value_event") in (None, "")
    ):
        _add(
            errors,
            f"{field}.value_event",
            _("Name the event whose value is spend (RFM and spend tiers need it)."),
        )
    chosen = [k for k in KINDS if k in kinds]
    if not chosen:
        return {}
    out: dict[str, Any] = {"kinds": chosen, "days": days}
    out.update({k: v for k, v in texts.items() if v})
    return out


def history_config(value: Any) -> dict[str, Any]:
    """A stored configuration as the aggregation reads it ({} when none or not valid)."""
    errors: Errors = {}
    config = check_history_segments(value, errors)
    return {} if errors else config
