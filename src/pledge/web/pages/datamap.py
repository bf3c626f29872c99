"""The data map as a graph, drawn on the server as SVG: where personal data comes from (the
collection points), what it is (categories), what it is used for (purposes), and where it
goes (the company's datastores, recipients with their countries).

Nodes sit in four columns, edges join neighbouring columns only, so the drawing reads left to
right without crossing back; the same graph is listed as text for screen readers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup, escape

from pledge.declaration.model import Declaration
from pledge.web.pages.catalogue import text

COLUMNS = ("dm_sources", "dm_data", "dm_purposes", "dm_destinations")
"""The catalogue keys of the column titles."""
NODE_WIDTH = 200
NODE_HEIGHT = 26
ROW = 34
GAP = 90
MARGIN = 10
HEADER = 30


@dataclass(frozen=True, slots=True)
class Node:
    """A box of the graph: its column, its key and the words shown."""

    column: int
    key: str
    label: str
    kind: str  # source, category, purpose, datastore, recipient


@dataclass
class Graph:
    """The nodes by column and the edges (pairs of node keys) of a declaration's data map."""

    columns: list[list[Node]] = field(default_factory=lambda: [[], [], [], []])
    edges: set[tuple[str, str]] = field(default_factory=set)

    def add(self, node: Node) -> None:
        """Add a node once."""
        if all(existing.key != node.key for existing in self.columns[node.column]):
            self.columns[node.column].append(node)

    def targets(self, key: str) -> list[Node]:
        """The nodes an edge leads to from ``key``, in column order."""
        found = {target for source, target in self.edges if source == key}
        return [node for column in self.columns for node in column if node.key in found]


def build(declaration: Declaration) -> Graph:
    """The graph of a declaration."""
    graph = Graph()
    taxonomy = declaration.taxonomy
    for point_key, point in declaration.collection.items():
        source = f"source:{point_key}"
        graph.add(Node(0, source, point.label or point_key.replace("_", " "), "source"))
        for collected in point.fields.values():
            category = f"category:{collected.category}"
            graph.add(Node(1, category, taxonomy.label(collected.category), "category"))
            graph.edges.add((source, category))
    for purpose_key, purpose in declaration.purposes.items():
        node = f"purpose:{purpose_key}"
        label = purpose.label or purpose_key.replace("_", " ")
        basis = f" ({purpose.legal_basis})" if purpose.legal_basis else ""
        graph.add(Node(2, node, label + basis, "purpose"))
        for category_key in purpose.categories:
            category = f"category:{category_key}"
            graph.add(Node(1, category, taxonomy.label(category_key), "category"))
            graph.edges.add((category, node))
    for store_key, store in declaration.datastores.items():
        node = f"datastore:{store_key}"
        graph.add(Node(3, node, f"datastore {store_key}", "datastore"))
        for table in store.tables.values():
            for column in table.columns.values():
                category = f"category:{column.category}"
                graph.add(Node(1, category, taxonomy.label(column.category), "category"))
                graph.edges.add((category, node))
    for recipient_key, recipient in declaration.recipients.items():
        node = f"recipient:{recipient_key}"
        where = f", {recipient.country}" if recipient.country else ", country not stated"
        graph.add(Node(3, node, f"{recipient.name} ({recipient.role}{where})", "recipient"))
        for purpose_key in recipient.purposes:
            graph.edges.add((f"purpose:{purpose_key}", node))
    return graph


def svg(graph: Graph) -> Markup:
    """The graph as an ``<svg>`` element."""
    places: dict[str, tuple[int, int]] = {}
    rows = max((len(column) for column in graph.columns), default=0)
    width = MARGIN * 2 + NODE_WIDTH * 4 + GAP * 3
    height = HEADER + MARGIN * 2 + max(rows, 1) * ROW
    parts = [
        f'<svg class="datamap" viewBox="0 0 {width} {height}" role="img"'
        f' aria-label="{escape(text("ad_datamap_graph"))}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(text('ad_datamap_graph'))}</title>",
    ]
    for index, title in enumerate(COLUMNS):
        x = MARGIN + index * (NODE_WIDTH + GAP)
        parts.append(
            f'<text class="column-title" x="{x}" y="{MARGIN + 14}">{escape(text(title))}</text>'
        )
        for row, node in enumerate(graph.columns[index]):
            places[node.key] = (x, HEADER + MARGIN + row * ROW)
    for source, target in sorted(graph.edges):
        if source not in places or target not in places:
            continue
        x1, y1 = places[source]
        x2, y2 = places[target]
        start_x, start_y = x1 + NODE_WIDTH, y1 + NODE_HEIGHT / 2
        end_x, end_y = x2, y2 + NODE_HEIGHT / 2
        middle = (start_x + end_x) / 2
        parts.append(
            f'<path class="edge" d="M{start_x:.0f},{start_y:.0f} C{middle:.0f},{start_y:.0f}'
            f' {middle:.0f},{end_y:.0f} {end_x:.0f},{end_y:.0f}"/>'
        )
    for column in graph.columns:
        for node in column:
            left, top = places[node.key]
            label = node.label if len(node.label) <= 30 else node.label[:29] + "…"
            parts.append(
                f'<g class="node node-{node.kind}"><title>{escape(node.label)}</title>'
                f'<rect x="{left}" y="{top}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="5"/>'
                f'<text x="{left + 8}" y="{top + 17}">{escape(label)}</text></g>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


__all__ = ["Graph", "Node", "build", "svg"]
