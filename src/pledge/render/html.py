"""HTML from a format-neutral document: one self-contained, accessible, printable page.

The page comes from a Jinja2 template shipped with the package (``templates/``), with
autoescaping on: every piece of text from a declaration is escaped.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from pledge.render.document import BulletList, DefinitionList, Document, Link, Paragraph, Table

TEMPLATE = "policy.html.j2"


@cache
def environment() -> Environment:
    """The Jinja2 environment of the render templates (autoescape on, strict undefined).

    Returns:
        The environment, built once.
    """
    env = Environment(
        loader=PackageLoader("pledge.render", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.tests.update(
        link=lambda value: isinstance(value, Link),
        paragraph=lambda value: isinstance(value, Paragraph),
        bullet_list=lambda value: isinstance(value, BulletList),
        definition_list=lambda value: isinstance(value, DefinitionList),
        table=lambda value: isinstance(value, Table),
    )
    return env


def render_html(document: Document, organisation: str) -> str:
    """A document as a complete HTML page.

    Args:
        document: the document.
        organisation: who publishes it, for the page title.

    Returns:
        The HTML text, ending with a newline.
    """
    page = environment().get_template(TEMPLATE).render(document=document, organisation=organisation)
    return page.rstrip() + "\n"
