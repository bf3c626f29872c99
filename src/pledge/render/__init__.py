"""Render a declaration: the privacy policy (Markdown, HTML, JSON) and the record of processing.

Every format starts from the same format-neutral document (``document.py``), so the
Markdown, the HTML page and the JSON sections always say the same thing. Rendering is
deterministic: the same declaration gives byte-identical output.
"""

from __future__ import annotations

from typing import Any, Literal

from pledge.declaration.model import Declaration
from pledge.errors import UsageError
from pledge.render.html import render_html
from pledge.render.json_policy import policy_document, render_json
from pledge.render.json_policy import policy_schema as _policy_schema
from pledge.render.markdown import render_markdown
from pledge.render.policy import SECTION_ORDER, Change, build_policy
from pledge.render.ropa import ropa_csv, ropa_markdown

PolicyFormat = Literal["markdown", "html", "json"]
RopaFormat = Literal["csv", "markdown"]

POLICY_FORMATS: tuple[str, ...] = ("markdown", "html", "json")
ROPA_FORMATS: tuple[str, ...] = ("csv", "markdown")


def _changes(previous: Declaration, declaration: Declaration) -> list[Change]:
    # Imported here so that rendering without a previous version never depends on diffing.
    from pledge.declaration.diff import diff

    return list(diff(previous, declaration))


def render_policy(
    declaration: Declaration,
    fmt: PolicyFormat = "markdown",
    previous: Declaration | None = None,
) -> str:
    """The privacy policy of a declaration.

    Args:
        declaration: what the company declares.
        fmt: ``markdown``, ``html`` (one self-contained page) or ``json`` (machine-readable,
            valid against :func:`policy_schema`).
        previous: the declaration of the previous published version; when given, the policy
            opens with a "What changed" section.

    Returns:
        The policy text; the same input always gives the same bytes.

    Raises:
        UsageError: ``fmt`` is not a policy format.
    """
    if fmt not in POLICY_FORMATS:
        raise UsageError(f"unknown policy format '{fmt}'; use one of {', '.join(POLICY_FORMATS)}")
    changes = None if previous is None else _changes(previous, declaration)
    previous_version = None if previous is None else previous.policy.version
    document = build_policy(declaration, changes, previous_version)
    if fmt == "markdown":
        return render_markdown(document)
    if fmt == "html":
        return render_html(document, declaration.controller.name)
    return render_json(policy_document(declaration, document, changes, previous_version))


def render_ropa(declaration: Declaration, fmt: RopaFormat = "csv") -> str:
    """The record of processing activities (GDPR Art. 30(1)), one entry per purpose.

    Args:
        declaration: what the company declares.
        fmt: ``csv`` (a header row, then one row per purpose) or ``markdown``.

    Returns:
        The record; cells the declaration says nothing about are empty.

    Raises:
        UsageError: ``fmt`` is not a record format.
    """
    if fmt == "csv":
        return ropa_csv(declaration)
    if fmt == "markdown":
        return ropa_markdown(declaration)
    raise UsageError(f"unknown record format '{fmt}'; use one of {', '.join(ROPA_FORMATS)}")


def policy_schema() -> dict[str, Any]:
    """The published JSON Schema of ``render_policy(..., fmt="json")``.

    Returns:
        The schema, derived from the same models that produce the JSON output.
    """
    return _policy_schema()


__all__ = [
    "POLICY_FORMATS",
    "ROPA_FORMATS",
    "SECTION_ORDER",
    "PolicyFormat",
    "RopaFormat",
    "policy_schema",
    "render_policy",
    "render_ropa",
]
