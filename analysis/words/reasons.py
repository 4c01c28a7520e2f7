"""The decision's reasons (``ReasonCode``) in the reader's language.

Each sentence is the English one the decision summary has always said, with its values as
placeholders; ``numbers`` writes the values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext as _

from analysis.engine.codes import ReasonCode

from .numbers import absolute_evidence, count, evidence, names, p_short, status_word
from .segments import segment_dimension_label, segment_value_label

Params = Mapping[str, Any]


def _srm_warning(p: Params) -> str:
    return _(
        "Sample ratio warning (p = %(p)s): units are split a little differently from the "
        "weights. Check assignment before acting; below p = 0.001 the decision is held."
    ) % {"p": p_short(p["p"])}


def _srm_error(p: Params) -> str:
    return _(
        "Sample ratio mismatch (p = %(p)s): units are not split as the weights say, so the "
        "results cannot be trusted. Investigate assignment (targeting changes, redirects, bot "
        "filtering, exposure logging) before deciding."
    ) % {"p": p_short(p["p"])}


def _no_primary(p: Params) -> str:
    return _("The experiment has no primary metric to decide on.")


def _not_enough_data(p: Params) -> str:
    return _("Not enough data yet to compare %(metric)s (%(statuses)s).") % {
        "metric": p["metric"],
        "statuses": names([status_word(s) for s in p["statuses"]]),
    }


def _variant_better(p: Params) -> str:
    return _("%(variant)s is significantly better than control on %(metric)s: %(evidence)s.") % {
        "variant": p["variant"],
        "metric": p["metric"],
        "evidence": evidence(p["evidence"]),
    }


def _no_guardrail_worse(p: Params) -> str:
    return _("No guardrail is significantly worse for %(variant)s.") % {"variant": p["variant"]}


def _variant_worse(p: Params) -> str:
    return _("%(variant)s is significantly worse than control on %(metric)s: %(evidence)s.") % {
        "variant": p["variant"],
        "metric": p["metric"],
        "evidence": evidence(p["evidence"]),
    }


def _improves_but(p: Params) -> str:
    return _("%(variant)s improves %(metric)s (%(evidence)s) but:") % {
        "variant": p["variant"],
        "metric": p["metric"],
        "evidence": evidence(p["evidence"]),
    }


def _guardrail_worse(p: Params) -> str:
    return _("Guardrail %(metric)s is significantly worse for %(variant)s: %(evidence)s.") % {
        "metric": p["metric"],
        "variant": p["variant"],
        "evidence": evidence(p["evidence"]),
    }


def _guardrail_interval_harmful(p: Params) -> str:
    return _(
        "Guardrail %(metric)s's absolute interval for %(variant)s lies wholly on the harmful "
        "side of zero: %(evidence)s."
    ) % {
        "metric": p["metric"],
        "variant": p["variant"],
        "evidence": absolute_evidence(p["evidence"]),
    }


def _inconclusive_values(p: Params) -> dict[str, str]:
    return {"metric": p["metric"], "variants": names(p["variants"]), "units": count(p["units"])}


def _inconclusive_reached(p: Params) -> str:
    return _(
        "No significant difference on %(metric)s for %(variants)s and the planned sample is "
        "reached (%(units)s units). The effect, if any, is smaller than this test can see."
    ) % _inconclusive_values(p)


def _inconclusive_stopped(p: Params) -> str:
    return _(
        "No significant difference on %(metric)s for %(variants)s and the experiment has "
        "stopped (%(units)s units). The effect, if any, is smaller than this test can see."
    ) % _inconclusive_values(p)


def _no_difference_yet(p: Params) -> str:
    return _("No significant difference on %(metric)s yet for %(variants)s.") % {
        "metric": p["metric"],
        "variants": names(p["variants"]),
    }


def _no_plan(p: Params) -> str:
    return _(
        "No planned sample size, duration or minimum detectable effect is set: keep running to "
        "a pre-planned sample rather than stopping at the first significant result."
    )


def _planned_sample_progress(p: Params) -> str:
    return _("%(units)s of the planned %(planned)s units so far.") % {
        "units": count(p["units"]),
        "planned": count(p["planned"]),
    }


def _required_sample_progress(p: Params) -> str:
    return _(
        "%(units)s of the %(needed)s units per variant needed for the planned minimum "
        "detectable effect so far."
    ) % {"units": count(p["units"]), "needed": count(p["needed"])}


def _planned_duration_running(p: Params) -> str:
    return _("The planned duration has not elapsed yet.")


def _segment_srm_error(p: Params) -> str:
    return _(
        "Sample ratio mismatch for %(attribute)s = %(value)s (adjusted p = %(p)s, %(units)s "
        "units): the split is broken in this segment although the overall split looks fine, so "
        "the results cannot be trusted. Investigate assignment and exposure logging for this "
        "segment before deciding."
    ) % {
        "attribute": segment_dimension_label(p["attribute"]),
        "value": segment_value_label(p["attribute"], p["value"]),
        "p": p_short(p["p"]),
        "units": count(p["units"]),
    }


REASONS: dict[str, Callable[[Params], str]] = {
    ReasonCode.SRM_WARNING: _srm_warning,
    ReasonCode.SRM_ERROR: _srm_error,
    ReasonCode.NO_PRIMARY: _no_primary,
    ReasonCode.NOT_ENOUGH_DATA: _not_enough_data,
    ReasonCode.VARIANT_BETTER: _variant_better,
    ReasonCode.NO_GUARDRAIL_WORSE: _no_guardrail_worse,
    ReasonCode.VARIANT_WORSE: _variant_worse,
    ReasonCode.IMPROVES_BUT: _improves_but,
    ReasonCode.GUARDRAIL_WORSE: _guardrail_worse,
    ReasonCode.GUARDRAIL_INTERVAL_HARMFUL: _guardrail_interval_harmful,
    ReasonCode.INCONCLUSIVE_REACHED: _inconclusive_reached,
    ReasonCode.INCONCLUSIVE_STOPPED: _inconclusive_stopped,
    ReasonCode.NO_DIFFERENCE_YET: _no_difference_yet,
    ReasonCode.NO_PLAN: _no_plan,
    ReasonCode.PLANNED_SAMPLE_PROGRESS: _planned_sample_progress,
    ReasonCode.REQUIRED_SAMPLE_PROGRESS: _required_sample_progress,
    ReasonCode.PLANNED_DURATION_RUNNING: _planned_duration_running,
    ReasonCode.SEGMENT_SRM_ERROR: _segment_srm_error,
}
