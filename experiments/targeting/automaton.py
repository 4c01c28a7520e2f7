"""The automaton of a pattern, for the backtracking checks: one state after each character
position, and for each state the character positions it can read next, once per way through
the pattern's structure (two ways to reach the same position are two transitions), as a
backtracking matcher walks them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from re import _constants as C  # noqa: N812 - the standard library's own name
from typing import Any

from experiments.targeting.charsets import CharSet, char_set

__all__ = ["Automaton", "Loop", "TooComplex", "transitions", "tree_items"]

_NODE_BUDGET = 20_000
_PATH_BUDGET = 400_000


class TooComplex(Exception):
    """The pattern is too large to check within the work allowed."""


def tree_items(tree: Any) -> Iterator[tuple[Any, Any]]:
    """Every (op, argument) of the tree, depth first."""
    for op, av in tree:
        yield op, av
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            yield from tree_items(av[2])
        elif op is C.SUBPATTERN:
            yield from tree_items(av[3])
        elif op is C.BRANCH:
            for branch in av[1]:
                yield from tree_items(branch)
        elif op in (C.ASSERT, C.ASSERT_NOT):
            yield from tree_items(av[1])
        elif op is C.ATOMIC_GROUP:
            yield from tree_items(av)
        elif op is C.GROUPREF_EXISTS:
            yield from tree_items(av[1])
            if av[2] is not None:
                yield from tree_items(av[2])


@dataclass(frozen=True)
class Loop:
    """A repetition in the automaton: its body starts at ``entry`` and ends at ``last``, whose
    empty move back to ``entry`` starts the next iteration; the body's own nodes are numbered
    ``first`` to ``last_node``."""

    entry: int
    last: int
    first: int
    last_node: int


class Automaton:
    """A Thompson automaton: empty moves between nodes and one edge per character position.
    Repetitions keep their loops, so each way the pattern can match a text is one path."""

    def __init__(self, flags: int) -> None:
        self.flags = flags
        self.empty: list[list[int]] = []
        self.edges: list[tuple[int, CharSet, int]] = []
        self.loops: list[Loop] = []
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
            raise TooComplex()
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
            self.edges.append((start, char_set(op, av, flags), end))
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
        raise TooComplex()  # not produced from JavaScript

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
            Loop(entry=entry, last=last, first=end + 1, last_node=len(self.empty) - 1)
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
            for op, av in tree_items(body)
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


def transitions(nfa: Automaton) -> dict[int, list[tuple[int, int]]]:
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


def _empty_paths(nfa: Automaton, state: int, budget: list[int]) -> dict[int, int]:
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
            raise TooComplex()
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
