"""HTML from a format-neutral document: one self-contained, accessible, printable page.

The page shell comes from a Jinja2 template shipped with the package (``templates/``), with
autoescaping on. The blocks are written here, with every piece of text from a declaration
escaped by ``markupsafe``: a Jinja macro per block was ten times slower on large policies.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from pledge.render.document import (
    Block,
    BulletList,
    DefinitionList,
    Document,
    Inline,
    Link,
    Paragraph,
    Section,
    Table,
)

TEMPLATE = "policy.html.j2"


@cache
def environment() -> Environment:
    """The Jinja2 environment of the render templates (autoescape on, strict undefined).

    Returns:
        The environment, built once.
    """
    return Environment(
        loader=PackageLoader("pledge.render", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(document: Document, organisation: str) -> str:
    """A document as a complete HTML page.

    Args:
        document: the document.
        organisation: who publishes it, for the page title.

    Returns:
        The HTML text, ending with a newline.
    """
    parts = [_block(item, f"lead-table-{index}") for index, item in enumerate(document.lead, 1)]
    parts += [_section(part, 2) for part in document.sections]
    body = Markup("\n".join(parts))
    page = (
        environment()
        .get_template(TEMPLATE)
        .render(document=document, organisation=organisation, body=body)
    )
    return page.rstrip() + "\n"


def _inline(content: Inline) -> str:
    return "".join(
        f'<a href="{escape(span.href)}">{escape(span.text)}</a>'
        if isinstance(span, Link)
        else str(escape(span))
        for span in content
    )


def _block(item: Block, key: str) -> str:
    if isinstance(item, Paragraph):
        return f"<p>{_inline(item.content)}</p>"
    if isinstance(item, BulletList):
        entries = "".join(f"  <li>{_inline(entry)}</li>\n" for entry in item.items)
        return f"<ul>\n{entries}</ul>"
    if isinstance(item, DefinitionList):
        entries = "".join(
            f"  <div><dt>{escape(term)}</dt><dd>{_inline(definition)}</dd></div>\n"
            for term, definition in item.items
        )
        return f"<dl>\n{entries}</dl>"
    assert isinstance(item, Table)
    head = "".join(f'<th scope="col">{escape(column)}</th>' for column in item.columns)
    rows = "".join(
        "    <tr>"
        + "".join(
            f'<th scope="row">{_inline(cell)}</th>' if index == 0 else f"<td>{_inline(cell)}</td>"
            for index, cell in enumerate(row)
        )
        + "</tr>\n"
        for row in item.rows
    )
    key = str(escape(key))
    return (
        f'<div class="table-wrap" role="region" aria-labelledby="{key}" tabindex="0">\n'
        f'<table>\n  <caption id="{key}">{escape(item.caption)}</caption>\n'
        f"  <thead>\n    <tr>{head}</tr>\n  </thead>\n  <tbody>\n{rows}  </tbody>\n</table>\n</div>"
    )


def _section(part: Section, level: int) -> str:
    ident = escape(part.id)
    lines = [
        f'<section id="{ident}" aria-labelledby="{ident}-title">',
        f'<h{level} id="{ident}-title">{escape(part.title)}</h{level}>',
        *(_block(item, f"{part.id}-table-{index}") for index, item in enumerate(part.blocks, 1)),
        *(_section(subsection, level + 1) for subsection in part.subsections),
        "</section>",
    ]
    return "\n".join(lines)
