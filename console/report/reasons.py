"""Decision reasons and health messages in the reader's language, from their codes.

The results store every reason and health message in English and, since schema version 4, as
a code with its values (``analysis.engine.contract.Coded``, built in ``analysis.engine.decision``
and ``health``). This module renders a code through the translation catalogue: each sentence
here is the English one the services write, with its values as placeholders, so an English
page reads as the stored words and a 简体中文 page reads in Chinese, for every snapshot stored
since version 4. Numbers are formatted as the services format them, with the active locale's
decimal and thousand separators. A message without a code (results stored before version 4),
or with a code or values this module does not know, is shown in its stored English.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.utils.formats import get_format, number_format
from django.utils.translation import gettext as _

from analysis.engine.contract import Coded, Decision, HealthCheck

# ---------------------------------------------------------------------------- numbers


def localize(text: str) -> str:
    """A number written with '.' and ',' (Python's format) in the active locale's separators."""
    decimal = str(get_format("DECIMAL_SEPARATOR"))
    thousand = str(get_format("THOUSAND_SEPARATOR"))
    return text.replace(",", "\0").replace(".", decimal).replace("\0", thousand)


def count(n: Any) -> str:
    """A whole number with the locale's grouping: '20,000'."""
    return number_format(int(n), force_grouping=True)


def _na() -> str:
    return _("n/a")


def pct(x: Any) -> str:
    """A signed percentage with one decimal: '+4.2%'."""
    return _na() if x is None else localize(f"{float(x):+.1%}")


def share(x: Any, decimals: int = 1) -> str:
    """An unsigned percentage: '5.0%', '80%'."""
    return _na() if x is None else localize(f"{float(x):.{decimals}%}")


def absolute(x: Any) -> str:
    return _na() if x is None else localize(f"{float(x):+.4g}")


def p_short(p: Any) -> str:
    """A p-value to two significant digits (SRM): '0.0023'."""
    return _na() if p is None else localize(f"{float(p):.2g}")


def pvalue(p: Any) -> str:
    """'p < 0.0001' or 'p = 0.0100'."""
    if p is None:
        return _na()
    if float(p) < 0.0001:
        return _("p < %(limit)s") % {"limit": localize("0.0001")}
    return _("p = %(p)s") % {"p": localize(f"{float(p):.4f}")}


def names(items: Sequence[Any]) -> str:
    """Names as a list: 'a, b' (in Chinese 'a、b')."""
    words = [str(i) for i in items]
    if not words:
        return ""
    out = words[0]
    for word in words[1:]:
        out = _("%(list)s, %(item)s") % {"list": out, "item": word}
    return out


def status_label(status: Any) -> str:
    """Why a comparison could not be computed, in words."""
    labels = {
        "ok": _("ok"),
        "too_few_units": _("too few units"),
        "zero_variance": _("zero variance"),
        "zero_control_mean": _("zero control mean"),
        "zero_denominator": _("zero denominator"),
        "relative_interval_unbounded": _("relative interval unbounded"),
    }
    return labels.get(str(status), str(status))


# ---------------------------------------------------------------------------- evidence


def evidence(e: Mapping[str, Any]) -> str:
    """'+4.2% (interval +1.0% to +7.4%, p = 0.0100)', as ``formatting.evidence`` says it."""
    if e.get("chance") is not None:
        tail = _("chance to win %(share)s") % {"share": share(e["chance"])}
    else:
        tail = pvalue(e.get("p"))
    if e.get("test") == "fisher_exact":
        tail = _("%(tail)s, Fisher's exact test") % {"tail": tail}
    if e.get("basis") == "absolute":
        return _(
            "%(effect)s absolute (interval %(low)s to %(high)s, %(tail)s; relative effect: "
            "%(status)s)"
        ) % {
            "effect": absolute(e.get("absolute")),
            "low": absolute(e.get("absolute_low")),
            "high": absolute(e.get("absolute_high")),
            "tail": tail,
            "status": status_label(e.get("status")),
        }
    return _("%(effect)s (interval %(low)s to %(high)s, %(tail)s)") % {
        "effect": pct(e.get("effect")),
        "low": pct(e.get("low")),
        "high": pct(e.get("high")),
        "tail": tail,
    }


def absolute_evidence(e: Mapping[str, Any]) -> str:
    """'-0.03028 (interval -0.03931 to -0.02126)'."""
    return _("%(effect)s (interval %(low)s to %(high)s)") % {
        "effect": absolute(e.get("absolute")),
        "low": absolute(e.get("absolute_low")),
        "high": absolute(e.get("absolute_high")),
    }


# ---------------------------------------------------------------------------- decision reasons


def _srm_warning_reason(p: Mapping[str, Any]) -> str:
    return _(
        "Sample ratio warning (p = %(p)s): units are split a little differently from the "
        "weights. Check assignment before acting; below p = 0.001 the decision is held."
    ) % {"p": p_short(p["p"])}


def _srm_error_reason(p: Mapping[str, Any]) -> str:
    return _(
        "Sample ratio mismatch (p = %(p)s): units are not split as the weights say, so the "
        "results cannot be trusted. Investigate assignment (targeting changes, redirects, bot "
        "filtering, exposure logging) before deciding."
    ) % {"p": p_short(p["p"])}


def _not_enough_data(p: Mapping[str, Any]) -> str:
    return _("Not enough data yet to compare %(metric)s (%(statuses)s).") % {
        "metric": p["metric"],
        "statuses": names([status_label(s) for s in p["statuses"]]),
    }


def _variant_better(p: Mapping[str, Any]) -> str:
    return _("%(variant)s is significantly better than control on %(metric)s: %(evidence)s.") % {
        "variant": p["variant"],
        "metric": p["metric"],
        "evidence": evidence(p["evidence"]),
    }


def _variant_worse(p: Mapping[str, Any]) -> str:
    return _("%(variant)s is significantly worse than control on %(metric)s: %(evidence)s.") % {
        "variant": p["variant"],
        "metric": p["metric"],
        "evidence": evidence(p["evidence"]),
    }


def _improves_but(p: Mapping[str, Any]) -> str:
    return _("%(variant)s improves %(metric)s (%(evidence)s) but:") % {
        "variant": p["variant"],
        "metric": p["metric"],
        "evidence": evidence(p["evidence"]),
    }


def _guardrail_worse(p: Mapping[str, Any]) -> str:
    return _("Guardrail %(metric)s is significantly worse for %(variant)s: %(evidence)s.") % {
        "metric": p["metric"],
        "variant": p["variant"],
        "evidence": evidence(p["evidence"]),
    }


def _guardrail_interval_harmful(p: Mapping[str, Any]) -> str:
    return _(
        "Guardrail %(metric)s's absolute interval for %(variant)s lies wholly on the harmful "
        "side of zero: %(evidence)s."
    ) % {
        "metric": p["metric"],
        "variant": p["variant"],
        "evidence": absolute_evidence(p["evidence"]),
    }


def _inconclusive(reached: bool) -> Callable[[Mapping[str, Any]], str]:
    def render(p: Mapping[str, Any]) -> str:
        values = {
            "metric": p["metric"],
            "variants": names(p["variants"]),
            "units": count(p["units"]),
        }
        if reached:
            return (
                _(
                    "No significant difference on %(metric)s for %(variants)s and the planned "
                    "sample is reached (%(units)s units). The effect, if any, is smaller than this "
                    "test can see."
                )
                % values
            )
        return (
            _(
                "No significant difference on %(metric)s for %(variants)s and the experiment has "
                "stopped (%(units)s units). The effect, if any, is smaller than this test can see."
            )
            % values
        )

    return render


def _no_difference_yet(p: Mapping[str, Any]) -> str:
    return _("No significant difference on %(metric)s yet for %(variants)s.") % {
        "metric": p["metric"],
        "variants": names(p["variants"]),
    }


def _planned_sample_progress(p: Mapping[str, Any]) -> str:
    return _("%(units)s of the planned %(planned)s units so far.") % {
        "units": count(p["units"]),
        "planned": count(p["planned"]),
    }


def _required_sample_progress(p: Mapping[str, Any]) -> str:
    return _(
        "%(units)s of the %(needed)s units per variant needed for the planned minimum "
        "detectable effect so far."
    ) % {"units": count(p["units"]), "needed": count(p["needed"])}


REASONS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "srm_warning": _srm_warning_reason,
    "srm_error": _srm_error_reason,
    "no_primary": lambda p: _("The experiment has no primary metric to decide on."),
    "not_enough_data": _not_enough_data,
    "variant_better": _variant_better,
    "no_guardrail_worse": lambda p: (
        _("No guardrail is significantly worse for %(variant)s.") % {"variant": p["variant"]}
    ),
    "variant_worse": _variant_worse,
    "improves_but": _improves_but,
    "guardrail_worse": _guardrail_worse,
    "guardrail_interval_harmful": _guardrail_interval_harmful,
    "inconclusive_reached": _inconclusive(True),
    "inconclusive_stopped": _inconclusive(False),
    "no_difference_yet": _no_difference_yet,
    "no_plan": lambda p: _(
        "No planned sample size, duration or minimum detectable effect is set: keep running to "
        "a pre-planned sample rather than stopping at the first significant result."
    ),
    "planned_sample_progress": _planned_sample_progress,
    "required_sample_progress": _required_sample_progress,
    "planned_duration_running": lambda p: _("The planned duration has not elapsed yet."),
}


# ---------------------------------------------------------------------------- health messages


def _split(values: Mapping[str, Any], *, rounded: bool) -> str:
    return " / ".join(
        f"{k} {count(round(float(n or 0)) if rounded else n)}" for k, n in values.items()
    )


def _srm_health(error: bool) -> Callable[[Mapping[str, Any]], str]:
    def render(p: Mapping[str, Any]) -> str:
        values = {
            "p": p_short(p["p"]),
            "observed": _split(p["observed"], rounded=False),
            "expected": _split(p["expected"], rounded=True),
        }
        if error:
            parts = [
                _(
                    "Sample ratio mismatch (p = %(p)s): observed %(observed)s, "
                    "expected %(expected)s."
                )
                % values
            ]
        else:
            parts = [
                _("Sample ratio warning (p = %(p)s): observed %(observed)s, expected %(expected)s.")
                % values
            ]
        segment = p.get("segment")
        if segment:
            parts.append(
                _(
                    "The imbalance is largest for %(attribute)s = %(value)s (p = %(p)s, "
                    "%(units)s units)."
                )
                % {
                    "attribute": segment["attribute"],
                    "value": segment["value"],
                    "p": p_short(segment["p"]),
                    "units": count(segment["units"]),
                }
            )
        if error:
            parts.append(
                _(
                    "Results are not trustworthy until this is explained: check targeting or "
                    "weight changes during the run, redirects or crashes that lose one "
                    "variant's exposures, and bot filtering."
                )
            )
        else:
            parts.append(
                _(
                    "Below p = 0.001 this becomes an error and the decision is held. Check "
                    "targeting or weight changes during the run, redirects or crashes that lose "
                    "one variant's exposures, and bot filtering."
                )
            )
        return " ".join(parts)

    return render


def _no_exposures(at_all: bool) -> Callable[[Mapping[str, Any]], str]:
    def render(p: Mapping[str, Any]) -> str:
        values = {"hours": localize(str(int(p["hours"])))}
        if at_all:
            return (
                _(
                    "No exposures at all for %(hours)s hours in a running experiment. Check "
                    "that the app still calls the assign API for this experiment (with tracking "
                    "on), that targeting still matches real users, and that coverage is above 0."
                )
                % values
            )
        return (
            _(
                "No new exposures for %(hours)s hours in a running experiment. Check that the app "
                "still calls the assign API for this experiment (with tracking on), that targeting "
                "still matches real users, and that coverage is above 0."
            )
            % values
        )

    return render


def _guardrail_loss(p: Mapping[str, Any]) -> str:
    loss = Coded.from_dict(p["loss"])
    first = REASONS[loss.code](loss.params)
    return " ".join(
        [
            first,
            _(
                "Consider stopping or pausing this variant and look at the segments to see who "
                "is affected."
            ),
        ]
    )


def _underpowered(plan: bool) -> Callable[[Mapping[str, Any]], str]:
    def render(p: Mapping[str, Any]) -> str:
        values = {
            "have": count(p["have"]),
            "needed": count(p["needed"]),
            "mde": share(p["mde"]),
            "metric": p["metric"],
            "power": share(p["power"], 0),
        }
        if plan:
            return (
                _(
                    "Underpowered: the planned sample of %(have)s units per variant is below "
                    "the %(needed)s needed to detect the planned minimum effect of %(mde)s on "
                    "%(metric)s at %(power)s power; a real effect of that size may be missed. "
                    "Run longer, raise coverage, or accept a larger minimum detectable effect."
                )
                % values
            )
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
                "%(needed)s needed to detect the planned minimum effect of %(mde)s on "
                "%(metric)s at %(power)s power; a real effect of that size may be missed. Run "
                "longer, raise coverage, or accept a larger minimum detectable effect."
            )
            % values
        )

    return render


def _multiple_exposures(p: Mapping[str, Any]) -> str:
    return _(
        "%(units)s units (%(share)s of exposed units) saw more than one variant and are left "
        "out of the analysis. Check that the unit id is stable across sessions and devices and "
        "that attributes used for targeting do not change during the experiment."
    ) % {"units": count(p["units"]), "share": share(p["share"], 2)}


def _values_out_of_range(p: Mapping[str, Any]) -> str:
    return _(
        "%(name)s: %(units)s units had values beyond the accepted range (±1e100); they were "
        "counted at the limit, so this metric's figures do not describe those values. Find the "
        "events with such values (stored before ingestion refused them, or written around the "
        "API) and correct or delete them."
    ) % {"name": p["name"], "units": count(p["units"])}


MESSAGES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "srm_warning": _srm_health(False),
    "srm_error": _srm_health(True),
    "no_exposures_at_all": _no_exposures(True),
    "no_exposures": _no_exposures(False),
    "guardrail_loss": _guardrail_loss,
    "underpowered_plan": _underpowered(True),
    "underpowered_sample": _underpowered(False),
    "multiple_exposures": _multiple_exposures,
    "values_out_of_range": _values_out_of_range,
}


# ---------------------------------------------------------------------------- entry points


def _render(
    table: Mapping[str, Callable[[Mapping[str, Any]], str]], coded: Coded | None, english: str
) -> str:
    if coded is None or coded.code not in table:
        return english
    try:
        return table[coded.code](coded.params)
    except (KeyError, TypeError, ValueError):
        return english  # values this version does not understand: the stored words


def decision_reasons(decision: Decision) -> list[str]:
    """The decision's reasons in the active language (stored English when not coded)."""
    if len(decision.reason_codes) != len(decision.reasons):
        return list(decision.reasons)
    return [
        _render(REASONS, coded, text)
        for text, coded in zip(decision.reasons, decision.reason_codes, strict=True)
    ]


def health_message(check: HealthCheck) -> str:
    """A health check's message in the active language (stored English when not coded)."""
    return _render(MESSAGES, check.coded, check.message)
