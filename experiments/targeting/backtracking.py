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
_NODE_BUDGET = 20_000
_PATH_BUDGET = 400_000
_PRODUCT_BUDGET = 1_000_000
MAX_PATHS = 10_000
MAX_NESTED_REPEAT = 1_000
MAX_LOOP_CHAIN = 2

CharSet = tuple[tuple[int, int], ...]  # sorted, disjoint, non-adjacent ranges of code points

_ASCII_DIGIT: CharSet = ((0x30, 0x39),)
_ASCII_WORD: CharSet = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
_ASCII_SPACE: CharSet = ((0x09, 0x0D), (0x1C, 0x20))
_NON_ASCII: CharSet = ((0x80, MAX_CODE),)


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
        nfa = _Builder(tree.state.flags)
        nfa.build(tree)
        moves = _transitions(nfa)
        if _exponentially_ambiguous(nfa, moves):
            return Hazard("ambiguous_repeat")
        if _most_paths(nfa, moves) > MAX_PATHS:
            return Hazard("many_paths")
        degree = _loop_chain(nfa, moves)
        if degree > MAX_LOOP_CHAIN:
            return Hazard("loop_chain", degree, MAX_LOOP_CHAIN)
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
    return _normalize([*ranges, *extra])


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


@dataclass(frozen=True)
class _Loop:
    """A repetition in the automaton: its body starts at ``entry`` and ends at ``last``, whose
    empty move back to ``entry`` starts the next iteration; the body's own nodes are numbered
    ``first`` to ``last_node``."""

    entry: int
    last: int
    first: int
    last_node: int


class _Builder:
    """A Thompson automaton: empty moves between nodes and one edge per character position.
    Repetitions keep their loops, so each way the pattern can match a text is one path."""

    def __init__(self, flags: int) -> None:
        self.flags = flags
        self.empty: list[list[int]] = []
        self.edges: list[tuple[int, CharSet, int]] = []
        self.loops: list[_Loop] = []
        self.forward: list[list[int]] = []  # the empty moves but the loops' ways back
        self.start = self._node()

    def build(self, tree: Any) -> None:
        self._sequence(list(tree), self.start, self.flags)
        back = {(loop.last, loop.entry) for loop in self.loops}
        self.forward = [
            [nxt for nxt in following if (node, nxt) not in back]
            for node, following in enumerate(self.empty)
        ]

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
        if last == entry:  # nothing inside: nothing to repeat
            self.empty[entry].append(end)
            return end
        self.empty[last].extend((entry, end))
        self.loops.append(
            _Loop(entry=entry, last=last, first=end + 1, last_node=len(self.empty) - 1)
        )
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
    ways through the pattern's structure) appears twice, as two instances."""
    states = sorted({nfa.start} | {dst for _src, _set, dst in nfa.edges})
    leaving: dict[int, list[int]] = {}
    for index, (src, _set, _dst) in enumerate(nfa.edges):
        leaving.setdefault(src, []).append(index)
    budget = [_PATH_BUDGET]
    out: dict[int, list[tuple[int, int]]] = {}
    instance = 0
    for state in states:
        moves = []
        for node, ways in _empty_paths(nfa, state, budget).items():
            for edge in leaving.get(node, ()):
                for _ in range(ways):
                    moves.append((instance, edge))
                    instance += 1
        out[state] = moves
    return out


def _empty_paths(nfa: _Builder, state: int, budget: list[int]) -> dict[int, int]:
    """How many ways (0, 1, or 2 for "more than one") an empty path leads from ``state`` to
    each node, as a backtracking matcher walks them: an iteration of a loop that consumed
    nothing is never repeated or left (JavaScript fails it), so a loop's way back is taken only
    from an iteration that has consumed a character: for the loops around ``state`` (innermost
    first), each at most once, and an iteration begun that way must consume before it ends.
    Walks pairs (node, level), where level is how many of those loops have been restarted."""
    chain = [loop for loop in nfa.loops if loop.first <= state <= loop.last_node]
    chain.sort(key=lambda loop: loop.last_node - loop.first)
    # The reachable pairs, then path counts in topological order (Kahn).
    start = (state, 0)
    successors: dict[tuple[int, int], list[tuple[int, int]]] = {}
    incoming: dict[tuple[int, int], int] = {start: 0}
    todo = [start]
    while todo:
        pair = todo.pop()
        budget[0] -= 1
        if budget[0] < 0:
            raise _Refused(Hazard("too_complex"))
        node, level = pair
        following = []
        blocked = chain[level - 1].last if level else -1
        for nxt in nfa.forward[node]:
            if nxt != blocked:
                following.append((nxt, level))
        for i, loop in enumerate(chain[level:], start=level + 1):
            if node == loop.last:
                following.append((loop.entry, i))
        successors[pair] = following
        for nxt_pair in following:
            if nxt_pair not in incoming:
                incoming[nxt_pair] = 0
                todo.append(nxt_pair)
            incoming[nxt_pair] += 1
    ways = {start: 1}
    ready = [start]
    while ready:
        pair = ready.pop()
        for nxt_pair in successors[pair]:
            ways[nxt_pair] = min(ways.get(nxt_pair, 0) + ways[pair], 2)
            incoming[nxt_pair] -= 1
            if incoming[nxt_pair] == 0:
                ready.append(nxt_pair)
    reached: dict[int, int] = {}
    for (node, _level), count in ways.items():
        reached[node] = min(reached.get(node, 0) + count, 2)
    return reached


def _exponentially_ambiguous(nfa: _Builder, moves: dict[int, list[tuple[int, int]]]) -> bool:
    # Only states on a cycle can take part: check each strongly connected part on its own.
    states = sorted(moves)
    position = {state: i for i, state in enumerate(states)}
    graph = [[(position[nfa.edges[e][2]], False) for _i, e in moves[state]] for state in states]
    component = _components(graph)
    budget = [_PRODUCT_BUDGET]
    for part in set(component):
        members = {states[i] for i, c in enumerate(component) if c == part}
        first = next(iter(members))
        on_cycle = len(members) > 1 or any(nfa.edges[e][2] == first for _i, e in moves[first])
        if on_cycle and _ambiguous_within(nfa, moves, members, budget):
            return True
    return False


def _loop_chain(nfa: _Builder, moves: dict[int, list[tuple[int, int]]]) -> int:
    """The longest chain of loops one after the other that can share the characters of a text
    (``.*a.*b.*c`` has three): a backtracking matcher tries every way to split a text between
    them, about n to the power of the chain's length for a text of n characters (and once
    more for each starting position). Two loops chain when some character both can repeat
    lies on a way from the first to the second along which every character is one both loops
    could read (``\\d+\\.\\d+`` does not chain: the dot separates them)."""
    states = sorted(moves)
    position = {state: i for i, state in enumerate(states)}
    graph = [[(position[nfa.edges[e][2]], False) for _i, e in moves[state]] for state in states]
    component = _components(graph)
    part_of = {state: component[position[state]] for state in states}
    loops: dict[int, list[tuple[int, int]]] = {}
    for state in states:
        for _i, e in moves[state]:
            if part_of[nfa.edges[e][2]] == part_of[state]:
                loops.setdefault(part_of[state], []).extend(nfa.edges[e][1])
    alphabet = {part: _normalize(ranges) for part, ranges in loops.items()}
    members: dict[int, list[int]] = {}
    for state in states:
        members.setdefault(part_of[state], []).append(state)
    follows: dict[int, list[int]] = {part: [] for part in alphabet}
    for first, first_set in alphabet.items():
        for second, second_set in alphabet.items():
            if first == second:
                continue
            shared = _intersection(first_set, second_set)
            if shared and _reaches(nfa, moves, members[first], set(members[second]), shared):
                follows[first].append(second)
    longest: dict[int, int] = {}

    def chain(part: int, depth: int = 0) -> int:
        if part not in longest:
            if depth > len(alphabet):  # components form no cycle; a guard all the same
                return depth
            longest[part] = 1 + max((chain(nxt, depth + 1) for nxt in follows[part]), default=0)
        return longest[part]

    return max((chain(part) for part in alphabet), default=0)


def _intersection(a: CharSet, b: CharSet) -> CharSet:
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


def _reaches(
    nfa: _Builder,
    moves: dict[int, list[tuple[int, int]]],
    sources: list[int],
    targets: set[int],
    shared: CharSet,
) -> bool:
    """Whether some path from ``sources`` to ``targets`` reads only moves that can read a
    character of ``shared``."""
    seen = set(sources)
    todo = list(sources)
    while todo:
        state = todo.pop()
        for _i, e in moves[state]:
            dst = nfa.edges[e][2]
            if dst in seen or not _overlap(nfa.edges[e][1], shared):
                continue
            if dst in targets:
                return True
            seen.add(dst)
            todo.append(dst)
    return False


def _most_paths(nfa: _Builder, moves: dict[int, list[tuple[int, int]]]) -> int:
    """An upper bound on how many paths read one same text outside loops: what a backtracking
    matcher may try at each position, where loops do not help. ``a?a?a?...a`` or
    ``(a|aa){30}`` (copies of a part that can take one character in several ways) make it grow
    exponentially with the number of copies. Moves inside a loop's component do not count
    here (loops are the ambiguity check's). For a state: 1 (stopping there) plus, for the
    character that allows the most, the sum over the moves that read it."""
    states = sorted(moves)
    position = {state: i for i, state in enumerate(states)}
    graph = [[(position[nfa.edges[e][2]], False) for _i, e in moves[state]] for state in states]
    component = _components(graph)
    part_of = {state: component[position[state]] for state in states}
    memo: dict[int, int] = {}
    for state in sorted(moves, reverse=True):  # any order works: each state is computed once
        _paths_from(nfa, moves, part_of, state, memo)
    return max(memo.values(), default=1)


def _paths_from(
    nfa: _Builder,
    moves: dict[int, list[tuple[int, int]]],
    part_of: dict[int, int],
    root: int,
    memo: dict[int, int],
) -> int:
    stack = [root]
    while stack:
        state = stack[-1]
        if state in memo:
            stack.pop()
            continue
        outward = [e for _i, e in moves[state] if part_of[nfa.edges[e][2]] != part_of[state]]
        pending = [nfa.edges[e][2] for e in outward if nfa.edges[e][2] not in memo]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        bounds = sorted({lo for e in outward for lo, _hi in nfa.edges[e][1]})
        best = 0
        for c in bounds:  # each range starts where the set of moves reading c can grow
            total = sum(
                memo[nfa.edges[e][2]]
                for e in outward
                if any(lo <= c <= hi for lo, hi in nfa.edges[e][1])
            )
            best = max(best, total)
        memo[state] = min(1 + best, MAX_PATHS + 1)
    return memo[root]


def _ambiguous_within(
    nfa: _Builder, moves: dict[int, list[tuple[int, int]]], members: set[int], budget: list[int]
) -> bool:
    """Whether the product of the automaton with itself, restricted to ``members``, has a
    strongly connected component holding a diagonal pair and an edge where the two copies take
    different transitions."""
    inside = {s: [(i, e) for i, e in moves[s] if nfa.edges[e][2] in members] for s in members}
    overlaps: dict[tuple[int, int], bool] = {}
    index: dict[tuple[int, int], int] = {}
    pairs: list[tuple[int, int]] = []
    graph: list[list[tuple[int, bool]]] = []
    for state in sorted(members):
        index[(state, state)] = len(pairs)
        pairs.append((state, state))
        graph.append([])
    todo = list(range(len(pairs)))
    while todo:
        i = todo.pop()
        p, q = pairs[i]
        for inst1, e1 in inside[p]:
            for inst2, e2 in inside[q]:
                budget[0] -= 1
                if budget[0] < 0:
                    raise _Refused(Hazard("too_complex"))
                key = (e1, e2) if e1 <= e2 else (e2, e1)
                overlap = overlaps.get(key)
                if overlap is None:
                    overlap = overlaps[key] = _overlap(nfa.edges[e1][1], nfa.edges[e2][1])
                if not overlap:
                    continue
                pair = (nfa.edges[e1][2], nfa.edges[e2][2])
                j = index.get(pair)
                if j is None:
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
