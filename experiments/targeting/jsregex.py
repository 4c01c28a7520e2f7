"""JavaScript regular expressions (as ``new RegExp(pattern)`` reads them) on Python's ``re``.

``$regex`` patterns are written for GrowthBook's JavaScript SDK. Python's dialect differs in ways
that silently change matches, so patterns are translated first:

- ``$`` matches only at the very end (Python's also matches before a final newline): ``\\Z``;
- ``.`` excludes ``\\r``, U+2028 and U+2029 as well as ``\\n``;
- ``\\d``, ``\\w``, ``\\b`` (and negations) are ASCII-only in JavaScript;
- named groups ``(?<name>...)`` and ``\\k<name>``; ``[^]`` (any character) and ``[]`` (nothing);
- ``\\cX`` control escapes and identity escapes of other letters (``\\e`` is ``e``);
- Python-only syntax that JavaScript rejects (inline flags such as ``(?i)``, ``(?P<n>...)``,
  atomic groups) is rejected.

What remains different is rare (``\\s`` differs on a few control characters, variable-length
lookbehind is unsupported in Python and reported as an invalid pattern).
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["JSRegexError", "compile_js_regex"]


class JSRegexError(ValueError):
    """The pattern is not a valid (or supported) JavaScript regular expression."""


_KEEP_ESCAPES = set("tnrvfsS0123456789xu")
_ASCII_CLASS = {"d": "0-9", "w": "a-zA-Z0-9_"}
_ANY_BUT_LINE_TERMINATOR = "[^\\n\\r\\u2028\\u2029]"


def _translate(pattern: str) -> str:  # noqa: C901 - a single scanner reads best as one loop
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise JSRegexError("\\ at end of pattern")
            d = pattern[i + 1]
            i += 2
            if d in "dDwWbB":
                if not in_class:
                    out.append(f"(?a:\\{d})")
                elif d in _ASCII_CLASS:
                    out.append(_ASCII_CLASS[d])
                else:  # \D \W inside a class: Python's Unicode version; \b is backspace
                    out.append("\\" + d)
            elif d == "k" and not in_class and pattern.startswith("<", i):
                end = pattern.find(">", i)
                if end < 0:
                    raise JSRegexError("unterminated group name in \\k<...>")
                out.append(f"(?P={pattern[i + 1 : end]})")
                i = end + 1
            elif d == "c" and i < n and pattern[i].isascii() and pattern[i].isalpha():
                out.append(re.escape(chr(ord(pattern[i]) % 32)))
                i += 1
            elif d in _KEEP_ESCAPES:
                out.append("\\" + d)
            elif d.isascii() and d.isalpha():
                out.append(d)  # identity escape: \e is "e" in JavaScript
            else:
                out.append("\\" + d)
            continue
        if in_class:
            if c == "]":
                in_class = False
                out.append(c)
            elif c in "[&~|":
                out.append("\\" + c)  # literal in JS; Python warns about set operations
            else:
                out.append(c)
            i += 1
            continue
        if c == "[":
            if pattern.startswith("[^]", i):
                out.append("[\\s\\S]")
                i += 3
                continue
            if pattern.startswith("[]", i):
                out.append("(?!)")
                i += 2
                continue
            in_class = True
            out.append("[")
            i += 1
            if pattern.startswith("^", i):
                out.append("^")
                i += 1
            continue
        if c == ".":
            out.append(_ANY_BUT_LINE_TERMINATOR)
        elif c == "$":
            out.append("\\Z")
        elif c == "(" and pattern.startswith("(?", i):
            rest = pattern[i + 2 : i + 4]
            if rest[:1] in (":", "=", "!") or rest in ("<=", "<!"):
                out.append("(?" + rest[:1] if rest[:1] in (":", "=", "!") else "(?" + rest)
                i += 3 if rest[:1] in (":", "=", "!") else 4
                continue
            if rest[:1] == "<":
                out.append("(?P<")
                i += 3
                continue
            if rest[:1].isalpha() or rest[:1] == "-":
                raise JSRegexError(
                    f"inline flags such as '(?{rest[:1]}' are not JavaScript regex syntax"
                    " (for a case-insensitive match use $regexi)"
                )
            raise JSRegexError(f"invalid group '(?{rest[:1]}' at position {i}")
        else:
            out.append(c)
        i += 1
    if in_class:
        raise JSRegexError("unterminated character class")
    return "".join(out)


@lru_cache(maxsize=2048)
def _compile(pattern: str, insensitive: bool) -> re.Pattern[str] | str:
    try:
        return re.compile(_translate(pattern), re.IGNORECASE if insensitive else 0)
    except re.error as exc:  # positions would refer to the translation: keep the reason only
        return exc.msg
    except JSRegexError as exc:
        return str(exc)


def compile_js_regex(pattern: str, insensitive: bool = False) -> re.Pattern[str]:
    """Compile a JavaScript regex source to an equivalent Python pattern (cached).

    Raises :class:`JSRegexError` with the reason when the pattern is invalid.
    """
    result = _compile(pattern, insensitive)
    if isinstance(result, str):
        raise JSRegexError(result)
    return result
