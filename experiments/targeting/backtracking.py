"""Static check for regular expressions that can backtrack catastrophically.

A backtracking matcher (Python's ``re``, JavaScript's engines, so every GrowthBook SDK) tries
every way a pattern can match a text before it gives up. When a repeated part can match the
same text in more than one way (``(a+)+``, ``(a|aa)*``, ``(.*a){20}``), the number of ways grows
exponentially with the text and a 40-character input takes minutes.

The check works on the parse tree Python's ``re`` builds (``re._parser``) of a pattern already
translated from JavaScript. It builds the pattern's automaton (:mod:`.automaton`), one state
per character position and one transition per way through the pattern's structure, so that
each way the pattern can match a text is one path, and refuses (:mod:`.ambiguity`):

- *exponential ambiguity*, a state with two different loops back to itself on the same text,
  by the known criterion (Allauzen, Mohri and Rastogi, "General algorithms for testing the
  ambiguity of finite automata", 2008): in the product of the automaton with itself, a
  strongly connected component holding a diagonal state ``(q, q)`` and a transition where the
  two copies take different paths (``(a+)+``, ``(a|aa)*``, ``(.*a){20}``);
- more than ``MAX_PATHS`` ways to read one text outside loops (``a?a?a?...aaa``,
  ``(a|aa){30}``);
- more than ``MAX_LOOP_CHAIN`` loops in a row that can share characters (``.*a.*a.*b``: the
  cost grows as a power of the text's length, 42 s for 1,000 characters in Node.js);
- backreferences, lookaround, counts over the limits.

The model over-approximates, so the check may refuse a harmless pattern rather than accept a
catastrophic one: anchors and word boundaries are ignored, a counted part that itself holds a
repetition counts as repeated without bound (``(\\d{1,3}\\.){3}`` is checked as
``(\\d{1,3}\\.)+``, still fine; ``(a{1,5}){1,5}`` is refused), and character classes are
widened where case folding or Unicode makes them fuzzy. Two loops in a row (``.*foo.*bar``)
are accepted: common, and quadratic at worst. Verdict itself matches in linear time (RE2).
"""

from __future__ import annotations

from dataclasses import dataclass
from re import _constants as C  # noqa: N812 - the standard library's own name
from re import _parser as sre_parser
from typing import Any

from experiments.targeting.ambiguity import exponentially_ambiguous, loop_chain, most_paths
from experiments.targeting.automaton import Automaton, TooComplex, transitions, tree_items

__all__ = ["Hazard", "find_hazard"]

MAX_PATHS = 10_000
MAX_NESTED_REPEAT = 1_000
MAX_LOOP_CHAIN = 2


@dataclass(frozen=True)
class Hazard:
    """Why a pattern is refused: ``kind`` is ``backreference``, ``lookaround``,
    ``repeat_count`` (with ``count`` and the ``limit`` it exceeds), ``ambiguous_repeat`` (a
    loop that can read a text in several ways), ``many_paths`` (parts outside loops that can
    read a text in very many ways), ``loop_chain`` (``count`` loops in a row that can share
    characters, more than ``limit``) or ``too_complex``."""

    kind: str
    count: int = 0
    limit: int = 0


class _Refused(Exception):
    def __init__(self, hazard: Hazard) -> None:
        super().__init__(hazard.kind)
        self.hazard = hazard


def find_hazard(pattern: str, *, flags: int = 0, max_repeat: int) -> Hazard | None:
    """The reason the (Python-syntax) ``pattern`` can backtrack catastrophically, or ``None``.

    ``pattern`` must compile; ``max_repeat`` is the largest repetition count allowed.
    """
    try:
        tree = sre_parser.parse(pattern, flags)
        _check_features(tree, max_repeat)
        nfa = Automaton(tree.state.flags)
        nfa.build(tree)
        moves = transitions(nfa)
        if exponentially_ambiguous(nfa, moves):
            return Hazard("ambiguous_repeat")
        if most_paths(nfa, moves) > MAX_PATHS:
            return Hazard("many_paths")
        degree = loop_chain(nfa, moves)
        if degree > MAX_LOOP_CHAIN:
            return Hazard("loop_chain", degree, MAX_LOOP_CHAIN)
    except _Refused as refused:
        return refused.hazard
    except TooComplex:
        return Hazard("too_complex")
    return None


# --- features refused outright ---------------------------------------------------------------


def _check_features(tree: Any, max_repeat: int) -> None:
    for op, _av in tree_items(tree):
        if op in (C.GROUPREF, C.GROUPREF_EXISTS, C.GROUPREF_IGNORE):
            raise _Refused(Hazard("backreference"))
        if op in (C.ASSERT, C.ASSERT_NOT):
            raise _Refused(Hazard("lookaround"))
    _check_counts(tree, max_repeat, 1)


def _check_counts(tree: Any, max_repeat: int, outer: int) -> None:
    """Each count at most ``max_repeat``; nested counts multiplied at most ``MAX_NESTED_REPEAT``
    (RE2's own limit: the program repeats the inner part that many times)."""
    for op, av in tree:
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            low, high, body = av
            count = low if high == C.MAXREPEAT else high
            if count > max_repeat:
                raise _Refused(Hazard("repeat_count", count, max_repeat))
            total = outer * max(count, 1)
            if total > MAX_NESTED_REPEAT:
                raise _Refused(Hazard("repeat_count", total, MAX_NESTED_REPEAT))
            _check_counts(body, max_repeat, total)
        elif op is C.SUBPATTERN:
            _check_counts(av[3], max_repeat, outer)
        elif op is C.BRANCH:
            for branch in av[1]:
                _check_counts(branch, max_repeat, outer)
        elif op is C.ATOMIC_GROUP:
            _check_counts(av, max_repeat, outer)
