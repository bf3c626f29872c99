"""The rule registry: every lint rule registers itself here with its code."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pledge.declaration.findings import Path, Severity
from pledge.declaration.model import Declaration

Issue = tuple[Path, str]
"""What a check reports: where (a path in the declaration) and what (a message)."""

Check = Callable[[Declaration], Iterable[Issue]]


@dataclass(frozen=True)
class Rule:
    """A lint rule: a stable code, a short name, a severity and the check itself."""

    code: str
    name: str
    severity: Severity
    check: Check

    @property
    def summary(self) -> str:
        """The first line of the rationale."""
        return self.rationale.partition("\n")[0]

    @property
    def rationale(self) -> str:
        """Why the rule exists: its check's docstring."""
        return inspect.cleandoc(self.check.__doc__ or "")


RULES: dict[str, Rule] = {}


def rule(code: str, name: str, severity: Severity = Severity.ERROR) -> Callable[[Check], Check]:
    """Register a check as a lint rule.

    Args:
        code: stable code such as ``P101``; never reused for another meaning.
        name: short kebab-case name.
        severity: error (fails `pledge check`) or warning.
    """

    def register(check: Check) -> Check:
        if code in RULES:
            raise ValueError(f"lint rule {code} registered twice")
        RULES[code] = Rule(code, name, severity, check)
        return check

    return register
