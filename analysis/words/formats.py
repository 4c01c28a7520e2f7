"""A metric's values as people read them, by its display format (``core.vocab.DisplayFormat``):
rates in % with their differences in percentage points, money with its currency's symbol,
counts and numbers grouped by the active locale, durations in seconds; and p-values as
'< 0.001' or to three significant figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from core.vocab import DisplayFormat, display_format_of

from .numbers import localize

HUGE = 1e9
SYMBOLS = {
    "CNY": "¥",
    "RMB": "¥",
    "JPY": "¥",
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "KRW": "₩",
    "INR": "₹",
    "HKD": "HK$",
    "TWD": "NT$",
    "SGD": "S$",
    "AUD": "A$",
    "CAD": "C$",
}
DASH = "—"


def currency_symbol(code: str) -> str:
    """The symbol of an ISO 4217 code ('¥' for CNY), else the code and a space."""
    code = (code or "").upper()
    return SYMBOLS.get(code, f"{code} " if code else "")


def _grouped(x: float, decimals: int) -> str:
    if abs(x) >= HUGE:
        return localize(f"{x:.4g}")
    return number_format(x, decimals, force_grouping=True)


def _sign(x: float) -> str:
    return "+" if x > 0 else ("−" if x < 0 else "")


@dataclass(frozen=True)
class NumberFormat:
    """How one metric's values and differences are written."""

    kind: DisplayFormat = DisplayFormat.NUMBER
    currency: str = ""

    def _magnitude(self, x: float, *, difference: bool) -> str:
        if self.kind == DisplayFormat.RATE:
            if difference:
                return _("%(n)s pp") % {"n": _grouped(x * 100, 2)}
            return f"{_grouped(x * 100, 2)}%"
        if self.kind == DisplayFormat.CURRENCY:
            return f"{currency_symbol(self.currency)}{_grouped(x, 2)}"
        if self.kind == DisplayFormat.COUNT:
            return _grouped(x, 0 if float(x).is_integer() else 2)
        if self.kind == DisplayFormat.DURATION:
            return _("%(n)s s") % {"n": _grouped(x, 1)}
        return _grouped(x, 4)

    def value(self, x: float | None) -> str:
        """A value: '7.09%', '¥12.50', '1,234', '12.5 s', '0.1895'; '—' for none."""
        if x is None:
            return DASH
        text = self._magnitude(abs(x), difference=False)
        return f"−{text}" if x < 0 else text

    def difference(self, x: float | None) -> str:
        """A signed difference: '+0.12 pp', '−¥1.20', '+3', '+0.0012'; '—' for none."""
        if x is None:
            return DASH
        return f"{_sign(x)}{self._magnitude(abs(x), difference=True)}"


def metric_format(metric_type: str, display_format: str = "", currency: str = "") -> NumberFormat:
    """A metric's format: the one set on it, else its type's default."""
    try:
        kind = display_format_of(metric_type, display_format)
    except ValueError:
        kind = DisplayFormat.NUMBER
    return NumberFormat(kind=kind, currency=currency)


def relative(x: float | None) -> str:
    """A relative effect as a signed percentage with two decimals: '+4.20%', '−1.05%'."""
    if x is None:
        return DASH
    percent = x * 100
    if abs(percent) >= HUGE:
        return f"{_sign(percent)}{localize(f'{abs(percent):.4g}')}%"
    return f"{_sign(percent)}{number_format(abs(percent), 2, force_grouping=True)}%"


def p_value(p: float | None) -> str:
    """A p-value: '< 0.001', or three significant figures ('0.0123', '0.12', '1')."""
    if p is None:
        return DASH
    if p < 0.001:
        return f"< {localize('0.001')}"
    return localize(f"{float(p):.3g}")


Formats = Mapping[str, NumberFormat]
