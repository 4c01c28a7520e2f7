"""The health checks' messages (``HealthCode``) in the reader's language.

Each message is the English one the health checks have always said, with its values as
placeholders; a long message is a few sentences joined by a space.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext as _

from analysis.engine.codes import HealthCode
from analysis.engine.contract import Coded

from .numbers import count, p_short, share, whole
from .reasons import REASONS
from .segments import segment_dimension_label, segment_value_label

Params = Mapping[str, Any]


def _split(values: Mapping[str, Any], *, rounded: bool) -> str:
    return " / ".join(
        f"{k} {count(round(float(n or 0)) if rounded else n)}" for k, n in values.items()
    )


def _srm_parts(p: Params, *, error: bool) -> list[str]:
    values = {
        "p": p_short(p["p"]),
        "observed": _split(p["observed"], rounded=False),
        "expected": _split(p["expected"], rounded=True),
    }
    if error:
        head = _("Sample ratio mismatch (p = %(p)s): observed %(observed)s, expected %(expected)s.")
    else:
        head = _("Sample ratio warning (p = %(p)s): observed %(observed)s, expected %(expected)s.")
    parts = [head % values]
    segment = p.get("segment")
    if segment:
        parts.append(
            _(
                "The imbalance is largest for %(attribute)s = %(value)s (p = %(p)s, "
                "%(units)s units)."
            )
            % {
                "attribute": segment_dimension_label(segment["attribute"]),
                "value": segment_value_label(segment["attribute"], segment["value"]),
                "p": p_short(segment["p"]),
                "units": count(segment["units"]),
            }
        )
    return parts


def _srm_warning(p: Params) -> str:
    advice = _(
        "Below p = 0.001 this becomes an error and the decision is held. Check targeting or "
        "weight changes during the run, redirects or crashes that lose one variant's "
        "exposures, and bot filtering."
    )
    return " ".join([*_srm_parts(p, error=False), advice])


def _srm_error(p: Params) -> str:
    advice = _(
        "Results are not trustworthy until this is explained: check targeting or weight "
        "changes during the run, redirects or crashes that lose one variant's exposures, and "
        "bot filtering."
    )
    return " ".join([*_srm_parts(p, error=True), advice])


def _alarm_items(p: Params) -> str:
    """The named segments (or days) of a segment or day SRM check, '; ' between them."""
    attribute = str(p.get("attribute", ""))
    return "; ".join(
        _(
            "%(value)s: observed %(observed)s, expected %(expected)s (p = %(p)s, adjusted "
            "p = %(p_adjusted)s)"
        )
        % {
            "value": segment_value_label(attribute, item["value"]),
            "observed": _split(item["observed"], rounded=False),
            "expected": _split(item["expected"], rounded=True),
            "p": p_short(item["p"]),
            "p_adjusted": p_short(item["p_adjusted"]),
        }
        for item in p["items"]
    )


def _alarm_values(p: Params) -> dict[str, str]:
    return {
        "attribute": segment_dimension_label(str(p.get("attribute", ""))),
        "items": _alarm_items(p),
        "count": count(p["count"]),
        "family_size": count(p["family_size"]),
    }


def _segment_srm_warning(p: Params) -> str:
    return _(
        "Sample ratio warning within %(attribute)s: %(items)s. %(count)s of %(family_size)s "
        "segments stay below p = 0.001 after correcting for the number of segments, although "
        "the overall split looks fine. Below an adjusted p = 1e-6 the decision is held. Check "
        "crashes, redirects and exposure logging that differ by %(attribute)s."
    ) % _alarm_values(p)


def _segment_srm_error(p: Params) -> str:
    return _(
        "Sample ratio mismatch within %(attribute)s: %(items)s. %(count)s of %(family_size)s "
        "segments stay below p = 0.001 after correcting for the number of segments, at least "
        "one below 1e-6, although the overall split looks fine: the decision is held. Results "
        "are not trustworthy until this is explained: check crashes, redirects and exposure "
        "logging that differ by %(attribute)s."
    ) % _alarm_values(p)


def _day_srm_warning(p: Params) -> str:
    return _(
        "Sample ratio warning on %(count)s of %(family_size)s exposure days (after correcting "
        "for the number of days): %(items)s. Check releases, incidents and exposure logging on "
        "those days: a day with a broken split often means that one variant's exposures were "
        "lost or logged twice."
    ) % _alarm_values(p)


def _no_exposures_at_all(p: Params) -> str:
    return _(
        "No exposures at all for %(hours)s hours in a running experiment. Check that the app "
        "still calls the assign API for this experiment (with tracking on), that targeting "
        "still matches real users, and that coverage is above 0."
    ) % {"hours": whole(p["hours"])}


def _no_exposures(p: Params) -> str:
    return _(
        "No new exposures for %(hours)s hours in a running experiment. Check that the app still "
        "calls the assign API for this experiment (with tracking on), that targeting still "
        "matches real users, and that coverage is above 0."
    ) % {"hours": whole(p["hours"])}


def _guardrail_loss(p: Params) -> str:
    loss = Coded.from_dict(p["loss"])
    advice = _(
        "Consider stopping or pausing this variant and look at the segments to see who is affected."
    )
    return " ".join([REASONS[loss.code](loss.params), advice])


def _underpowered_values(p: Params) -> dict[str, str]:
    return {
        "have": count(p["have"]),
        "needed": count(p["needed"]),
        "mde": share(p["mde"]),
        "metric": str(p["metric"]),
        "power": share(p["power"], 0),
    }


def _underpowered_plan(p: Params) -> str:
    return _(
        "Underpowered: the planned sample of %(have)s units per variant is below the "
        "%(needed)s needed to detect the planned minimum effect of %(mde)s on %(metric)s at "
        "%(power)s power; a real effect of that size may be missed. Run longer, raise "
        "coverage, or accept a larger minimum detectable effect."
    ) % _underpowered_values(p)


def _underpowered_sample(p: Params) -> str:
    values = _underpowered_values(p)
    if p.get("current") is not None:
        return _(
            "Underpowered: the sample collected of %(have)s units per variant is below the "
            "%(needed)s needed to detect the planned minimum effect of %(mde)s on %(metric)s "
            "at %(power)s power; it can only detect about %(current)s. Run longer, raise "
            "coverage, or accept a larger minimum detectable effect."
        ) % (values | {"current": share(p["current"])})
    return (
        _(
            "Underpowered: the sample collected of %(have)s units per variant is below the "
            "%(needed)s needed to detect the planned minimum effect of %(mde)s on %(metric)s at "
            "%(power)s power; a real effect of that size may be missed. Run longer, raise "
            "coverage, or accept a larger minimum detectable effect."
        )
        % values
    )


def _multiple_exposures(p: Params) -> str:
    return _(
        "%(units)s units (%(share)s of exposed units) saw more than one variant and are left "
        "out of the analysis. Check that the unit id is stable across sessions and devices and "
        "that attributes used for targeting do not change during the experiment."
    ) % {"units": count(p["units"]), "share": share(p["share"], 2)}


def _values_out_of_range(p: Params) -> str:
    return _(
        "%(name)s: %(units)s units had values beyond the accepted range (±1e100); they were "
        "counted at the limit, so this metric's figures do not describe those values. Find the "
        "events with such values (stored before ingestion refused them, or written around the "
        "API) and correct or delete them."
    ) % {"name": p["name"], "units": count(p["units"])}


MESSAGES: dict[str, Callable[[Params], str]] = {
    HealthCode.SRM_WARNING: _srm_warning,
    HealthCode.SRM_ERROR: _srm_error,
    HealthCode.NO_EXPOSURES_AT_ALL: _no_exposures_at_all,
    HealthCode.NO_EXPOSURES: _no_exposures,
    HealthCode.GUARDRAIL_LOSS: _guardrail_loss,
    HealthCode.UNDERPOWERED_PLAN: _underpowered_plan,
    HealthCode.UNDERPOWERED_SAMPLE: _underpowered_sample,
    HealthCode.MULTIPLE_EXPOSURES: _multiple_exposures,
    HealthCode.VALUES_OUT_OF_RANGE: _values_out_of_range,
    HealthCode.SEGMENT_SRM_WARNING: _segment_srm_warning,
    HealthCode.SEGMENT_SRM_ERROR: _segment_srm_error,
    HealthCode.DAY_SRM_WARNING: _day_srm_warning,
}
