"""Findings: what loading or linting a declaration has to say, with its position."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

Path = tuple[str | int, ...]


class Severity(StrEnum):
    """How serious a finding is: errors fail `pledge check`, warnings only with `--strict`."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in a declaration, located at ``file:line:column``.

    Args:
        code: stable identifier of the rule or error, e.g. ``E103`` or ``P201``.
        severity: error or warning.
        message: plain-language explanation, with a suggestion where one exists.
        file: the declaration's file name as given by the user.
        line: 1-based line of the offending key or value.
        column: 1-based column.
        path: the location inside the declaration, e.g. ``("purposes", "analytics")``.
    """

    code: str
    severity: Severity
    message: str
    file: str
    line: int
    column: int
    path: Path = ()

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.severity} {self.code}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The finding as plain data, for ``--format json``."""
        return {
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": ".".join(str(part) for part in self.path),
        }


def dotted(path: Path) -> str:
    """A path as the user writes it: ``purposes.analytics.retention``, ``storage[0]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
