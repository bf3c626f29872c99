"""Load ``pledge.yaml`` into a validated :class:`Declaration`, or explain exactly what is wrong.

Every problem becomes a :class:`Finding` at ``file:line:column`` with a stable code; a user's
mistake never surfaces as a Python traceback.
"""

from __future__ import annotations

import copy
import difflib
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from pledge.declaration.findings import Finding, Path, Severity, dotted
from pledge.declaration.model import Declaration
from pledge.declaration.source import SourceError, SourceMap, parse
from pledge.declaration.taxonomy import builtin_purposes
from pledge.errors import DeclarationError, UsageError

DEFAULT_FILE = "pledge.yaml"


@dataclass(frozen=True)
class Origin:
    """Where a declaration came from: its file name and the positions of its parts."""

    file: str
    source: SourceMap
    text: str = ""

    def finding(
        self,
        code: str,
        message: str,
        path: Path,
        *,
        at_key: bool = False,
        severity: Severity = Severity.ERROR,
    ) -> Finding:
        """A finding located at the key (or value) written at ``path``."""
        position = self.source.key(path) if at_key else self.source.value(path)
        return Finding(code, severity, message, self.file, position.line, position.column, path)

    def written(self, path: Path) -> str | None:
        """The plain scalar at ``path`` as typed (``1.10``, not the number 1.1), if known."""
        if path not in self.source.values:
            return None
        position = self.source.value(path)
        lines = self.text.splitlines()
        if position.line > len(lines):
            return None
        found = re.match(r"[^\s,\]}#]+", lines[position.line - 1][position.column - 1 :])
        return found.group() if found else None


def origin_of(declaration: Declaration) -> Origin:
    """The file and positions a declaration was loaded from (a blank origin if built in code)."""
    origin = declaration._origin
    return origin if isinstance(origin, Origin) else Origin("<declaration>", SourceMap())


def load(path: str | FilePath) -> Declaration:
    """Load and validate the declaration in ``path``.

    Raises:
        UsageError: the file cannot be read.
        DeclarationError: the declaration is invalid; ``findings`` lists every error.
    """
    path = FilePath(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise DeclarationError(
            [Finding("E101", Severity.ERROR, "the file is not UTF-8 text", str(path), 1, 1)]
        ) from None
    except OSError as error:
        raise UsageError(f"{path}: cannot read ({error.strerror})") from None
    return loads(text, str(path))


def loads(text: str, file: str = DEFAULT_FILE) -> Declaration:
    """Load and validate a declaration from YAML text; ``file`` names it in messages."""
    try:
        data, source = parse(text)
    except SourceError as error:
        where = error.position
        raise DeclarationError(
            [Finding(error.code, Severity.ERROR, error.message, file, where.line, where.column)]
        ) from None
    origin = Origin(file, source, text)
    if data is None:
        raise DeclarationError([origin.finding("E105", "the declaration is empty", ())])
    if not isinstance(data, dict):
        raise DeclarationError(
            [origin.finding("E104", f"expected a mapping of sections, got {_kind(data)}", ())]
        )
    return _validate(data, origin)


def load_data(data: dict[str, Any]) -> Declaration:
    """Validate a declaration given as plain data (as parsed from YAML or JSON)."""
    return _validate(copy.deepcopy(data), Origin("<data>", SourceMap()))  # the caller's, untouched


def _validate(data: dict[str, Any], origin: Origin) -> Declaration:
    _apply_vocabulary(data)
    try:
        declaration = Declaration.model_validate(data)
    except ValidationError as error:
        raise DeclarationError(_translate(error, data, origin)) from None
    problems = list(_check_references(declaration, origin))
    if problems:
        raise DeclarationError(problems)
    declaration._origin = origin
    return declaration


def _apply_vocabulary(data: dict[str, Any]) -> None:
    """Fill labels and flags of purposes that use a key of the built-in vocabulary."""
    vocabulary = builtin_purposes()
    purposes = data.get("purposes")
    if isinstance(purposes, dict):
        for key, purpose in purposes.items():
            if not isinstance(purpose, dict):
                continue
            template = vocabulary.get(key)
            if template is not None:
                purpose.setdefault("label", template.label)
                purpose.setdefault("description", template.description)
                for flag in ("sale_or_sharing", "targeted_advertising", "direct_marketing"):
                    if getattr(template, flag):
                        purpose.setdefault(flag, True)
            purpose.setdefault("label", _humanise(key))
    for section in ("collection",):
        points = data.get(section)
        if isinstance(points, dict):
            for key, point in points.items():
                if isinstance(point, dict):
                    point.setdefault("label", _humanise(key))


def _humanise(key: Any) -> str:
    return str(key).replace("_", " ").replace(".", " ").capitalize()


# --- schema errors -------------------------------------------------------------------------------

_CUSTOM_CODES = {
    "version": "E106",
    "duration": "E107",
    "vague": "E112",
    "date": "E108",
    "secret": "E113",
}
_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping (key: value lines)",
    "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
    "list_type": "a list",
}
_BOUNDS = {
    "greater_than_equal": ("at least", "ge"),
    "greater_than": ("more than", "gt"),
    "less_than_equal": ("at most", "le"),
    "less_than": ("less than", "lt"),
}
_PREFERRED = (
    "duration",
    "vague",
    "secret",
    "datastore_url",
    "rewrite",
    "country",
    "email",
    "url",
    "key",
    "identifier",
    "column_reference",
    "language",
    "literal_error",
)


def _translate(error: ValidationError, data: dict[str, Any], origin: Origin) -> list[Finding]:
    by_path: dict[tuple[Path, bool], ErrorDetails] = {}
    for detail in error.errors(include_url=False):
        path, on_key = _data_path(detail, data)
        slot = (path, on_key)
        current = by_path.get(slot)
        if current is None or _rank(detail) < _rank(current):
            by_path[slot] = detail
    findings = [
        _finding(detail, path, on_key, data, origin) for (path, on_key), detail in by_path.items()
    ]
    return sorted(findings, key=lambda f: (f.line, f.column, f.code))


def _rank(detail: ErrorDetails) -> int:
    kind = detail["type"]
    return _PREFERRED.index(kind) if kind in _PREFERRED else len(_PREFERRED)


def _data_path(detail: ErrorDetails, data: Any) -> tuple[Path, bool]:
    """The error's location as a path through the data, without Pydantic's union tags."""
    path: list[str | int] = []
    node = data
    loc = detail["loc"]
    on_key = False
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if part == "[key]":
            on_key = True
        elif _has(node, part):
            path.append(part)
            node = node[part]
        elif last and detail["type"] in ("missing", "extra_forbidden"):
            path.append(part)
    return tuple(path), on_key


def _has(node: Any, part: str | int) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and part < len(node)


def _finding(detail: ErrorDetails, path: Path, on_key: bool, data: Any, origin: Origin) -> Finding:
    kind = detail["type"]
    value = detail["input"]
    where = dotted(path[:-1]) or "the declaration"
    if kind == "missing":
        name = path[-1]
        return origin.finding(
            "E105", f"missing required key '{name}' in {where}", path[:-1], at_key=True
        )
    if kind == "extra_forbidden":
        name = str(path[-1])
        message = f"unknown key '{name}' in {where}"
        allowed = _allowed_keys(path[:-1], data)
        return origin.finding("E103", message + _suggest(name, allowed), path, at_key=True)
    choice = kind in ("literal_error", "enum")
    if on_key:
        message = _not_allowed(detail) if choice else detail["msg"].removeprefix("Value error, ")
        return origin.finding("E106", f"invalid key: {message}", path, at_key=True)
    if kind in _CUSTOM_CODES:
        return origin.finding(_CUSTOM_CODES[kind], detail["msg"], path)
    if kind.startswith("date"):
        return origin.finding(
            "E108", f"{_show(value)} is not a date; write it as YYYY-MM-DD, e.g. 2025-01-31", path
        )
    if kind in _EXPECTED:
        got, hint = _kind(value), ""
        if kind == "string_type" and isinstance(value, int | float) and not isinstance(value, bool):
            written = origin.written(path) or str(value)  # 1.10, which YAML reads as 1.1
            got, hint = f"the number {written}", f' (quote it: "{written}")'
        message = f"wrong type for '{dotted(path)}': expected {_EXPECTED[kind]}, got {got}"
        return origin.finding("E104", message + hint, path)
    if choice and path == ("pledge",):  # also "1" in quotes, which would read "did you mean '1'?"
        message = f"unsupported format version {_show(value)}; write pledge: {_choices(detail)[0]}"
        return origin.finding("E106", message, path)
    if choice:
        return origin.finding("E106", _not_allowed(detail), path)
    if kind == "too_short":
        return origin.finding("E106", f"'{dotted(path)}' must not be empty", path)
    if kind in _BOUNDS:
        bound = (detail.get("ctx") or {}).get(_BOUNDS[kind][1], "?")
        message = f"'{dotted(path)}' must be {_BOUNDS[kind][0]} {bound}, not {_show(value)}"
        return origin.finding("E106", message, path)
    message = detail["msg"].removeprefix("Value error, ")
    return origin.finding("E106", f"invalid value for '{dotted(path)}': {message}", path)


def _choices(detail: ErrorDetails) -> list[str]:
    """The values an enum or literal allows, from Pydantic's "'a', 'b' or 'c'" (or "1")."""
    listed = str((detail.get("ctx") or {}).get("expected", ""))
    return [choice.strip("'") for choice in re.split(r", | or ", listed) if choice] or ["?"]


def _not_allowed(detail: ErrorDetails) -> str:
    """Why an enum or literal refuses a value, with the choices and the closest one."""
    value, expected = detail["input"], _choices(detail)
    message = f"{_show(value)} is not allowed here; expected one of: {', '.join(expected)}"
    return message + _suggest(str(value), expected)


def _allowed_keys(path: Path, data: Any) -> list[str]:
    """The field names of the model that sits at ``path`` in the data."""
    annotation: Any = Declaration
    for part in path:
        annotation = _step(annotation, part)
        if annotation is None:
            return []
    model = _model_in(annotation)
    return list(model.model_fields) if model else []


def _step(annotation: Any, part: str | int) -> Any:
    model = _model_in(annotation)
    if model is not None:
        field = model.model_fields.get(str(part))
        return field.annotation if field else None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is dict and len(args) == 2:
        return args[1]
    if origin is list and args:
        return args[0]
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        for arg in args:
            found = _step(arg, part)
            if found is not None:
                return found
    return None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, typing.Annotated):
        for arg in typing.get_args(annotation):
            model = _model_in(arg)
            if model is not None:
                return model
    return None


def _suggest(word: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.7)
    return f"; did you mean '{close[0]}'?" if close else ""


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {_show(value)}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _show(value: Any) -> str:
    text = str(value)
    return f"'{text[:57]}...'" if len(text) > 60 else f"'{text}'"


# --- references --------------------------------------------------------------------------------


def _check_references(declaration: Declaration, origin: Origin) -> list[Finding]:
    taxonomy = declaration.taxonomy
    # Dicts: ordered for suggestions, constant-time membership for 10,000 fields.
    categories = dict.fromkeys(taxonomy)
    purposes = dict.fromkeys(declaration.purposes)
    recipients = dict.fromkeys(declaration.recipients)
    found: list[Finding] = []

    def check(kind: str, name: str, known: dict[str, None], path: Path) -> None:
        if name not in known:
            message = f"{kind} '{name}' is not declared" + _suggest(name, list(known))
            found.append(origin.finding("E109", message, path))

    for key in declaration.categories:
        parent = key.rpartition(".")[0]
        if parent and parent not in taxonomy:
            message = f"category '{key}' extends '{parent}', which is not a category"
            found.append(
                origin.finding(
                    "E109",
                    message + _suggest(parent, list(categories)),
                    ("categories", key),
                    at_key=True,
                )
            )
    for key, purpose in declaration.purposes.items():
        for index, category in enumerate(purpose.categories):
            check("category", category, categories, ("purposes", key, "categories", index))
    for point_key, point in declaration.collection.items():
        for field_key, field in point.fields.items():
            base = ("collection", point_key, "fields", field_key)
            check("category", field.category, categories, (*base, "category"))
            for index, used in enumerate(field.purposes):
                check("purpose", used, purposes, (*base, "purposes", index))
    for key, recipient in declaration.recipients.items():
        for index, used in enumerate(recipient.purposes):
            check("purpose", used, purposes, ("recipients", key, "purposes", index))
        for index, category in enumerate(recipient.categories):
            check("category", category, categories, ("recipients", key, "categories", index))
    for name, cookie in declaration.cookies.items():
        if cookie.purpose is not None:
            check("purpose", cookie.purpose, purposes, ("cookies", name, "purpose"))
    for index, location in enumerate(declaration.storage):
        if location.recipient is not None:
            check("recipient", location.recipient, recipients, ("storage", index, "recipient"))
    for store_key, store in declaration.datastores.items():
        for table_key, table in store.tables.items():
            for column_key, column in table.columns.items():
                place = ("datastores", store_key, "tables", table_key, "columns", column_key)
                check("category", column.category, categories, (*place, "category"))
    return sorted(found, key=lambda f: (f.line, f.column))
