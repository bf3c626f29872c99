"""The format-neutral document every rendering starts from.

The policy (and the record of processing) is first built as plain data: a title, a lead,
and sections holding paragraphs, bullet lists, tables and definition lists. Markdown, HTML
and JSON are then mechanical translations of the same document, so they cannot drift.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Link:
    """A piece of text that points somewhere: a web page, an e-mail address, a section.

    Args:
        text: what the reader sees.
        href: where it points: ``https://…``, ``mailto:…``, ``tel:…`` or ``#section-id``.
    """

    text: str
    href: str


Span = str | Link
"""One run of inline content: plain text or a link."""

Inline = tuple[Span, ...]
"""A run of inline content: what a paragraph, a list item or a table cell holds."""


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A paragraph of running text.

    Args:
        content: its text and links.
    """

    content: Inline


@dataclass(frozen=True, slots=True)
class BulletList:
    """An unordered list.

    Args:
        items: one inline run per item.
    """

    items: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Table:
    """A table whose first column names the row (rendered as a row header).

    Args:
        caption: what the table shows, in a few words.
        columns: the column headings.
        rows: the cells, one inline run per column.
    """

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Inline, ...], ...]


@dataclass(frozen=True, slots=True)
class DefinitionList:
    """Terms and what they mean: "E-mail: privacy@example.com".

    Args:
        items: ``(term, definition)`` pairs.
    """

    items: tuple[tuple[str, Inline], ...]


Block = Paragraph | BulletList | Table | DefinitionList
"""Anything a section holds."""


@dataclass(frozen=True, slots=True)
class Section:
    """A titled part of the document, with an anchor id; may hold one level of subsections.

    Args:
        id: the stable anchor, e.g. ``who-we-are``.
        title: the heading.
        blocks: the content under the heading.
        subsections: titled parts below it (rendered one heading level lower).
    """

    id: str
    title: str
    blocks: tuple[Block, ...] = ()
    subsections: tuple[Section, ...] = ()


@dataclass(frozen=True, slots=True)
class Document:
    """A whole rendered document: title, a few facts at the top, a lead, the sections.

    Args:
        title: the one top-level heading.
        language: the document's language tag, e.g. ``en``.
        meta: facts shown under the title, e.g. ``("Version", "2.1")``.
        lead: the introduction before the first section.
        sections: the sections, in order.
    """

    title: str
    language: str
    meta: tuple[tuple[str, str], ...] = ()
    lead: tuple[Block, ...] = ()
    sections: tuple[Section, ...] = field(default_factory=tuple)


# --- building helpers -----------------------------------------------------------------------------


def text(*spans: Span | None) -> Inline:
    """An inline run from spans, dropping ``None`` and empty strings and merging adjacent text.

    Args:
        spans: the pieces, in order.

    Returns:
        The inline run.
    """
    merged: list[Span] = []
    for span in spans:
        if span is None or span == "":
            continue
        if isinstance(span, str) and merged and isinstance(merged[-1], str):
            merged[-1] = merged[-1] + span
        else:
            merged.append(span)
    return tuple(merged)


def paragraph(*spans: Span | None) -> Paragraph:
    """A paragraph from spans (see :func:`text`).

    Args:
        spans: the pieces, in order.

    Returns:
        The paragraph.
    """
    return Paragraph(text(*spans))


def bullets(items: Iterable[Inline]) -> BulletList:
    """A bullet list from inline runs.

    Args:
        items: the items, in order.

    Returns:
        The list.
    """
    return BulletList(tuple(items))


def plain(content: Inline) -> str:
    """The text of an inline run without its links' targets.

    Args:
        content: the inline run.

    Returns:
        What a reader sees, as one string.
    """
    return "".join(span if isinstance(span, str) else span.text for span in content)


def email_link(address: str) -> Link:
    """A ``mailto:`` link showing the address.

    Args:
        address: an e-mail address.

    Returns:
        The link.
    """
    return Link(address, f"mailto:{address}")


def web_link(url: str, label: str | None = None) -> Link:
    """A link to a web page, showing ``label`` or the address itself.

    Args:
        url: an ``http(s)`` address.
        label: what to show instead of the address.

    Returns:
        The link.
    """
    return Link(label or url, url)


def phone_link(number: str) -> Link:
    """A ``tel:`` link showing the number as written.

    Args:
        number: a telephone number, ideally with its country prefix.

    Returns:
        The link.
    """
    dialable = "".join(char for char in number if char.isdigit() or char == "+")
    return Link(number, f"tel:{dialable}")


def join_words(words: Iterable[str], conjunction: str = "and") -> str:
    """English enumeration: ``a``, ``a and b``, ``a, b and c``.

    Args:
        words: the items.
        conjunction: the last joining word.

    Returns:
        The items as one phrase.
    """
    items = list(words)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conjunction} " + items[-1]
