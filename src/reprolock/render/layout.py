"""A layered (Sugiyama-style) layout of a directed graph, in pure Python.

The steps are the classic ones:

1. break cycles by reversing the back edges of a depth-first search;
2. assign layers by longest path from the sources (dependents left of their dependencies:
   layers are columns, which suits long package names better than rows);
3. split edges that span several layers with dummy points;
4. order each layer to reduce crossings (barycentre sweeps, keeping the best order seen);
5. assign y coordinates: pull each box towards the mean of its neighbours, then
   push boxes apart so none overlap; each column is as wide as its widest box.

The result is deterministic for a given input (names break every tie).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

LAYER_GAP = 64.0
NODE_GAP = 10.0
NODE_HEIGHT = 34.0
MARGIN = 16.0
_SWEEPS = 6


@dataclass(frozen=True, slots=True)
class Box:
    name: str
    x: float
    """Centre."""
    y: float
    """Centre."""
    width: float
    layer: int


@dataclass(frozen=True, slots=True)
class Route:
    source: str
    target: str
    points: tuple[tuple[float, float], ...]
    """From the right side of the dependent to the left side of the dependency."""
    reversed: bool = False
    """The edge closes a cycle and was drawn against the layer order."""


@dataclass(frozen=True, slots=True)
class Layout:
    boxes: dict[str, Box]
    routes: tuple[Route, ...]
    width: float
    height: float


def layout(names: Sequence[str], edges: Sequence[tuple[str, str]], widths: Mapping[str, float]) -> Layout:
    """Place ``names`` (boxes of the given widths) in columns so that edges point rightwards.

    Each connected part of the graph is laid out on its own; the parts are
    stacked, the largest first, so unrelated trees do not stretch each other.
    """
    known = set(names)
    edge_list = sorted({(a, b) for a, b in edges if a != b and a in known and b in known and a in widths and b in widths})
    parts = _components(sorted(known), edge_list)
    boxes: dict[str, Box] = {}
    routes: list[Route] = []
    top, width = 0.0, 0.0
    for part in parts:
        members = set(part)
        placed = _layout_part(part, [e for e in edge_list if e[0] in members], widths)
        boxes.update({name: Box(b.name, b.x, b.y + top, b.width, b.layer) for name, b in placed.boxes.items()})
        routes += [Route(r.source, r.target, tuple((x, y + top) for x, y in r.points), r.reversed) for r in placed.routes]
        top += placed.height - MARGIN
        width = max(width, placed.width)
    routes.sort(key=lambda r: (r.source, r.target))
    return Layout(boxes, tuple(routes), width, top + MARGIN if parts else 0.0)


def _components(nodes: list[str], edges: list[tuple[str, str]]) -> list[list[str]]:
    """Weakly connected parts, largest first (then by first name)."""
    linked: dict[str, list[str]] = {name: [] for name in nodes}
    for a, b in edges:
        linked[a].append(b)
        linked[b].append(a)
    seen: set[str] = set()
    parts = []
    for start in nodes:
        if start in seen:
            continue
        seen.add(start)
        stack, part = [start], []
        while stack:
            node = stack.pop()
            part.append(node)
            for other in linked[node]:
                if other not in seen:
                    seen.add(other)
                    stack.append(other)
        parts.append(sorted(part))
    parts.sort(key=lambda part: (-len(part), part[0]))
    return parts


def _layout_part(nodes: list[str], edge_list: list[tuple[str, str]], widths: Mapping[str, float]) -> Layout:
    """The layered layout of one connected part."""
    reversed_edges = _back_edges(nodes, edge_list)
    forward = sorted({(b, a) if (a, b) in reversed_edges else (a, b) for a, b in edge_list})
    layer_of = _layers(nodes, forward)
    chains, layers = _split(nodes, forward, layer_of)
    _order(layers, chains)
    size_of = dict.fromkeys(nodes, NODE_HEIGHT)
    y_of = _coordinates(layers, chains, size_of)
    column_width = [max((widths.get(name, 0.0) for name in layer if name in widths), default=0.0) for layer in layers]
    centre = []
    edge = MARGIN
    for width in column_width:
        centre.append(edge + width / 2)
        edge += width + LAYER_GAP
    boxes = {name: Box(name, centre[layer_of[name]], y_of[name], widths.get(name, 0.0), layer_of[name]) for name in nodes}
    routes = []
    for a, b in edge_list:
        flipped = (a, b) in reversed_edges
        left, right = (b, a) if flipped else (a, b)
        chain = chains[(left, right)]
        points = [(boxes[left].x + boxes[left].width / 2, y_of[left])]
        points += [(centre[layer_of[dummy]], y_of[dummy]) for dummy in chain]
        points.append((boxes[right].x - boxes[right].width / 2, y_of[right]))
        if flipped:
            points.reverse()
        routes.append(Route(a, b, tuple(points), reversed=flipped))
    bottom = max((box.y + NODE_HEIGHT / 2 for box in boxes.values()), default=0.0)
    return Layout(boxes, tuple(routes), max(edge - LAYER_GAP, MARGIN) + MARGIN, bottom + MARGIN)


def _back_edges(nodes: list[str], edges: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Edges that close a cycle in an iterative depth-first search from each node in name order."""
    out: dict[str, list[str]] = {name: [] for name in nodes}
    for a, b in edges:
        out[a].append(b)
    state = dict.fromkeys(nodes, 0)  # 0 new, 1 on the stack, 2 done
    back: set[tuple[str, str]] = set()
    for start in nodes:
        if state[start]:
            continue
        state[start] = 1
        stack = [(start, iter(out[start]))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state[child] == 1:
                back.add((node, child))
            elif state[child] == 0:
                state[child] = 1
                stack.append((child, iter(out[child])))
    return back


def _layers(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest path from the sources, in topological order (the edges are acyclic here)."""
    incoming = dict.fromkeys(nodes, 0)
    out: dict[str, list[str]] = {name: [] for name in nodes}
    for a, b in edges:
        out[a].append(b)
        incoming[b] += 1
    layer = dict.fromkeys(nodes, 0)
    ready = [name for name in nodes if incoming[name] == 0]
    while ready:
        node = ready.pop()
        for child in out[node]:
            layer[child] = max(layer[child], layer[node] + 1)
            incoming[child] -= 1
            if incoming[child] == 0:
                ready.append(child)
    return layer


def _split(
    nodes: list[str],
    edges: list[tuple[str, str]],
    layer_of: dict[str, int],
) -> tuple[dict[tuple[str, str], list[str]], list[list[str]]]:
    """Dummy points for edges spanning layers (names start with a NUL, so never clash)."""
    chains: dict[tuple[str, str], list[str]] = {}
    depth = max(layer_of.values(), default=0)
    layers: list[list[str]] = [[] for _ in range(depth + 1)]
    for name in nodes:
        layers[layer_of[name]].append(name)
    for a, b in edges:
        chain = []
        for level in range(layer_of[a] + 1, layer_of[b]):
            dummy = f"\0{a}\0{b}\0{level}"
            layer_of[dummy] = level
            layers[level].append(dummy)
            chain.append(dummy)
        chains[(a, b)] = chain
    return chains, layers


def _segments(chains: dict[tuple[str, str], list[str]]) -> list[tuple[str, str]]:
    """Every edge as single-layer segments through its dummy points."""
    result: list[tuple[str, str]] = []
    for (a, b), chain in chains.items():
        path = [a, *chain, b]
        result.extend(itertools.pairwise(path))
    return result


def _order(layers: list[list[str]], chains: dict[tuple[str, str], list[str]]) -> None:
    """Reorder the layers in place to reduce crossings."""
    segments = _segments(chains)
    up: dict[str, list[str]] = {}
    down: dict[str, list[str]] = {}
    for a, b in segments:
        down.setdefault(a, []).append(b)
        up.setdefault(b, []).append(a)
    best = [list(layer) for layer in layers]
    best_crossings = _crossings(layers, down)
    for sweep in range(_SWEEPS):
        indices = range(1, len(layers)) if sweep % 2 == 0 else range(len(layers) - 2, -1, -1)
        neighbours = up if sweep % 2 == 0 else down
        for i in indices:
            fixed = layers[i - 1] if sweep % 2 == 0 else layers[i + 1]
            position = {name: index for index, name in enumerate(fixed)}
            current = {name: index for index, name in enumerate(layers[i])}

            def barycentre(
                name: str,
                position: dict[str, int] = position,
                current: dict[str, int] = current,
                neighbours: dict[str, list[str]] = neighbours,
            ) -> tuple[float, int]:
                linked = [position[other] for other in neighbours.get(name, ()) if other in position]
                return (sum(linked) / len(linked) if linked else float(current[name]), current[name])

            layers[i].sort(key=barycentre)
        crossings = _crossings(layers, down)
        if crossings < best_crossings:
            best, best_crossings = [list(layer) for layer in layers], crossings
    layers[:] = best


def _crossings(layers: list[list[str]], down: dict[str, list[str]]) -> int:
    total = 0
    for upper, lower in itertools.pairwise(layers):
        position = {name: index for index, name in enumerate(lower)}
        pairs = sorted((i, position[b]) for i, a in enumerate(upper) for b in down.get(a, ()) if b in position)
        # Count inversions of the lower ends (pairs are sorted by upper end).
        ends = [b for _, b in pairs]
        total += _inversions(ends)
    return total


def _inversions(values: list[int]) -> int:
    """Pairs out of order, by merge sort."""
    if len(values) < 2:
        return 0
    middle = len(values) // 2
    left, right = values[:middle], values[middle:]
    count = _inversions(left) + _inversions(right)
    left.sort()
    right.sort()
    j = 0
    for value in left:
        while j < len(right) and right[j] < value:
            j += 1
        count += j
    values.sort()
    return count


def _coordinates(layers: list[list[str]], chains: dict[tuple[str, str], list[str]], size_of: dict[str, float]) -> dict[str, float]:
    """Centres along the layer: packed, then pulled towards neighbours without overlapping."""
    neighbours: dict[str, list[str]] = {}
    for a, b in _segments(chains):
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    x: dict[str, float] = {}
    for layer in layers:
        edge = MARGIN
        for name in layer:
            w = size_of.get(name, 0.0)
            x[name] = edge + w / 2
            edge += w + NODE_GAP
    widest = max((x[layer[-1]] + size_of.get(layer[-1], 0.0) / 2 for layer in layers if layer), default=MARGIN)
    for layer in layers:  # centre each layer under the widest one to start with
        if layer:
            shift = (widest - (x[layer[-1]] + size_of.get(layer[-1], 0.0) / 2) - MARGIN) / 2 + MARGIN / 2
            for name in layer:
                x[name] += shift
    for _ in range(4):
        for layer in [*layers, *reversed(layers)]:
            wanted = [sum(x[o] for o in neighbours[name]) / len(neighbours[name]) if neighbours.get(name) else x[name] for name in layer]
            _place(layer, wanted, size_of, x)
    left = min((x[name] - size_of.get(name, 0.0) / 2 for layer in layers for name in layer), default=MARGIN)
    return {name: value - left + MARGIN for name, value in x.items()}


def _place(layer: list[str], wanted: list[float], size_of: dict[str, float], x: dict[str, float]) -> None:
    """Put each box as near its wanted x as the order and the gaps allow (both directions, averaged)."""
    n = len(layer)
    if not n:
        return
    half = [size_of.get(name, 0.0) / 2 for name in layer]
    rightward = list(wanted)
    for i in range(1, n):
        rightward[i] = max(rightward[i], rightward[i - 1] + half[i - 1] + half[i] + NODE_GAP)
    leftward = list(wanted)
    for i in range(n - 2, -1, -1):
        leftward[i] = min(leftward[i], leftward[i + 1] - half[i + 1] - half[i] - NODE_GAP)
    for i, name in enumerate(layer):
        x[name] = (rightward[i] + leftward[i]) / 2
    for i in range(1, n):  # averaging can reintroduce overlaps: resolve them to the right
        floor = x[layer[i - 1]] + half[i - 1] + half[i] + NODE_GAP
        x[layer[i]] = max(x[layer[i]], floor)
