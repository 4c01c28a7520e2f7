"""Numbers, lists and evidence in the reader's language, written as the English sentences have
always written them: percentages, p-values, counts and lists with the active locale's
separators. The sentences (``reasons``, ``health``, ``breaker``) and the report's tables
(``console.report.rows``) are built from these.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.formats import get_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

# ---------------------------------------------------------------------------- numbers


def localize(text: str) -> str:
    """A number written with '.' and ',' (Python's format) in the active locale's separators."""
    decimal = str(get_format("DECIMAL_SEPARATOR"))
    thousand = str(get_format("THOUSAND_SEPARATOR"))
    return text.replace(",", "\0").replace(".", decimal).replace("\0", thousand)


def count(n: Any) -> str:
    """A whole number with the locale's grouping: '20,000'."""
    return number_format(int(n), force_grouping=True)


def whole(n: Any) -> str:
    """A whole number without grouping (hours, ids): '30'."""
    return localize(str(int(n)))


def na() -> str:
    """A value that is missing."""
    return _("n/a")


def pct(x: Any) -> str:
    """A signed percentage with one decimal: '+4.2%'."""
    return na() if x is None else localize(f"{float(x):+.1%}")


def share(x: Any, decimals: int = 1) -> str:
    """An unsigned percentage: '5.0%', '80%'."""
    return na() if x is None else localize(f"{float(x):.{decimals}%}")


def share_g(x: Any) -> str:
    """An unsigned percentage with as many digits as it needs: '95%', '2.5%', '0%'."""
    return na() if x is None else localize(f"{float(x) * 100:g}%")


def absolute(x: Any) -> str:
    """A signed number to four significant digits: '-0.03028'."""
    return na() if x is None else localize(f"{float(x):+.4g}")


def p_short(p: Any) -> str:
    """A p-value to two significant digits (SRM): '0.0023'."""
    return na() if p is None else localize(f"{float(p):.2g}")


def pvalue(p: Any, *, short: bool = False) -> str:
    """'p < 0.0001' or 'p = 0.0100'; ``short`` (pages): 'p < 0.001' or three significant
    figures, 'p = 0.0123'."""
    if p is None:
        return na()
    if short:
        if float(p) < 0.001:
            return _("p < %(limit)s") % {"limit": localize("0.001")}
        return _("p = %(p)s") % {"p": localize(f"{float(p):.3g}")}
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
    """Why a comparison could not be computed, as a label in a table: 'too few units'."""
    labels = {
        "ok": _("ok"),
        "too_few_units": _("too few units"),
        "zero_variance": _("zero variance"),
        "zero_control_mean": _("zero control mean"),
        "zero_denominator": _("zero denominator"),
        "relative_interval_unbounded": _("relative interval unbounded"),
    }
    return labels.get(str(status), str(status))


def status_word(status: Any) -> str:
    """Why a comparison could not be computed, inside a reason: in English its code
    ('too_few_units', as the results have always said it), in other languages its words."""
    words = {
        "ok": pgettext("comparison status in a sentence", "ok"),
        "too_few_units": pgettext("comparison status in a sentence", "too_few_units"),
        "zero_variance": pgettext("comparison status in a sentence", "zero_variance"),
        "zero_control_mean": pgettext("comparison status in a sentence", "zero_control_mean"),
        "zero_denominator": pgettext("comparison status in a sentence", "zero_denominator"),
        "relative_interval_unbounded": pgettext(
            "comparison status in a sentence", "relative_interval_unbounded"
        ),
    }
    return words.get(str(status), str(status))


# ---------------------------------------------------------------------------- evidence


def evidence(e: Mapping[str, Any]) -> str:
    """A comparison's evidence (``analysis.engine.formatting.evidence_params``):
    '+4.2% (interval +1.0% to +7.4%, p = 0.0100)', or with the chance to win (Bayesian); a
    row decided on the absolute difference shows it: '-0.03028 absolute (interval -0.03931 to
    -0.02126, p < 0.0001, Fisher's exact test; relative effect: zero_variance)'."""
    fmt = e.get("format")  # a page's number format for the metric (``analysis.words.formats``)
    if e.get("chance") is not None:
        tail = _("chance to win %(share)s") % {"share": share(e["chance"])}
    else:
        tail = pvalue(e.get("p"), short=fmt is not None)
    if e.get("test") == "fisher_exact":
        tail = _("%(tail)s, Fisher's exact test") % {"tail": tail}
    if e.get("basis") == "absolute":
        diff = absolute if fmt is None else fmt.difference
        status = status_word if fmt is None else status_label
        return _(
            "%(effect)s absolute (interval %(low)s to %(high)s, %(tail)s; relative effect: "
            "%(status)s)"
        ) % {
            "effect": diff(e.get("absolute")),
            "low": diff(e.get("absolute_low")),
            "high": diff(e.get("absolute_high")),
            "tail": tail,
            "status": status(e.get("status")),
        }
    return _("%(effect)s (interval %(low)s to %(high)s, %(tail)s)") % {
        "effect": pct(e.get("effect")),
        "low": pct(e.get("low")),
        "high": pct(e.get("high")),
        "tail": tail,
    }


def absolute_evidence(e: Mapping[str, Any]) -> str:
    """The absolute difference and its interval: '-0.03028 (interval -0.03931 to -0.02126)'."""
    fmt = e.get("format")
    diff = absolute if fmt is None else fmt.difference
    return _("%(effect)s (interval %(low)s to %(high)s)") % {
        "effect": diff(e.get("absolute")),
        "low": diff(e.get("absolute_low")),
        "high": diff(e.get("absolute_high")),
    }
