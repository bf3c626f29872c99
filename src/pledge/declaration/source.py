"""YAML to plain data, keeping where every key and value was written.

We build values from the C parser's event stream ourselves (several times faster than
PyYAML's composer on large declarations) so that we can

- report duplicate keys (PyYAML silently keeps the last one),
- read scalars with YAML 1.2 rules: only ``true``/``false`` are booleans, so the country code
  ``NO`` stays a string, and dates stay strings for the schema to parse,
- remember the position of each path for error messages.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from pledge.declaration.findings import Path
from pledge.errors import SourceError as SourceError  # its home was here

try:  # the C parser is several times faster on large declarations
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

_INT = re.compile(r"[-+]?([0-9][0-9_]*|0o[0-7]+|0x[0-9a-fA-F]+)")
_FLOAT = re.compile(
    r"[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
)
_NULL = frozenset(("", "~", "null", "Null", "NULL"))
_STANDARD_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "map", "seq", "int", "float", "bool", "null")
)

ALIAS_LIMIT = 100_000
"""How many values aliases may copy in all: nested aliases in a few hundred bytes of YAML
would otherwise expand to gigabytes (the "billion laughs")."""

Mark = Any
"""The parser's position object (C or Python parser alike): ``line`` and ``column``, 0-based."""


@dataclass(frozen=True, slots=True)
class Position:
    """A 1-based line and column."""

    line: int
    column: int


@dataclass
class SourceMap:
    """Where each path of a loaded document was written.

    ``keys`` holds the parser's mark of a mapping key, ``values`` that of the value; they
    become positions only when asked for, because most are never needed.
    """

    keys: dict[Path, Mark] = field(default_factory=dict)
    values: dict[Path, Mark] = field(default_factory=dict)

    def key(self, path: Path) -> Position:
        """Position of the key at ``path``, else of the nearest enclosing one that exists."""
        return self._nearest(path, self.keys)

    def value(self, path: Path) -> Position:
        """Position of the value at ``path``, else of the nearest enclosing one that exists."""
        return self._nearest(path, self.values)

    def _nearest(self, path: Path, first: dict[Path, Mark]) -> Position:
        while True:
            found = first.get(path) or self.values.get(path) or self.keys.get(path)
            if found is not None:
                return Position(found.line + 1, found.column + 1)
            if not path:
                return Position(1, 1)
            path = path[:-1]


def parse(text: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document into plain data and the positions of its parts.

    Raises:
        SourceError: on a syntax error, duplicate keys, several documents or a custom tag.
    """
    builder = _Builder()
    try:
        for event in yaml.parse(text, Loader=_Loader):
            builder.feed(event)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "invalid YAML"
        if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
            problem += "; YAML indents with spaces, not tabs"
        elif "quoted scalar" in (error.context or "") and error.context_mark is not None:
            mark, problem = error.context_mark, "this quote is never closed"
        position = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
        raise SourceError("E101", f"YAML syntax error: {problem}", position) from None
    except yaml.reader.ReaderError as error:  # a control character; str(error) spans two lines
        offset = max(text.find(chr(error.character)), 0)  # the C reader counts bytes, not chars
        before = text[:offset]
        line, column = before.count("\n") + 1, offset - before.rfind("\n")
        problem = f"{error.reason} (character #x{error.character:04x})"
        raise SourceError("E101", f"YAML syntax error: {problem}", Position(line, column)) from None
    except yaml.YAMLError as error:
        raise SourceError("E101", f"YAML syntax error: {error}", Position(1, 1)) from None
    return builder.result, builder.source


@dataclass
class _Collection:
    """A mapping or sequence being built, with where it sits."""

    path: Path
    value: dict[str, Any] | list[Any]
    anchor: str | None
    pending_key: tuple[str, Mark, Path] | None = None
    merges: list[dict[str, Any]] = field(default_factory=list)


class _Builder:
    """Turns parser events into plain values and a :class:`SourceMap`."""

    def __init__(self) -> None:
        self.source = SourceMap()
        self.result: Any = None
        self.stack: list[_Collection] = []
        self.anchors: dict[str, Any] = {}
        self.copied = 0
        self.documents = 0

    def feed(self, event: yaml.Event) -> None:
        """Take the next parser event."""
        kind = type(event)
        if kind is yaml.ScalarEvent:
            self._scalar(event)  # type: ignore[arg-type]
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            self._start(event)  # type: ignore[arg-type]
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            self._end()
        elif kind is yaml.AliasEvent:
            anchor = event.anchor  # type: ignore[attr-defined]
            if anchor not in self.anchors:
                raise SourceError("E101", f"unknown alias '*{anchor}'", _position(event))
            self.copied += _size(self.anchors[anchor])
            if self.copied > ALIAS_LIMIT:
                raise SourceError(
                    "E104",
                    f"aliases copy more than {ALIAS_LIMIT:,} values; write the data out instead",
                    _position(event),
                )
            self._value(copy.deepcopy(self.anchors[anchor]), event)
        elif kind is yaml.DocumentStartEvent:
            self.documents += 1
            if self.documents > 1:
                raise SourceError(
                    "E101",
                    "the declaration must be a single YAML document; found a second one",
                    _position(event),
                )

    def _start(self, event: yaml.CollectionStartEvent) -> None:
        self._check_tag(event)
        path = self._child_path(event)
        value: dict[str, Any] | list[Any] = {} if type(event) is yaml.MappingStartEvent else []
        self.source.values[path] = event.start_mark
        self.stack.append(_Collection(path, value, event.anchor))

    def _end(self) -> None:
        done = self.stack.pop()
        if isinstance(done.value, dict):
            for inherited in done.merges:
                for key, item in inherited.items():
                    done.value.setdefault(key, copy.deepcopy(item))
        if done.anchor:
            self.anchors[done.anchor] = done.value
        self._place(done.value, done.path)

    def _scalar(self, event: yaml.ScalarEvent) -> None:
        # The hot path: most events are scalars, so this avoids every call it can.
        if event.tag is not None:
            self._check_tag(event)
        if not self.stack:
            self._value(_resolve(event), event)
            return
        top = self.stack[-1]
        container = top.value
        if type(container) is dict:
            pending = top.pending_key
            if pending is None:
                self._key(top, event)
                return
            if pending[0] != "<<" and not event.anchor:  # a plain value: place it directly
                self.source.values[pending[2]] = event.start_mark
                top.pending_key = None
                container[pending[0]] = _resolve(event)
                return
        value = _resolve(event)
        if event.anchor:
            self.anchors[event.anchor] = value
        self._value(value, event)

    def _key(self, top: _Collection, event: yaml.ScalarEvent) -> None:
        key = event.value
        path = (*top.path, key)
        if key != "<<" or not event.implicit[0]:
            first = self.source.keys.get(path)
            if first is not None:
                raise SourceError(
                    "E102",
                    f"duplicate key '{key}' (first defined at line {first.line + 1})",
                    _position(event),
                )
            self.source.keys[path] = event.start_mark
        top.pending_key = (key, event.start_mark, path)

    def _value(self, value: Any, event: yaml.Event) -> None:
        path = self._child_path(event)
        self.source.values[path] = event.start_mark
        self._place(value, path)

    def _child_path(self, event: yaml.Event) -> Path:
        if not self.stack:
            return ()
        top = self.stack[-1]
        if type(top.value) is list:
            return (*top.path, len(top.value))
        if top.pending_key is None:
            raise SourceError(
                "E104", "a key must be a plain name, not a list or mapping", _position(event)
            )
        return top.pending_key[2]

    def _place(self, value: Any, path: Path) -> None:
        if not self.stack:
            self.result = value
            return
        top = self.stack[-1]
        if type(top.value) is list:
            top.value.append(value)
            return
        assert top.pending_key is not None
        key, where, _ = top.pending_key
        top.pending_key = None
        if key == "<<" and path not in self.source.keys:
            sources = value if isinstance(value, list) else [value]
            if not all(isinstance(source, dict) for source in sources):
                raise SourceError(
                    "E104",
                    "'<<' can only merge mappings",
                    Position(where.line + 1, where.column + 1),
                )
            top.merges.extend(sources)
            return
        top.value[key] = value  # type: ignore[call-overload]

    @staticmethod
    def _check_tag(event: yaml.NodeEvent) -> None:
        tag = getattr(event, "tag", None)
        if tag is not None and tag != "!" and tag not in _STANDARD_TAGS:
            raise SourceError(
                "E104", f"unsupported YAML tag {tag!r}; write plain values", _position(event)
            )


def _resolve(event: yaml.ScalarEvent) -> Any:
    """A scalar's value under YAML 1.2 core-schema rules (quoted scalars stay text)."""
    text: str = event.value
    tag = event.tag
    if tag is not None and tag != "!":
        return _tagged(text, tag, event)
    if not event.implicit[0]:  # quoted
        return text
    if text in _NULL:
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    first = text[0]
    if first.isdigit() or first in "+-.":
        if _INT.fullmatch(text):
            return _int(text)
        if _FLOAT.fullmatch(text):
            return _float(text)
    return text


def _int(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-").replace("_", "")
    return sign * int(body, 0 if body[:2] in ("0o", "0x") else 10)


def _float(text: str) -> float:
    body = text.replace("_", "").lower()
    return float(body.replace(".inf", "inf").replace(".nan", "nan"))


def _tagged(text: str, tag: str, event: yaml.ScalarEvent) -> Any:
    kind = tag.rpartition(":")[2]
    try:
        if kind == "str":
            return text
        if kind == "int":
            return _int(text)
        if kind == "float":
            return _float(text)
        if kind == "bool":
            return text.lower() == "true"
        if kind == "null":
            return None
    except ValueError:
        pass
    raise SourceError("E104", f"'{text}' is not a valid !!{kind}", _position(event))


def _size(value: Any) -> int:
    """How many values ``value`` holds, itself included."""
    if isinstance(value, dict):
        return 1 + sum(_size(item) for item in value.values())
    if isinstance(value, list):
        return 1 + sum(_size(item) for item in value)
    return 1


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.splitlines()
    return lines[line][column : column + 1] if line < len(lines) else ""


def _position(event: yaml.Event) -> Position:
    mark: Mark = event.start_mark
    return Position(mark.line + 1, mark.column + 1)
