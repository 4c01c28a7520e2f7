"""JavaScript value semantics, on JSON-shaped Python values.

GrowthBook's reference evaluator is JavaScript and leans on JavaScript's loose typing (``"8" > 5``
is true, ``null`` compares as 0, ``value + ""`` turns ``null`` into ``"null"``). To mean the same
thing as its SDKs, the evaluator uses these helpers instead of Python's operators. Values are
what ``json.loads`` produces: ``None``, ``bool``, ``int``, ``float``, ``str``, ``list``, ``dict``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

NAN = float("nan")

# StrWhiteSpaceChar of ECMAScript (WhiteSpace and LineTerminator).
_JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_DECIMAL = re.compile(r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|Infinity)")
_RADIX = {"0x": 16, "0X": 16, "0o": 8, "0O": 8, "0b": 2, "0B": 2}
_RADIX_DIGITS = {16: "0123456789abcdefABCDEF", 8: "01234567", 2: "01"}
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")


def is_number(v: Any) -> bool:
    """A JavaScript number: int or float but not bool."""
    return isinstance(v, int | float) and not isinstance(v, bool)


def _float(v: int | float) -> float:
    try:
        return float(v)
    except OverflowError:  # ints beyond the double range become +-Infinity, as in JS
        return math.inf if v > 0 else -math.inf


def number_to_string(x: int | float) -> str:
    """ECMAScript Number::toString (shortest round-trip digits, JS exponent rules)."""
    x = _float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    if x < 0:
        return "-" + number_to_string(-x)
    mantissa, _, exp = repr(x).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    # value = 0.<digits> * 10**n
    n = len(int_part) + (int(exp) if exp else 0)
    if int_part == "0":
        n = -(len(frac_part) - len(frac_part.lstrip("0")))
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    e = n - 1
    sign = "+" if e >= 0 else "-"
    head = digits[0] if k == 1 else digits[0] + "." + digits[1:]
    return f"{head}e{sign}{abs(e)}"


def to_string(v: Any) -> str:
    """ECMAScript ToString (what ``value + ""`` and ``String(value)`` give)."""
    if isinstance(v, str):
        return v
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if is_number(v):
        return number_to_string(v)
    if isinstance(v, list):
        return ",".join("" if e is None else to_string(e) for e in v)
    if isinstance(v, dict):
        return "[object Object]"
    return str(v)


def to_primitive(v: Any) -> Any:
    """ECMAScript ToPrimitive for JSON values: arrays and objects become strings."""
    if isinstance(v, list | dict):
        return to_string(v)
    return v


def string_to_number(s: str) -> float:
    """ECMAScript StringToNumber: ``""`` is 0, ``"0x1f"`` is 31, anything else unparsable NaN."""
    s = s.strip(_JS_WHITESPACE)
    if not s:
        return 0.0
    radix = _RADIX.get(s[:2])
    if radix is not None:
        body = s[2:]
        if body and all(c in _RADIX_DIGITS[radix] for c in body):
            return _float(int(body, radix))
        return NAN
    if _DECIMAL.fullmatch(s):
        return float(s.replace("Infinity", "inf"))
    return NAN


def to_number(v: Any) -> float:
    """ECMAScript ToNumber (``null`` is 0, ``true`` is 1, ``[]`` is 0, ``{}`` is NaN)."""
    v = to_primitive(v)
    if v is None:
        return 0.0
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if is_number(v):
        return _float(v)
    if isinstance(v, str):
        return string_to_number(v)
    return NAN


def _utf16(s: str) -> bytes:
    # Big-endian UTF-16 bytes order like the sequence of UTF-16 code units JS compares.
    return s.encode("utf-16-be", "surrogatepass")


def string_less(a: str, b: str) -> bool:
    """JS ``a < b`` for strings: by UTF-16 code units (differs from code points above U+FFFF)."""
    if a.isascii() and b.isascii():
        return a < b
    return _utf16(a) < _utf16(b)


def _less(x: Any, y: Any) -> bool | None:
    """ECMAScript IsLessThan; None stands for ``undefined`` (a NaN was involved)."""
    px, py = to_primitive(x), to_primitive(y)
    if isinstance(px, str) and isinstance(py, str):
        return string_less(px, py)
    nx, ny = to_number(px), to_number(py)
    if math.isnan(nx) or math.isnan(ny):
        return None
    return nx < ny


def lt(a: Any, b: Any) -> bool:
    """JS ``a < b``."""
    return _less(a, b) is True


def gt(a: Any, b: Any) -> bool:
    """JS ``a > b``."""
    return _less(b, a) is True


def lte(a: Any, b: Any) -> bool:
    """JS ``a <= b``."""
    return _less(b, a) is False


def gte(a: Any, b: Any) -> bool:
    """JS ``a >= b``."""
    return _less(a, b) is False


def strict_equals(a: Any, b: Any) -> bool:
    """JS ``a === b``: same type and value; arrays and objects only equal themselves."""
    if a is None or b is None:
        return a is b
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_number(a) and is_number(b):
        return _float(a) == _float(b)
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return a is b


def same_value_zero(a: Any, b: Any) -> bool:
    """JS SameValueZero (``Array.prototype.includes``): ``===`` except NaN equals NaN."""
    if is_number(a) and is_number(b) and math.isnan(_float(a)) and math.isnan(_float(b)):
        return True
    return strict_equals(a, b)


def truthy(v: Any) -> bool:
    """JS truthiness: ``0``, ``NaN``, ``""``, ``null``, ``false`` are falsy; ``[]``, ``{}`` not."""
    if v is None:
        return False
    if isinstance(v, bool):
        return v
    if is_number(v):
        f = _float(v)
        return f != 0 and not math.isnan(f)
    if isinstance(v, str):
        return v != ""
    return True


def is_array_index(key: str) -> bool:
    """Whether ``key`` is a canonical array index string (``"0"``, ``"12"``; not ``"01"``)."""
    return _ARRAY_INDEX.fullmatch(key) is not None and int(key) < 2**32 - 1


def _object_keys(d: dict[Any, Any]) -> list[str]:
    # JS own-property order: integer-like keys ascending first, then insertion order.
    keys = [str(k) for k in d]
    index_keys = sorted((k for k in keys if is_array_index(k)), key=int)
    return index_keys + [k for k in keys if not is_array_index(k)]


def stringify(v: Any) -> str:
    """``JSON.stringify`` as JS computes it (number format, key order), for equality tests."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if is_number(v):
        f = _float(v)
        return number_to_string(v) if math.isfinite(f) else "null"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ",".join(stringify(e) for e in v) + "]"
    if isinstance(v, dict):
        by_str = {str(k): val for k, val in v.items()}
        parts = (
            json.dumps(k, ensure_ascii=False) + ":" + stringify(by_str[k]) for k in _object_keys(v)
        )
        return "{" + ",".join(parts) + "}"
    return json.dumps(str(v), ensure_ascii=False)


_VERSION_STRIP = re.compile(r"^v|\+[^\n\r\u2028\u2029]*\Z")
_VERSION_SPLIT = re.compile(r"[-.]")
_DIGITS = re.compile(r"[0-9]+")


def padded_version_string(v: Any) -> str:
    """GrowthBook's ``paddedVersionString``: a string whose ordering is version ordering.

    Numbers become strings; anything else that is not a non-empty string becomes ``"0"``. A
    leading ``v`` and any ``+build`` suffix are dropped, the rest is split on ``.`` and ``-``,
    ``"~"`` is appended to plain ``MAJOR.MINOR.PATCH`` (so a release sorts after its
    pre-releases), and numeric parts are left-padded with spaces to width 5.
    """
    if is_number(v):
        v = number_to_string(v)
    if not v or not isinstance(v, str):
        v = "0"
    parts = _VERSION_SPLIT.split(_VERSION_STRIP.sub("", v))
    if len(parts) == 3:
        parts.append("~")
    return "-".join(p.rjust(5) if _DIGITS.fullmatch(p) else p for p in parts)
