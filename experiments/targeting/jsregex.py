"""JavaScript regular expressions (as ``new RegExp(pattern)`` reads them), checked and matched
safely.

``$regex`` patterns are written for GrowthBook's SDKs, whose JavaScript (and Python) matchers
backtrack: a pattern such as ``(a+)+$`` takes exponential time on some texts. So a pattern is
*checked* before it is saved (:func:`check_js_regex`) and *matched* with RE2, a linear-time
engine (:func:`js_regex_search`), whatever is stored.

The check refuses patterns longer than ``MAX_PATTERN_LENGTH``, backreferences, lookahead and
lookbehind (RE2 has neither), counts above ``MAX_REPEAT``, and patterns that can read one text
in exponentially many ways (see :mod:`experiments.targeting.backtracking`).

Patterns are translated from JavaScript's dialect first (:mod:`.jstranslate`), so that they
match as JavaScript does. What remains different: case-insensitive matching follows Unicode case
folding (``k`` also matches the Kelvin sign), and ``.`` matches an astral character (an emoji)
as one character where JavaScript sees two.
"""

from __future__ import annotations

import logging
import re
import warnings
from functools import lru_cache
from typing import Any

import re2

from experiments.targeting.backtracking import find_hazard
from experiments.targeting.jstranslate import (
    ANALYSIS,
    PYTHON,
    RE2,
    JSRegexError,
    SurrogateHalfError,
    translate,
)
from experiments.targeting.messages import gettext_noop

__all__ = [
    "MAX_PATTERN_LENGTH",
    "MAX_REPEAT",
    "MAX_SUBJECT_LENGTH",
    "JSRegexError",
    "UnsafeRegexError",
    "check_js_regex",
    "compile_js_regex",
    "js_regex_search",
]

logger = logging.getLogger(__name__)

MAX_PATTERN_LENGTH = 256
MAX_REPEAT = 100
MAX_SUBJECT_LENGTH = 4096


class UnsafeRegexError(JSRegexError):
    """A valid pattern that is refused: it could backtrack catastrophically in a GrowthBook SDK
    or uses a feature the linear-time matcher lacks. ``template`` (marked for translation) and
    ``params`` give the reason in any language; ``str()`` is the English text with ``pattern``
    filled in."""

    def __init__(self, pattern: str, template: str, **params: Any) -> None:
        self.pattern = pattern
        self.template = template
        self.params = {"pattern": repr(pattern), **params}
        super().__init__(template % self.params)


_TOO_LONG = gettext_noop(
    "regular expression %(pattern)s is longer than %(limit)s characters; shorten it or use "
    "$in with a list of values"
)
_BACKREFERENCE = gettext_noop(
    "regular expression %(pattern)s uses a backreference (\\1 or \\k<name>), which can take "
    "exponential time to match and is not supported"
)
_LOOKAROUND = gettext_noop(
    "regular expression %(pattern)s uses a lookahead or lookbehind ((?=, (?!, (?<= or (?<!), "
    "which is not supported; to exclude matches, put the pattern under $not"
)
_REPEAT_COUNT = gettext_noop(
    "regular expression %(pattern)s repeats a part %(count)s times (counts of nested parts "
    "multiply); at most %(limit)s are allowed"
)
_AMBIGUOUS = gettext_noop(
    "regular expression %(pattern)s can take exponential time to match: a repeated part can "
    "match the same text in more than one way, as in (a+)+, (a|aa)* or (.*a){20}; repeat "
    "something unambiguous instead, such as ([a-z]+,)*"
)
_MANY_PATHS = gettext_noop(
    "regular expression %(pattern)s can take exponential time to match: consecutive optional "
    "or alternative parts can match the same text in very many ways, as in a?a?a?a?aaaa or "
    "(a|aa){30}; make neighbouring parts match different characters"
)
_LOOP_CHAIN = gettext_noop(
    "regular expression %(pattern)s can take very long to match a long text: %(count)s "
    "repetitions in a row can share the same characters, as in .*a.*b.*c (at most %(limit)s "
    "are allowed); a $regex matches anywhere in the text, so a leading or trailing .* is not "
    "needed"
)
_TOO_COMPLEX = gettext_noop(
    "regular expression %(pattern)s is too complex to check that it matches quickly; simplify it"
)
_SURROGATE_HALF = gettext_noop(
    "regular expression %(pattern)s puts a quantifier after a character outside the Basic "
    "Multilingual Plane (such as an emoji), which JavaScript applies to half of that character; "
    "put the character in a group, as in (?:...)+"
)
_UNSUPPORTED = gettext_noop(
    "regular expression %(pattern)s is not supported by Verdict's matcher: %(reason)s"
)


# --- checking --------------------------------------------------------------------------------


Problem = tuple[str, str, dict[str, Any]]  # ("invalid" or "unsafe", message or template, params)


@lru_cache(maxsize=2048)
def _check(pattern: str, insensitive: bool) -> Problem | None:
    if len(pattern) > MAX_PATTERN_LENGTH:
        return ("unsafe", _TOO_LONG, {"limit": MAX_PATTERN_LENGTH})
    flags = re.IGNORECASE if insensitive else 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            re.compile(translate(pattern, PYTHON), flags)
            hazard = find_hazard(translate(pattern, ANALYSIS), flags=flags, max_repeat=MAX_REPEAT)
    except re.error as exc:  # positions would refer to the translation: keep the reason only
        return ("invalid", exc.msg, {})
    except SurrogateHalfError:
        return ("unsafe", _SURROGATE_HALF, {})
    except JSRegexError as exc:
        return ("invalid", str(exc), {})
    if hazard is not None:
        if hazard.kind in ("repeat_count", "loop_chain"):
            template = _REPEAT_COUNT if hazard.kind == "repeat_count" else _LOOP_CHAIN
            return ("unsafe", template, {"count": hazard.count, "limit": hazard.limit})
        template = {
            "backreference": _BACKREFERENCE,
            "lookaround": _LOOKAROUND,
            "ambiguous_repeat": _AMBIGUOUS,
            "many_paths": _MANY_PATHS,
        }.get(hazard.kind, _TOO_COMPLEX)
        return ("unsafe", template, {})
    compiled = _compile(pattern, insensitive)
    if isinstance(compiled, str):
        return ("unsafe", _UNSUPPORTED, {"reason": compiled})
    return None


def _error(pattern: str, problem: Problem) -> JSRegexError:
    kind, text, params = problem
    if kind == "unsafe":
        return UnsafeRegexError(pattern, text, **params)
    return JSRegexError(text)


def check_js_regex(pattern: str, insensitive: bool = False) -> None:
    """Check a ``$regex`` (or, with ``insensitive``, ``$regexi``) pattern before it is saved.

    Raises :class:`UnsafeRegexError` when the pattern is valid but refused (see the module's
    documentation), :class:`JSRegexError` with the reason when it is invalid.
    """
    problem = _check(pattern, insensitive)
    if problem is not None:
        raise _error(pattern, problem)


# --- matching --------------------------------------------------------------------------------


@lru_cache(maxsize=2048)
def _compile(pattern: str, insensitive: bool) -> Any:
    """The RE2 program, or the reason RE2 cannot run the pattern."""
    options = re2.Options()
    options.case_sensitive = not insensitive
    options.log_errors = False
    try:
        # Matched from the start, skipping whole characters: RE2's own unanchored search skips
        # bytes, so an empty match such as \B could land inside a multi-byte character.
        return re2.compile(f"(?s:.)*?(?:{translate(pattern, RE2, insensitive)})", options)
    except JSRegexError as exc:
        return str(exc)
    except UnicodeEncodeError:
        return "lone surrogate"
    except re2.error as exc:
        reason = exc.args[0] if exc.args else ""
        return reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)


def compile_js_regex(pattern: str, insensitive: bool = False) -> Any:
    """The linear-time (RE2) program matching like the JavaScript pattern (cached):
    ``match(text)`` finds the pattern anywhere in ``text``. Raises :class:`JSRegexError` when
    RE2 cannot run the pattern."""
    compiled = _compile(pattern, insensitive)
    if isinstance(compiled, str):
        raise JSRegexError(compiled)
    return compiled


@lru_cache(maxsize=2048)
def _matcher(pattern: str, insensitive: bool) -> Any:
    """The program for a stored pattern, or ``None`` (never matches). A pattern the check
    refuses, stored before the rule or written to the database directly, is logged once per
    process: RE2 still runs it in linear time, but GrowthBook SDKs may not."""
    problem = _check(pattern, insensitive)
    compiled = _compile(pattern, insensitive)
    if problem is not None and problem[0] == "unsafe":
        outcome = "never matches" if isinstance(compiled, str) else "matched in linear time"
        logger.warning(
            "stored targeting regex %r is refused for new saves (%s): %s; edit the experiment's "
            "targeting",
            pattern,
            outcome,
            _error(pattern, problem),
        )
    return None if isinstance(compiled, str) else compiled


def js_regex_search(pattern: str, text: str, insensitive: bool = False) -> bool:
    """Whether the JavaScript ``pattern`` matches somewhere in ``text``, in time linear in the
    text. An invalid pattern, one RE2 cannot run, or a text over ``MAX_SUBJECT_LENGTH``
    characters never matches."""
    if len(text) > MAX_SUBJECT_LENGTH:
        return False
    matcher = _matcher(pattern, insensitive)
    if matcher is None:
        return False
    try:
        return matcher.match(text) is not None
    except UnicodeEncodeError:  # lone surrogates, which UTF-8 cannot hold
        return matcher.match(_SURROGATE.sub("\ufffd", text)) is not None


_SURROGATE = re.compile("[\ud800-\udfff]")
