"""The words of the history segments (``analysis.aggregation.history``) in the reader's
language: each kind's and dimension's name and each segment value's label ("R high · F mid ·
M low", "Champions"), for the report's tabs, the audit log, and the health messages and
reasons that name a segment. Attribute segments keep their own names and values."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analysis.aggregation.history import (
    NEW_VS_RETURNING_ATTR,
    NO_HISTORY,
    NO_SPEND,
    PREFIX,
    RFM_ATTR,
    RFM_GROUP_ATTR,
    SPEND_TIER_ATTR,
)
from experiments.history_segments import NEW_VS_RETURNING, RFM, SPEND_TIER

# The kinds an experiment chooses (``experiments.history_segments.KINDS``).
HISTORY_KIND_LABELS: dict[str, Promise] = {
    NEW_VS_RETURNING: gettext_lazy("New or returning"),
    RFM: gettext_lazy("RFM tier"),
    SPEND_TIER: gettext_lazy("Spend tier"),
}

DIMENSION_LABELS: dict[str, Promise] = {
    NEW_VS_RETURNING_ATTR: HISTORY_KIND_LABELS[NEW_VS_RETURNING],
    RFM_ATTR: HISTORY_KIND_LABELS[RFM],
    RFM_GROUP_ATTR: gettext_lazy("RFM group"),
    SPEND_TIER_ATTR: HISTORY_KIND_LABELS[SPEND_TIER],
}
VALUE_LABELS: dict[str, Promise] = {
    "new": gettext_lazy("New"),
    "returning": gettext_lazy("Returning"),
    "champions": gettext_lazy("Champions"),
    "regulars": gettext_lazy("Regulars"),
    "at_risk": gettext_lazy("At risk"),
    NO_HISTORY: gettext_lazy("No history"),
    NO_SPEND: gettext_lazy("No spend"),
}


def _tier_labels() -> dict[str, str]:
    return {"low": _("low"), "mid": _("mid"), "high": _("high")}


def segment_dimension_label(attribute: str) -> str:
    """A segment dimension's tab name: a history dimension's words, else the attribute."""
    found = DIMENSION_LABELS.get(attribute)
    return str(found) if found is not None else attribute


def segment_value_label(attribute: str, value: str) -> str:
    """A segment value as the report shows it: ``high.mid.low`` of the RFM tier reads
    "R high · F mid · M low", a spend tier "high", the other history values their words;
    attribute segments' values as they are."""
    if not attribute.startswith(PREFIX):
        return value
    tiers = _tier_labels()
    if attribute == RFM_ATTR and value.count(".") == 2:
        r, f, m = (tiers.get(part, part) for part in value.split("."))
        return _("R %(r)s · F %(f)s · M %(m)s") % {"r": r, "f": f, "m": m}
    if attribute == SPEND_TIER_ATTR and value in tiers:
        return {"low": _("Low spend"), "mid": _("Medium spend"), "high": _("High spend")}[value]
    found = VALUE_LABELS.get(value)
    return str(found) if found is not None else value


# The report's order of a history dimension's values: best first, units without history last.
_VALUE_ORDER = {
    v: i
    for i, v in enumerate(
        ("new", "returning", "champions", "regulars", "at_risk", "high", "mid", "low")
        + (NO_HISTORY, NO_SPEND)
    )
}


def segment_value_order(attribute: str, value: str) -> tuple[int, ...]:
    """A sort key for the values of one dimension: history values in ``_VALUE_ORDER`` (an
    RFM tier by R, then F, then M, high first); attribute values keep their order (0)."""
    if not attribute.startswith(PREFIX):
        return (0,)
    last = len(_VALUE_ORDER)
    return tuple(_VALUE_ORDER.get(part, last) for part in value.split("."))
