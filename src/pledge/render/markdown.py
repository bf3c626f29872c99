"""Markdown (CommonMark with GitHub tables) from a format-neutral document."""

from __future__ import annotations

import re

from pledge.render.document import (
    Block,
    BulletList,
    DefinitionList,
    Document,
    Inline,
    Paragraph,
    Section,
    Table,
)

_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")
_LINE_START = re.compile(r"^([#+\-=>]|\d+[.)])")


def escape(value: str) -> str:
    """Text made safe to appear literally in Markdown.

    Args:
        value: plain text.

    Returns:
        The text with Markdown's special characters escaped and line breaks flattened.
    """
    return _literal(" ".join(value.split()))


def inline(content: Inline) -> str:
    """An inline run as Markdown, links as ``[text](href)``.

    Args:
        content: the run.

    Returns:
        The Markdown.
    """
    parts = []
    for span in content:
        if isinstance(span, str):
            parts.append(_literal(span))
        else:
            href = span.href.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
            parts.append(f"[{_literal(span.text)}]({href})")
    return "".join(parts)


def _line(content: Inline) -> str:
    """Inline Markdown that starts a line, where "1." or "#" would start a list or heading."""
    return _LINE_START.sub(r"\\\1", inline(content))


def _literal(value: str) -> str:
    return _SPECIAL.sub(r"\\\1", value.replace("\n", " "))


def _block(block: Block) -> str:
    if isinstance(block, Paragraph):
        return _line(block.content)
    if isinstance(block, BulletList):
        return "\n".join(f"- {_line(item)}" for item in block.items)
    if isinstance(block, DefinitionList):
        return "\n".join(
            f"- **{escape(term)}:** {inline(value)}".rstrip() for term, value in block.items
        )
    return _table(block)


def _table(table: Table) -> str:
    lines = [
        f"*{escape(table.caption)}*",
        "",
        "| " + " | ".join(escape(column) for column in table.columns) + " |",
        "|" + "|".join(" --- " for _ in table.columns) + "|",
    ]
    lines += ["| " + " | ".join(inline(cell) or " " for cell in row) + " |" for row in table.rows]
    return "\n".join(lines)


def _section(section: Section, level: int) -> list[str]:
    parts = [f'<a id="{section.id}"></a>\n\n{"#" * level} {escape(section.title)}']
    parts += [_block(block) for block in section.blocks]
    for subsection in section.subsections:
        parts += _section(subsection, level + 1)
    return parts


def render_markdown(document: Document) -> str:
    """A document as Markdown, with a table of contents linking to each section's anchor.

    Args:
        document: the document.

    Returns:
        The Markdown text, ending with a newline.
    """
    parts = [f"# {escape(document.title)}"]
    if document.meta:
        parts.append(
            " · ".join(f"**{escape(name)}:** {escape(value)}" for name, value in document.meta)
        )
    parts += [_block(block) for block in document.lead]
    if document.sections:
        contents = "\n".join(
            f"- [{escape(section.title)}](#{section.id})" for section in document.sections
        )
        parts.append(f"## Contents\n\n{contents}")
    for section in document.sections:
        parts += _section(section, 2)
    return "\n\n".join(parts) + "\n"
