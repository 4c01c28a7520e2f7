"""Sets of characters as sorted ranges of code points: what one position of a pattern reads,
taken from the parse tree of Python's ``re`` (widened where case folding or Unicode classes
make the exact set costly to compute, which only makes the checks more careful)."""

from __future__ import annotations

import re
from re import _constants as C  # noqa: N812 - the standard library's own name
from typing import Any

__all__ = ["CharSet", "char_set", "complement", "intersection", "normalize", "overlap"]

MAX_CODE = 0x10FFFF
CharSet = tuple[tuple[int, int], ...]  # sorted, disjoint, non-adjacent ranges of code points

_ASCII_DIGIT: CharSet = ((0x30, 0x39),)
_ASCII_WORD: CharSet = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
_ASCII_SPACE: CharSet = ((0x09, 0x0D), (0x1C, 0x20))
_NON_ASCII: CharSet = ((0x80, MAX_CODE),)


def normalize(ranges: list[tuple[int, int]]) -> CharSet:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return tuple(merged)


def complement(ranges: CharSet) -> CharSet:
    out, nxt = [], 0
    for lo, hi in ranges:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= MAX_CODE:
        out.append((nxt, MAX_CODE))
    return tuple(out)


def overlap(a: CharSet, b: CharSet) -> bool:
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i][1] < b[j][0]:
            i += 1
        elif b[j][1] < a[i][0]:
            j += 1
        else:
            return True
    return False


# Characters outside ASCII that case-insensitive matching pairs with an ASCII letter.
_ASCII_PARTNERS = {0x49: (0x130, 0x131), 0x4B: (0x212A,), 0x53: (0x17F,)}
_FOLD_SMALL = 512  # ranges up to this size are folded character by character


def _fold(ranges: CharSet) -> CharSet:
    """A superset of what ``ranges`` matches case-insensitively."""
    extra: list[tuple[int, int]] = []
    for lo, hi in ranges:
        for a, b, delta in ((0x41, 0x5A, 0x20), (0x61, 0x7A, -0x20)):
            if lo <= b and hi >= a:
                extra.append((max(lo, a) + delta, min(hi, b) + delta))
        for letter, partners in _ASCII_PARTNERS.items():
            if lo <= letter <= hi or lo <= letter + 0x20 <= hi:
                extra.extend((p, p) for p in partners)
        if hi < 0x80:
            continue
        if hi - max(lo, 0x80) >= _FOLD_SMALL:
            extra.extend(((0x41, 0x5A), (0x61, 0x7A), _NON_ASCII[0]))
            continue
        for code in range(max(lo, 0x80), hi + 1):
            for partner in _case_partners(code):
                extra.append((partner, partner))
    return normalize([*ranges, *extra])


def _case_partners(code: int) -> set[int]:
    """Characters that may match ``code`` case-insensitively (two steps of lower and upper)."""
    found, todo = {code}, [code]
    for _ in range(2):
        nxt = []
        for c in todo:
            for other in (chr(c).lower(), chr(c).upper()):
                if len(other) == 1 and ord(other) not in found:
                    found.add(ord(other))
                    nxt.append(ord(other))
        todo = nxt
    for letter, partners in _ASCII_PARTNERS.items():
        if code in partners:
            found.update((letter, letter + 0x20))
    return found


def _category(code: Any, ascii_only: bool) -> CharSet:
    exact = {
        C.CATEGORY_DIGIT: (_ASCII_DIGIT, False),
        C.CATEGORY_NOT_DIGIT: (_ASCII_DIGIT, True),
        C.CATEGORY_WORD: (_ASCII_WORD, False),
        C.CATEGORY_NOT_WORD: (_ASCII_WORD, True),
        C.CATEGORY_SPACE: (_ASCII_SPACE, False),
        C.CATEGORY_NOT_SPACE: (_ASCII_SPACE, True),
        C.CATEGORY_LINEBREAK: (((0x0A, 0x0A),), False),
        C.CATEGORY_NOT_LINEBREAK: (((0x0A, 0x0A),), True),
    }
    ranges, negated = exact[code]
    if negated:
        return complement(ranges)
    if ascii_only or code is C.CATEGORY_LINEBREAK:
        return ranges
    return normalize([*ranges, *_NON_ASCII])  # Unicode digits, letters and spaces


def char_set(op: Any, av: Any, flags: int) -> CharSet:
    ascii_only = bool(flags & re.ASCII)
    fold = bool(flags & re.IGNORECASE)
    if op is C.LITERAL:
        ranges: CharSet = ((av, av),)
        return _fold(ranges) if fold else ranges
    if op is C.NOT_LITERAL:
        return complement(((av, av),))
    if op is C.ANY:
        return MAX_CODE_SET if flags & re.DOTALL else complement(((0x0A, 0x0A),))
    negated = bool(av) and av[0][0] is C.NEGATE
    parts: list[tuple[int, int]] = []
    for item_op, item_av in av[1:] if negated else av:
        if item_op is C.LITERAL:
            parts.append((item_av, item_av))
        elif item_op is C.RANGE:
            parts.append(item_av)
        elif item_op is C.CATEGORY:
            parts.extend(_category(item_av, ascii_only))
        else:  # anything else (not produced from JavaScript): match anything
            parts.append((0, MAX_CODE))
    ranges = normalize(parts)
    if negated:
        return complement(ranges)
    return _fold(ranges) if fold else ranges


MAX_CODE_SET: CharSet = ((0, MAX_CODE),)


def intersection(a: CharSet, b: CharSet) -> CharSet:
    out = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)
