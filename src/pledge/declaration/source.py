"""YAML to plain data, keeping where every key and value was written.

PyYAML's composer gives us nodes with positions; we build the values ourselves so that we can

- report duplicate keys (PyYAML silently keeps the last one),
- read scalars with YAML 1.2 rules: only ``true``/``false`` are booleans, so the country code
  ``NO`` stays a string, and dates stay strings for the schema to parse,
- remember the position of each path for error messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from pledge.declaration.findings import Path

try:  # the C parser is several times faster on large declarations
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_constructor = yaml.constructor.SafeConstructor()


@dataclass(frozen=True, slots=True)
class Position:
    """A 1-based line and column."""

    line: int
    column: int


class SourceError(Exception):
    """The YAML itself is unusable: a syntax error or a construct the declaration forbids."""

    def __init__(self, code: str, message: str, position: Position) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.position = position


@dataclass
class SourceMap:
    """Where each path of a loaded document was written.

    ``keys`` holds the position of a mapping key, ``values`` the position of the value.
    """

    keys: dict[Path, Position] = field(default_factory=dict)
    values: dict[Path, Position] = field(default_factory=dict)

    def key(self, path: Path) -> Position:
        """Position of the key at ``path``, else of the nearest enclosing one that exists."""
        return self._nearest(path, self.keys)

    def value(self, path: Path) -> Position:
        """Position of the value at ``path``, else of the nearest enclosing one that exists."""
        return self._nearest(path, self.values)

    def _nearest(self, path: Path, first: dict[Path, Position]) -> Position:
        while True:
            found = first.get(path) or self.values.get(path) or self.keys.get(path)
            if found is not None:
                return found
            if not path:
                return Position(1, 1)
            path = path[:-1]


def parse(text: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document into plain data and the positions of its parts.

    Raises:
        SourceError: on a syntax error, duplicate keys, several documents or a custom tag.
    """
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        position = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
        problem = error.problem or error.context or "invalid YAML"
        raise SourceError("E101", f"YAML syntax error: {problem}", position) from None
    except yaml.YAMLError as error:  # reader errors: bad bytes, control characters
        raise SourceError("E101", f"YAML syntax error: {error}", Position(1, 1)) from None
    if len(nodes) > 1:
        mark = nodes[1].start_mark
        raise SourceError(
            "E101",
            "the declaration must be a single YAML document; found a second one",
            Position(mark.line + 1, mark.column + 1),
        )
    source = SourceMap()
    if not nodes:
        return None, source
    return _Builder(source).build(nodes[0], ()), source


class _Builder:
    def __init__(self, source: SourceMap) -> None:
        self.source = source

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.source.values[path] = _position(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        return _scalar(node)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, Position] = {}
        for key_node, value_node in _merged(node):
            if not isinstance(key_node, yaml.ScalarNode):
                raise SourceError(
                    "E104", "a key must be a plain name, not a list or mapping", _position(key_node)
                )
            key = str(key_node.value)
            where = _position(key_node)
            if key in first_seen:
                raise SourceError(
                    "E102",
                    f"duplicate key '{key}' (first defined at line {first_seen[key].line})",
                    where,
                )
            first_seen[key] = where
            self.source.keys[(*path, key)] = where
            result[key] = self.build(value_node, (*path, key))
        return result


def _merged(node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
    """The pairs of a mapping with YAML merge keys (``<<: *defaults``) applied."""
    pairs: list[tuple[yaml.Node, yaml.Node]] = []
    inherited: list[tuple[yaml.Node, yaml.Node]] = []
    for key_node, value_node in node.value:
        if key_node.tag != _MERGE:
            pairs.append((key_node, value_node))
            continue
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                raise SourceError("E104", "'<<' can only merge mappings", _position(source))
            inherited.extend(_merged(source))
    own = {str(key.value) for key, _ in pairs if isinstance(key, yaml.ScalarNode)}
    seen: set[str] = set()
    for key_node, value_node in inherited:
        name = str(key_node.value)
        if name not in own and name not in seen:
            seen.add(name)
            pairs.append((key_node, value_node))
    return pairs


def _scalar(node: yaml.Node) -> Any:
    tag = node.tag
    if tag == _STR:
        return node.value
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        lowered = node.value.lower()
        return lowered == "true" if lowered in ("true", "false") else node.value
    if tag == "tag:yaml.org,2002:int":
        return _constructor.construct_yaml_int(node)
    if tag == "tag:yaml.org,2002:float":
        return _constructor.construct_yaml_float(node)
    if tag == "tag:yaml.org,2002:timestamp":
        return node.value  # the schema parses dates itself, with a clear message
    raise SourceError(
        "E104", f"unsupported YAML tag {tag!r}; write plain values", _position(node)
    )


def _position(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)
