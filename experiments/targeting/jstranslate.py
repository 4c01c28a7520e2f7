"""JavaScript regular expressions (as ``new RegExp(pattern)`` reads them, without flags) in
Python's and RE2's syntax, so they match as JavaScript does:

- ``$`` matches only at the very end (Python's also matches before a final newline);
- ``.`` excludes ``\\r``, U+2028 and U+2029 as well as ``\\n``;
- ``\\d``, ``\\w``, ``\\b`` (and negations) are ASCII-only; ``\\s`` is JavaScript's whitespace;
- named groups ``(?<name>...)``; ``[^]`` (any character) and ``[]`` (nothing);
- ``\\cX`` control escapes, ``\\xHH``, ``\\uHHHH`` (a surrogate pair is one character), legacy
  octal (``\\0``, and ``\\N`` past the number of groups), and identity escapes of other
  characters (``\\e`` is ``e``);
- a ``{`` that does not start a count is literal text (``a{,5}``);
- syntax JavaScript rejects is rejected: inline flags such as ``(?i)``, ``(?P<n>...)``, atomic
  groups, possessive ``a++``, a quantifier on an anchor (``^*``, ``\\b+``).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["ANALYSIS", "PYTHON", "RE2", "JSRegexError", "SurrogateHalfError", "translate"]


class JSRegexError(ValueError):
    """The pattern is not a valid (or supported) JavaScript regular expression."""


class SurrogateHalfError(JSRegexError):
    """A quantifier after a character written as a surrogate pair: in JavaScript it repeats
    only the pair's second half, which a matcher of whole characters cannot do."""


PYTHON, ANALYSIS, RE2 = "python", "analysis", "re2"

_WHITESPACE = (
    (0x09, 0x0D),
    (0x20, 0x20),
    (0xA0, 0xA0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
    (0xFEFF, 0xFEFF),
)
_DIGIT = ((0x30, 0x39),)
_WORD = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
_LINE_TERMINATORS = ((0x0A, 0x0A), (0x0D, 0x0D), (0x2028, 0x2029))
_CLASSES = {"d": _DIGIT, "w": _WORD, "s": _WHITESPACE}
_KEEP = set("tnrvf")
_QUANTIFIER = re.compile(r"\{[0-9]+(?:,[0-9]*)?\}")
_HEX2 = re.compile(r"[0-9a-fA-F]{2}")
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_OCTAL = re.compile(r"[0-7]{1,3}")
_DECIMAL = re.compile(r"[0-9]+")


def _char(code: int, engine: str) -> str:
    if engine == RE2:
        return f"\\x{{{code:X}}}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _complement(ranges: tuple[tuple[int, int], ...], engine: str) -> list[tuple[int, int]]:
    out, nxt = [], 0
    for lo, hi in ranges:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    out.append((nxt, 0x10FFFF))
    if engine == RE2:  # UTF-8 text has no surrogates, and RE2 refuses them in a class
        out = [part for lo, hi in out for part in _without_surrogates(lo, hi)]
    return out


def _without_surrogates(lo: int, hi: int) -> list[tuple[int, int]]:
    parts = []
    if lo < 0xD800:
        parts.append((lo, min(hi, 0xD7FF)))
    if hi > 0xDFFF:
        parts.append((max(lo, 0xE000), hi))
    return parts


def _ranges(ranges: Any, engine: str) -> str:
    return "".join(
        _char(lo, engine) if lo == hi else f"{_char(lo, engine)}-{_char(hi, engine)}"
        for lo, hi in ranges
    )


def _class_escape(d: str, engine: str, fold: bool) -> str:
    """``\\d`` and friends as the inside of a character class. With ``fold`` (RE2 matching
    case-insensitively) ``\\W`` leaves out the long s and the Kelvin sign, which RE2 would fold
    into "s" and "k", word characters."""
    members = _CLASSES[d.lower()]
    if d.islower():
        return _ranges(members, engine)
    if fold and engine == RE2 and d == "W":
        members = _normalize_ranges([*members, (0x17F, 0x17F), (0x212A, 0x212A)])
    return _ranges(_complement(members, engine), engine)


def _normalize_ranges(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    return tuple(sorted(ranges))


def _standalone_class(d: str, engine: str) -> str:
    if engine == RE2 and d in "dDwW":
        return f"(?-i:\\{d})"  # ASCII in RE2, as in JavaScript, and no case folding
    if d in "dDwW":
        return f"(?a:\\{d})"
    return f"[{'' if d == 's' else '^'}{_ranges(_WHITESPACE, engine)}]"


def _quantified(pattern: str, i: int) -> bool:
    """Whether a quantifier starts at ``pattern[i]``."""
    return pattern.startswith(("*", "+", "?"), i) or _QUANTIFIER.match(pattern, i) is not None


def _pair(high: int, low: int, pattern: str, after: int, in_class: bool, engine: str) -> str:
    """A surrogate pair (an emoji, say) as the one character it is here. JavaScript sees two:
    a quantifier after the pair applies to the second half only, which has no equivalent."""
    if not in_class and _quantified(pattern, after):
        raise SurrogateHalfError("a quantifier after a surrogate pair repeats half a character")
    return _char(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00), engine)


def _count_groups(pattern: str) -> int:
    """The number of capturing groups, as a backreference's number is read against it."""
    count, i, in_class = 0, 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(" and (
            not pattern.startswith("(?", i)
            or (pattern.startswith("(?<", i) and not pattern.startswith(("(?<=", "(?<!"), i))
        ):
            count += 1
        i += 1
    return count


def _escape(  # noqa: C901 - one branch per kind of escape
    pattern: str, i: int, in_class: bool, engine: str, groups: int, fold: bool = False
) -> tuple[str, int]:
    """Translate the escape whose letter is at ``pattern[i]``; returns the text and the index
    after it. ``groups`` is the pattern's number of capturing groups."""
    d = pattern[i]
    i += 1
    if d in "dDwWsS":
        if in_class:
            return _class_escape(d, engine, fold), i
        return _standalone_class(d, engine), i
    if d in "bB":
        if in_class:
            return (_char(8, engine) if d == "b" else "B"), i  # backspace; \B is just "B"
        if _quantified(pattern, i):
            raise JSRegexError("nothing to repeat")
        return (f"\\{d}" if engine == RE2 else f"(?a:\\{d})"), i
    if d == "k" and not in_class and pattern.startswith("<", i):
        end = pattern.find(">", i)
        if end < 0:
            raise JSRegexError("unterminated group name in \\k<...>")
        return f"(?P={pattern[i + 1 : end]})", end + 1
    if d == "c":
        if i < len(pattern) and pattern[i].isascii() and pattern[i].isalpha():
            return _char(ord(pattern[i]) % 32, engine), i + 1
        return _char(ord("\\"), engine) + "c", i  # "\c" not before a letter is literal
    if d == "x" and _HEX2.match(pattern, i):
        return _char(int(pattern[i : i + 2], 16), engine), i + 2
    if d == "u" and _HEX4.match(pattern, i):
        code = int(pattern[i : i + 4], 16)
        i += 4
        if (
            0xD800 <= code <= 0xDBFF
            and pattern.startswith("\\u", i)
            and _HEX4.match(pattern, i + 2)
        ):
            low = int(pattern[i + 2 : i + 6], 16)
            if 0xDC00 <= low <= 0xDFFF:
                return _pair(code, low, pattern, i + 6, in_class, engine), i + 6
        return _char(code, engine), i
    if d in "123456789" and not in_class:
        number = _DECIMAL.match(pattern, i - 1).group()  # type: ignore[union-attr]
        if int(number) <= groups:
            return "\\" + number, i - 1 + len(number)  # a backreference (refused by the check)
    if d in "01234567":  # legacy octal, and \N beyond the number of groups
        digits = _OCTAL.match(pattern, i - 1).group()  # type: ignore[union-attr]
        if len(digits) == 3 and int(digits, 8) > 0o377:
            digits = digits[:2]
        return _char(int(digits, 8), engine), i - 1 + len(digits)
    if d in _KEEP:
        return "\\" + d, i
    return _char(ord(d), engine), i  # identity escape: \e is "e", \/ is "/"


def translate(pattern: str, engine: str, fold: bool = False) -> str:  # noqa: C901 - one loop
    """``pattern`` (JavaScript) in the syntax of ``engine``: ``PYTHON`` (to check it),
    ``ANALYSIS`` (Python's, with an empty group opening each alternative, so that Python's
    parser keeps alternatives apart) or ``RE2`` (to match; ``fold`` when matching case-
    insensitively). Raises :class:`JSRegexError` where JavaScript reports a syntax error."""
    out: list[str] = ["()"] if engine == ANALYSIS else []
    i, n = 0, len(pattern)
    groups = _count_groups(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise JSRegexError("\\ at end of pattern")
            text, i = _escape(pattern, i + 1, in_class, engine, groups, fold)
            out.append(text)
            continue
        if "\ud800" <= c <= "\udfff":  # a surrogate (pair) from JSON text
            if c <= "\udbff" and i + 1 < n and "\udc00" <= pattern[i + 1] <= "\udfff":
                out.append(_pair(ord(c), ord(pattern[i + 1]), pattern, i + 2, in_class, engine))
                i += 2
            else:
                out.append(_char(ord(c), engine))
                i += 1
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
                out.append("(?s:.)" if engine == RE2 else "[\\s\\S]")
                i += 3
                continue
            if pattern.startswith("[]", i):
                out.append(f"[^{_ranges(((0, 0x10FFFF),), engine)}]")
                i += 2
                continue
            in_class = True
            out.append("[")
            i += 1
            if pattern.startswith("^", i):
                out.append("^")
                i += 1
            continue
        if c in "^$" and _quantified(pattern, i + 1):
            raise JSRegexError("nothing to repeat")
        if c == ".":
            out.append(f"[^{_ranges(_LINE_TERMINATORS, engine)}]")
        elif c == "$":
            out.append("\\z" if engine == RE2 else "\\Z")
        elif c == "{":
            count = _QUANTIFIER.match(pattern, i)
            if count is None:
                out.append("\\{")  # not a count: literal text in JavaScript
            else:
                out.append(count.group())
                i = _after_quantifier(pattern, count.end())
                continue
        elif c in "*+?":
            out.append(c)
            i = _after_quantifier(pattern, i + 1)
            continue
        elif c == "|":
            out.append("|()" if engine == ANALYSIS else "|")
        elif c == "(":
            opener, i = _group(pattern, i)
            out.append(opener + ("()" if engine == ANALYSIS else ""))
            continue
        else:
            out.append(c)
        i += 1
    if in_class:
        raise JSRegexError("unterminated character class")
    return "".join(out)


def _after_quantifier(pattern: str, i: int) -> int:
    """Skip a lazy ``?``; a ``+`` after a quantifier is an error in JavaScript (and
    possessive in Python)."""
    if pattern.startswith("?", i):
        i += 1
    if pattern.startswith("+", i):
        raise JSRegexError("nothing to repeat")
    return i


def _group(pattern: str, i: int) -> tuple[str, int]:
    """The Python/RE2 opener of the group starting at ``pattern[i]`` and the index after it."""
    if not pattern.startswith("(?", i):
        return "(", i + 1
    rest = pattern[i + 2 : i + 4]
    if rest[:1] in (":", "=", "!"):
        return "(?" + rest[:1], i + 3
    if rest in ("<=", "<!"):
        return "(?" + rest, i + 4
    if rest[:1] == "<":
        end = pattern.find(">", i + 3)
        if end < 0:
            raise JSRegexError("unterminated group name")
        return f"(?P<{pattern[i + 3 : end]}>", end + 1
    if rest[:1].isalpha() or rest[:1] == "-":
        raise JSRegexError(
            f"inline flags such as '(?{rest[:1]}' are not JavaScript regex syntax"
            " (for a case-insensitive match use $regexi)"
        )
    raise JSRegexError(f"invalid group '(?{rest[:1]}' at position {i}")
