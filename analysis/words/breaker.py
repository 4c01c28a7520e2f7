"""What the guardrail circuit breaker says (``BreakerCode``) in the reader's language: the
pause's reason in the audit log and the owner's notice, each naming a harmful guardrail row.

A row's values are ``analysis.engine.breaker_rule.breaker_row_params``: metric, name,
variant, direction, threshold, basis, effect, interval and the level's alpha.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext as _

from analysis.engine.codes import BreakerCode
from analysis.engine.contract.breaker import BREAKER_RELATIVE

from .numbers import absolute, na, pct, share_g, whole

Params = Mapping[str, Any]


def _harmed(p: Params) -> str:
    relative = p.get("basis") == BREAKER_RELATIVE and p.get("effect") is not None and p.get("ci")
    fmt = pct if relative else absolute
    ci = p.get("ci")
    values = {
        "name": p["name"],
        "metric": p["metric"],
        "variant": p["variant"],
        "direction": _("lower is worse") if p["higher_is_better"] else _("higher is worse"),
        "effect": fmt(p["effect"]),
        "level": share_g(1 - float(p["alpha"])),
        "interval": _("%(low)s to %(high)s") % {"low": fmt(ci[0]), "high": fmt(ci[1])}
        if ci
        else na(),
        "threshold": share_g(p["threshold"]),
    }
    if relative:
        return (
            _(
                'Guardrail "%(name)s" (%(metric)s) is harmed in variant "%(variant)s" '
                "(%(direction)s): effect %(effect)s relative, always-valid %(level)s interval "
                "%(interval)s, beyond the harm threshold of %(threshold)s."
            )
            % values
        )
    return (
        _(
            'Guardrail "%(name)s" (%(metric)s) is harmed in variant "%(variant)s" '
            "(%(direction)s): effect %(effect)s absolute (the relative effect cannot be computed), "
            "always-valid %(level)s interval %(interval)s, beyond the harm threshold of "
            "%(threshold)s."
        )
        % values
    )


def _paused(p: Params) -> str:
    parts = [_("Paused by the guardrail circuit breaker."), _harmed(p["row"])]
    if p.get("more"):
        parts.append(_("%(count)s more guardrail rows are harmful.") % {"count": whole(p["more"])})
    parts.append(
        _("Snapshot %(snapshot)s (data as of %(as_of)s).")
        % {"snapshot": p["snapshot"], "as_of": p["as_of"]}
    )
    return " ".join(parts)


def _notice(p: Params) -> str:
    advice = _(
        "The experiment was paused, so every unit now gets the control; resume it when you "
        "have looked."
    )
    return " ".join([_harmed(p["row"]), advice])


BREAKER: dict[str, Callable[[Params], str]] = {
    BreakerCode.PAUSED: _paused,
    BreakerCode.NOTICE: _notice,
}
