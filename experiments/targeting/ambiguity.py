"""Ambiguity of a pattern's automaton: the shapes that make a backtracking matcher try
exponentially (or polynomially, to a high power) many ways before it gives up."""

from __future__ import annotations

from experiments.targeting.automaton import Automaton, TooComplex
from experiments.targeting.charsets import CharSet, intersection, normalize, overlap

__all__ = ["components", "exponentially_ambiguous", "loop_chain", "most_paths"]

_PRODUCT_BUDGET = 1_000_000
_MAX_PATHS_TRACKED = 10_000_000


def exponentially_ambiguous(nfa: Automaton, moves: dict[int, list[tuple[int, int]]]) -> bool:
    # Only states on a cycle can take part: check each strongly connected part on its own.
    states = sorted(moves)
    position = {state: i for i, state in enumerate(states)}
    graph = [[(position[nfa.edges[e][2]], False) for _i, e in moves[state]] for state in states]
    component = components(graph)
    budget = [_PRODUCT_BUDGET]
    for part in set(component):
        members = {states[i] for i, c in enumerate(component) if c == part}
        first = next(iter(members))
        on_cycle = len(members) > 1 or any(nfa.edges[e][2] == first for _i, e in moves[first])
        if on_cycle and _ambiguous_within(nfa, moves, members, budget):
            return True
    return False


def loop_chain(nfa: Automaton, moves: dict[int, list[tuple[int, int]]]) -> int:
    """The longest chain of loops one after the other that can share the characters of a text
    (``.*a.*b.*c`` has three): a backtracking matcher tries every way to split a text between
    them, about n to the power of the chain's length for a text of n characters (and once
    more for each starting position). Two loops chain when some character both can repeat
    lies on a way from the first to the second along which every character is one both loops
    could read (``\\d+\\.\\d+`` does not chain: the dot separates them)."""
    states = sorted(moves)
    position = {state: i for i, state in enumerate(states)}
    graph = [[(position[nfa.edges[e][2]], False) for _i, e in moves[state]] for state in states]
    component = components(graph)
    part_of = {state: component[position[state]] for state in states}
    loops: dict[int, list[tuple[int, int]]] = {}
    for state in states:
        for _i, e in moves[state]:
            if part_of[nfa.edges[e][2]] == part_of[state]:
                loops.setdefault(part_of[state], []).extend(nfa.edges[e][1])
    alphabet = {part: normalize(ranges) for part, ranges in loops.items()}
    members: dict[int, list[int]] = {}
    for state in states:
        members.setdefault(part_of[state], []).append(state)
    follows: dict[int, list[int]] = {part: [] for part in alphabet}
    for first, first_set in alphabet.items():
        for second, second_set in alphabet.items():
            if first == second:
                continue
            shared = intersection(first_set, second_set)
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


def _reaches(
    nfa: Automaton,
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
            if dst in seen or not overlap(nfa.edges[e][1], shared):
                continue
            if dst in targets:
                return True
            seen.add(dst)
            todo.append(dst)
    return False


def most_paths(nfa: Automaton, moves: dict[int, list[tuple[int, int]]]) -> int:
    """An upper bound on how many paths read one same text outside loops: what a backtracking
    matcher may try at each position, where loops do not help. ``a?a?a?...a`` or
    ``(a|aa){30}`` (copies of a part that can take one character in several ways) make it grow
    exponentially with the number of copies. Moves inside a loop's component do not count
    here (loops are the ambiguity check's). For a state: 1 (stopping there) plus, for the
    character that allows the most, the sum over the moves that read it."""
    states = sorted(moves)
    position = {state: i for i, state in enumerate(states)}
    graph = [[(position[nfa.edges[e][2]], False) for _i, e in moves[state]] for state in states]
    component = components(graph)
    part_of = {state: component[position[state]] for state in states}
    memo: dict[int, int] = {}
    for state in sorted(moves, reverse=True):  # any order works: each state is computed once
        _paths_from(nfa, moves, part_of, state, memo)
    return max(memo.values(), default=1)


def _paths_from(
    nfa: Automaton,
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
        memo[state] = min(1 + best, _MAX_PATHS_TRACKED)
    return memo[root]


def _ambiguous_within(
    nfa: Automaton, moves: dict[int, list[tuple[int, int]]], members: set[int], budget: list[int]
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
                    raise TooComplex()
                key = (e1, e2) if e1 <= e2 else (e2, e1)
                shared = overlaps.get(key)
                if shared is None:
                    shared = overlaps[key] = overlap(nfa.edges[e1][1], nfa.edges[e2][1])
                if not shared:
                    continue
                pair = (nfa.edges[e1][2], nfa.edges[e2][2])
                j = index.get(pair)
                if j is None:
                    j = index[pair] = len(pairs)
                    pairs.append(pair)
                    graph.append([])
                    todo.append(j)
                graph[i].append((j, inst1 != inst2))
    component = components(graph)
    diagonal = {component[i] for i, (p, q) in enumerate(pairs) if p == q}
    return any(
        different and component[i] == component[j] and component[i] in diagonal
        for i, edges in enumerate(graph)
        for j, different in edges
    )


def components(graph: list[list[tuple[int, bool]]]) -> list[int]:
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
