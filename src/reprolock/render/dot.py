"""Graphviz's DOT language: the one writer behind ``reprolock graph --format dot`` and the HTML report's Graphviz layout.

One quoting rule, DOT's own: a double-quoted string with ``\\`` and ``"``
escaped, and a line break (``\\n``, ``\\r\\n`` or ``\\r``) written as DOT's
``\\n``, so a label keeps its lines and every statement stays on one line.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    Attributes = Mapping[str, str | None]
    """Attribute name to text; ``None`` leaves the attribute out."""

_SPECIAL = re.compile(r'["\\\r\n]')
_NUMERAL = re.compile(r"-?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)")
_KEYWORDS = frozenset({"node", "edge", "graph", "digraph", "subgraph", "strict"})


def quote(text: str) -> str:
    """``text`` as a DOT double-quoted string."""
    if _SPECIAL.search(text) is not None:  # most names and versions have nothing to escape
        text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")
    return f'"{text}"'


def _value(text: str) -> str:
    # DOT reads a plain word (not a keyword) or a number as is; quoting only the rest keeps `style=bold` as people write it.
    if text.isascii() and text.isidentifier():
        return quote(text) if text.lower() in _KEYWORDS else text
    return text if _NUMERAL.fullmatch(text) else quote(text)


def _attributes(attributes: Attributes) -> str:
    """`` [name=value, ...]``, or nothing when every value is ``None``."""
    given = [f"{name}={_value(value)}" for name, value in attributes.items() if value is not None]
    return f" [{', '.join(given)}]" if given else ""


def digraph(
    nodes: Iterable[tuple[str, Attributes]],
    edges: Iterable[tuple[str, str, Attributes]],
    *,
    graph: Attributes | None = None,
    node: Attributes | None = None,
    edge: Attributes | None = None,
) -> str:
    """``digraph dependencies``: ``graph`` attributes, ``node``/``edge`` defaults, then each node and edge.

    Node names are always quoted: some packages are named like DOT keywords (``graph``, ``node``).
    """
    lines = ["digraph dependencies {"]
    lines += [f"  {name}={_value(value)};" for name, value in (graph or {}).items() if value is not None]
    lines += [f"  {kind}{_attributes(defaults)};" for kind, defaults in (("node", node), ("edge", edge)) if defaults]
    lines += [f"  {quote(name)}{_attributes(attributes)};" for name, attributes in nodes]
    lines += [f"  {quote(source)} -> {quote(target)}{_attributes(attributes)};" for source, target, attributes in edges]
    lines.append("}")
    return "\n".join(lines) + "\n"
