"""Static check for regular expressions that can backtrack catastrophically.

A backtracking matcher (Python's ``re``, JavaScript's engines, so every GrowthBook SDK) tries
every way a pattern can match a text before it gives up. When a repeated part can match the
same text in more than one way (``(a+)+``, ``(a|aa)*``, ``(.*a){20}``), the number of ways grows
exponentially with the text and a 40-character input takes minutes.

The check works on the parse tree Python's ``re`` builds (``re._parser``) of a pattern already
translated from JavaScript. It builds the pattern's automaton with one state per character
position, so that each way the pattern can match is one path, and looks for *exponential
ambiguity*: a state with two different loops back to itself on the same text. That is the
known criterion (Allauzen, Mohri and Rastogi, "General algorithms for testing the ambiguity of
finite automata", 2008): in the product of the automaton with itself, a strongly connected
component that holds a diagonal state ``(q, q)`` and a transition where the two copies take
different paths.

The model over-approximates, so the check may refuse a harmless pattern but does not accept a
catastrophic one: anchors and word boundaries are ignored, a repeated part that itself holds a
repetition counts as repeated without bound (``(\\d{1,3}\\.){3}`` is checked as
``(\\d{1,3}\\.)+``, still fine; ``(a{1,5}){1,5}`` is refused), and character classes are widened
where case folding or Unicode makes them fuzzy. Repetition that is only polynomial
(``.*a.*b`` is quadratic for a backtracking matcher) is not refused: it is common and harmless
at the lengths apps send; Verdict itself matches in linear time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from re import _constants as C  # noqa: N812 - the standard library's own name
from re import _parser as sre_parser
from typing import Any

__all__ = ["Hazard", "find_hazard"]

MAX_CODE = 0x10FFFF
_NODE_BUDGET = 4_000
_PATH_BUDGET = 200_000
_PRODUCT_BUDGET = 250_000

CharSet = tuple[tuple[int, int], ...]  # sorted, disjoint, non-adjacent ranges of code points

_ASCII_DIGIT: CharSet = ((0x30, 0x39),)
_ASCII_WORD: CharSet = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
_ASCII_SPACE: CharSet = ((0x09, 0x0D), (0x1C, 0x20))
_NON_ASCII: CharSet = ((0x80, MAX_CODE),)


@dataclass(frozen=True)
class Hazard:
    """Why a pattern is refused: ``kind`` is ``backreference``, ``lookaround``,
    ``repeat_count`` (with ``count``), ``ambiguous_repeat`` or ``too_complex``."""

    kind: str
    count: int = 0


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
        nfa = _Builder(tree.state.flags)
        nfa.build(tree)
        if _exponentially_ambiguous(nfa):
            return Hazard("ambiguous_repeat")
    except _Refused as refused:
        return refused.hazard
    return None


# --- features refused outright ---------------------------------------------------------------


def _items(tree: Any) -> Iterator[tuple[Any, Any]]:
    """Every (op, argument) of the tree, depth first."""
    for op, av in tree:
        yield op, av
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            yield from _items(av[2])
        elif op is C.SUBPATTERN:
            yield from _items(av[3])
        elif op is C.BRANCH:
            for branch in av[1]:
                yield from _items(branch)
        elif op in (C.ASSERT, C.ASSERT_NOT):
            yield from _items(av[1])
        elif op is C.ATOMIC_GROUP:
            yield from _items(av)
        elif op is C.GROUPREF_EXISTS:
            yield from _items(av[1])
            if av[2] is not None:
                yield from _items(av[2])


def _check_features(tree: Any, max_repeat: int) -> None:
    for op, _av in _items(tree):
        if op in (C.GROUPREF, C.GROUPREF_EXISTS, C.GROUPREF_IGNORE):
            raise _Refused(Hazard("backreference"))
        if op in (C.ASSERT, C.ASSERT_NOT):
            raise _Refused(Hazard("lookaround"))
    for op, av in _items(tree):
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            low, high = av[0], av[1]
            count = low if high == C.MAXREPEAT else high
            if count > max_repeat:
                raise _Refused(Hazard("repeat_count", count))


# --- character sets --------------------------------------------------------------------------


def _normalize(ranges: list[tuple[int, int]]) -> CharSet:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return tuple(merged)


def _complement(ranges: CharSet) -> CharSet:
    out, nxt = [], 0
    for lo, hi in ranges:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= MAX_CODE:
        out.append((nxt, MAX_CODE))
    return tuple(out)


def _overlap(a: CharSet, b: CharSet) -> bool:
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i][1] < b[j][0]:
            i += 1
        elif b[j][1] < a[i][0]:
            j += 1
        else:
            return True
    return False


def _fold(ranges: CharSet) -> CharSet:
    """A superset of what ``ranges`` matches case-insensitively."""
    extra: list[tuple[int, int]] = []
    for lo, hi in ranges:
        for a, b, delta in ((0x41, 0x5A, 0x20), (0x61, 0x7A, -0x20)):
            if lo <= b and hi >= a:
                extra.append((max(lo, a) + delta, min(hi, b) + delta))
                extra.append(_NON_ASCII[0])  # the Kelvin sign, the long s, dotted and dotless i
        if hi >= 0x80:
            extra.extend(((0x41, 0x5A), (0x61, 0x7A), _NON_ASCII[0]))
    return _normalize([*ranges, *extra])


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
        return _complement(ranges)
    if ascii_only or code is C.CATEGORY_LINEBREAK:
        return ranges
    return _normalize([*ranges, *_NON_ASCII])  # Unicode digits, letters and spaces


def _char_set(op: Any, av: Any, flags: int) -> CharSet:
    ascii_only = bool(flags & re.ASCII)
    fold = bool(flags & re.IGNORECASE)
    if op is C.LITERAL:
        ranges: CharSet = ((av, av),)
        return _fold(ranges) if fold else ranges
    if op is C.NOT_LITERAL:
        return _complement(((av, av),))
    if op is C.ANY:
        return MAX_CODE_SET if flags & re.DOTALL else _complement(((0x0A, 0x0A),))
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
    ranges = _normalize(parts)
    if negated:
        return _complement(ranges)
    return _fold(ranges) if fold else ranges


MAX_CODE_SET: CharSet = ((0, MAX_CODE),)


# --- the automaton ---------------------------------------------------------------------------


class _Builder:
    """A Thompson automaton: empty moves between nodes and one edge per character position.
    Repetitions keep their loops, so each way the pattern can match a text is one path."""

    def __init__(self, flags: int) -> None:
        self.flags = flags
        self.empty: list[list[int]] = []
        self.edges: list[tuple[int, CharSet, int]] = []
        self.start = self._node()

    def build(self, tree: Any) -> None:
        self._sequence(list(tree), self.start, self.flags)

    def _node(self) -> int:
        if len(self.empty) >= _NODE_BUDGET:
            raise _Refused(Hazard("too_complex"))
        self.empty.append([])
        return len(self.empty) - 1

    def _sequence(self, items: list[tuple[Any, Any]], start: int, flags: int) -> int:
        node = start
        for op, av in items:
            node = self._item(op, av, node, flags)
        return node

    def _item(self, op: Any, av: Any, start: int, flags: int) -> int:
        if op in (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN):
            end = self._node()
            self.edges.append((start, _char_set(op, av, flags), end))
            return end
        if op is C.AT:
            return start  # anchors and boundaries: ignored (more paths, never fewer)
        if op is C.SUBPATTERN:
            _group, add, remove, body = av
            return self._sequence(list(body), start, (flags | add) & ~remove)
        if op is C.ATOMIC_GROUP:
            return self._sequence(list(av), start, flags)
        if op is C.BRANCH:
            end = self._node()
            for branch in av[1]:
                entry = self._node()
                self.empty[start].append(entry)
                self.empty[self._sequence(list(branch), entry, flags)].append(end)
            return end
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            return self._repeat(av[0], av[1], list(av[2]), start, flags)
        raise _Refused(Hazard("too_complex"))  # not produced from JavaScript

    def _optional(self, body: list[tuple[Any, Any]], start: int, flags: int) -> int:
        end = self._node()
        self.empty[start].append(end)
        self.empty[self._sequence(body, start, flags)].append(end)
        return end

    def _loop(self, body: list[tuple[Any, Any]], start: int, flags: int, skip: bool) -> int:
        entry, end = self._node(), self._node()
        self.empty[start].append(entry)
        last = self._sequence(body, entry, flags)
        self.empty[last].extend((entry, end))
        if skip:
            self.empty[start].append(end)
        return end

    def _repeat(
        self, low: int, high: int, body: list[tuple[Any, Any]], start: int, flags: int
    ) -> int:
        if high == 0:
            return start
        if high == 1:
            return self._sequence(body, start, flags) if low else self._optional(body, start, flags)
        nested = any(
            op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT) and av[1] > 1
            for op, av in _items(body)
        )
        if nested or high == C.MAXREPEAT:
            # Counted like a loop: each repetition may split the text in new ways.
            node = start
            for _ in range(max(low - 1, 0) if high == C.MAXREPEAT else 0):
                node = self._sequence(body, node, flags)
            return self._loop(body, node, flags, skip=low == 0)
        node = start
        for _ in range(low):
            node = self._sequence(body, node, flags)
        ends = []
        for _ in range(high - low):  # x{2,4} as x x (x (x)?)?
            ends.append(node)
            node = self._sequence(body, node, flags)
        for end in ends:
            self.empty[end].append(node)
        return node


def _transitions(nfa: _Builder) -> dict[int, list[tuple[int, int]]]:
    """For each state (the start, and the node after each character), the character edges it
    can take next as ``(instance, edge)``: an edge reached by two different empty paths (two
    ways through the pattern's structure) appears twice, as two instances. Empty paths never
    visit a node twice: an iteration that matched nothing is not repeated."""
    states = {nfa.start} | {dst for _src, _set, dst in nfa.edges}
    leaving: dict[int, list[int]] = {}
    for index, (src, _set, _dst) in enumerate(nfa.edges):
        leaving.setdefault(src, []).append(index)
    budget = [_PATH_BUDGET]
    out: dict[int, list[tuple[int, int]]] = {}
    instance = 0
    for state in states:
        reached: dict[int, int] = {}
        _count_paths(nfa.empty, state, {state}, reached, budget)
        moves = []
        for node, ways in reached.items():
            for edge in leaving.get(node, ()):
                for _ in range(ways):
                    moves.append((instance, edge))
                    instance += 1
        out[state] = moves
    return out


def _count_paths(
    empty: list[list[int]], node: int, on_path: set[int], reached: dict[int, int], budget: list[int]
) -> None:
    stack = [(node, iter(empty[node]))]
    reached[node] = min(reached.get(node, 0) + 1, 2)
    while stack:
        budget[0] -= 1
        if budget[0] < 0:
            raise _Refused(Hazard("too_complex"))
        current, following = stack[-1]
        nxt = next(following, None)
        if nxt is None:
            stack.pop()
            on_path.discard(current)
            continue
        if nxt in on_path:
            continue
        on_path.add(nxt)
        reached[nxt] = min(reached.get(nxt, 0) + 1, 2)
        stack.append((nxt, iter(empty[nxt])))


def _exponentially_ambiguous(nfa: _Builder) -> bool:
    moves = _transitions(nfa)
    overlaps: dict[tuple[int, int], bool] = {}

    def overlap(e1: int, e2: int) -> bool:
        key = (e1, e2) if e1 <= e2 else (e2, e1)
        if key not in overlaps:
            overlaps[key] = _overlap(nfa.edges[e1][1], nfa.edges[e2][1])
        return overlaps[key]

    # The product automaton reachable from (start, start): states, and edges flagged when the
    # two copies take different transitions.
    start = (nfa.start, nfa.start)
    index: dict[tuple[int, int], int] = {start: 0}
    pairs = [start]
    graph: list[list[tuple[int, bool]]] = [[]]
    todo = [0]
    while todo:
        i = todo.pop()
        p, q = pairs[i]
        for inst1, e1 in moves[p]:
            for inst2, e2 in moves[q]:
                if not overlap(e1, e2):
                    continue
                pair = (nfa.edges[e1][2], nfa.edges[e2][2])
                j = index.get(pair)
                if j is None:
                    if len(pairs) >= _PRODUCT_BUDGET:
                        raise _Refused(Hazard("too_complex"))
                    j = index[pair] = len(pairs)
                    pairs.append(pair)
                    graph.append([])
                    todo.append(j)
                graph[i].append((j, inst1 != inst2))
    component = _components(graph)
    diagonal = {component[i] for i, (p, q) in enumerate(pairs) if p == q}
    return any(
        different and component[i] == component[j] and component[i] in diagonal
        for i, edges in enumerate(graph)
        for j, different in edges
    )


def _components(graph: list[list[tuple[int, bool]]]) -> list[int]:
    """Strongly connected components (Tarjan's algorithm, iterative): a component id per node."""
    n = len(graph)
    order, low, component = [-1] * n, [0] * n, [-1] * n
    stack: list[int] = []
    on_stack = [False] * n
    counter = components = 0
    for root in range(n):
        if order[root] != -1:
            continue
        work = [(root, 0)]
        order[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        while work:
            v, k = work[-1]
            if k < len(graph[v]):
                work[-1] = (v, k + 1)
                w = graph[v][k][0]
                if order[w] == -1:
                    order[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = True
                    work.append((w, 0))
                elif on_stack[w]:
                    low[v] = min(low[v], order[w])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
            if low[v] == order[v]:
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    component[w] = components
                    if w == v:
                        break
                components += 1
    return component
