"""Lint rules: what a declaration leaves out that GDPR, CCPA or ePrivacy require.

Each rule has a stable code, a name, a severity and a rationale (its docstring, published in
``docs/lint-rules.md``). A rule yields ``(path, message)`` pairs; :func:`lint` locates them in
the YAML. Families: P processing, T recipients and transfers, G GDPR Art. 13/14 notice,
C CCPA notice at collection, K cookies (ePrivacy), Y children, D datastores.
"""

from __future__ import annotations

from collections.abc import Iterable

from pledge.declaration.findings import Finding
from pledge.declaration.lint import (  # noqa: F401  (importing registers the rules)
    ccpa,
    datastores,
    notice,
    processing,
    transfers,
)
from pledge.declaration.lint.registry import RULES, Rule
from pledge.declaration.loader import origin_of
from pledge.declaration.model import Declaration

__all__ = ["RULES", "Rule", "lint"]


def lint(declaration: Declaration, *, ignore: Iterable[str] = ()) -> list[Finding]:
    """Run every rule on a declaration.

    Args:
        declaration: a loaded declaration.
        ignore: rule codes to skip.

    Returns:
        The findings, sorted by position, then code.
    """
    origin = origin_of(declaration)
    skipped = set(ignore)
    findings = [
        origin.finding(code, message, path, at_key=True, severity=found.severity)
        for code, found in sorted(RULES.items())
        if code not in skipped
        for path, message in found.check(declaration)
    ]
    return sorted(findings, key=lambda f: (f.line, f.column, f.code))
