"""The machine-readable policy: the document's sections plus the structured facts, as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pledge.declaration.model import Declaration
from pledge.render import facts
from pledge.render.document import (
    Block,
    BulletList,
    DefinitionList,
    Document,
    Inline,
    Paragraph,
    Section,
    plain,
)
from pledge.render.policy import Change
from pledge.render.schema import (
    BlockOut,
    ChangeOut,
    DefinitionOut,
    DefinitionsOut,
    ListOut,
    ParagraphOut,
    PolicyDocument,
    PolicyOut,
    RichText,
    SectionOut,
    SpanOut,
    TableOut,
)

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def rich_text(content: Inline) -> RichText:
    """An inline run as plain text plus spans.

    Args:
        content: the run.

    Returns:
        Its JSON form.
    """
    return RichText(
        text=plain(content),
        spans=[
            SpanOut(text=span) if isinstance(span, str) else SpanOut(text=span.text, href=span.href)
            for span in content
        ],
    )


def block_out(block: Block) -> BlockOut:
    """A block in its JSON form.

    Args:
        block: the block.

    Returns:
        Its JSON form, tagged by ``type``.
    """
    if isinstance(block, Paragraph):
        return ParagraphOut(content=rich_text(block.content))
    if isinstance(block, BulletList):
        return ListOut(items=[rich_text(item) for item in block.items])
    if isinstance(block, DefinitionList):
        return DefinitionsOut(
            items=[
                DefinitionOut(term=term, definition=rich_text(value)) for term, value in block.items
            ]
        )
    return TableOut(
        caption=block.caption,
        columns=list(block.columns),
        rows=[[rich_text(cell) for cell in row] for row in block.rows],
    )


def section_out(section: Section) -> SectionOut:
    """A section in its JSON form.

    Args:
        section: the section.

    Returns:
        Its JSON form, with its subsections.
    """
    return SectionOut(
        id=section.id,
        title=section.title,
        blocks=[block_out(block) for block in section.blocks],
        subsections=[section_out(subsection) for subsection in section.subsections],
    )


def policy_document(
    declaration: Declaration,
    document: Document,
    changes: Sequence[Change] | None,
    previous_version: str | None,
) -> PolicyDocument:
    """The machine-readable policy of a declaration.

    Args:
        declaration: the declaration rendered.
        document: its policy as a document (the text of the sections).
        changes: the changes since the previous version, or None.
        previous_version: the previous version's number, or None.

    Returns:
        The policy document model.
    """
    policy = declaration.policy
    purposes = declaration.purposes.values()
    return PolicyDocument(
        language=document.language,
        declaration_digest=declaration.digest,
        controller=facts.controller(declaration),
        policy=PolicyOut(
            title=document.title,
            version=policy.version,
            effective_date=policy.effective_date,
            published_date=policy.published_date,
            previous_version=previous_version,
            url=policy.url,
            languages=list(policy.languages),
            notice_period=None if policy.notice_period is None else str(policy.notice_period),
            change_notice=list(policy.change_notice),
        ),
        changes=None
        if changes is None
        else [ChangeOut(path=c.path, summary=c.summary, material=c.material) for c in changes],
        lead=[block_out(block) for block in document.lead],
        sections=[section_out(section) for section in document.sections],
        purposes=facts.purposes(declaration),
        collection=facts.collection(declaration),
        recipients=facts.recipients(declaration),
        disclosures=facts.disclosures(declaration),
        transfers=facts.transfers(declaration),
        storage=facts.storage(declaration),
        cookies=facts.cookies(declaration),
        sells_or_shares=any(purpose.sale_or_sharing for purpose in purposes),
        targeted_advertising=any(purpose.targeted_advertising for purpose in purposes),
        rights=facts.rights(declaration),
        notice_at_collection=facts.notice_at_collection(declaration),
    )


def render_json(policy: PolicyDocument) -> str:
    """The policy document as JSON text: indented, keys in schema order, a final newline.

    Args:
        policy: the policy document model.

    Returns:
        The JSON text.
    """
    return json.dumps(policy.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


def policy_schema() -> dict[str, Any]:
    """The JSON Schema of the machine-readable policy, derived from its Pydantic models.

    Returns:
        The schema (JSON Schema 2020-12), as a dictionary.
    """
    schema = PolicyDocument.model_json_schema(mode="serialization")
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "Pledge machine-readable privacy policy",
        **{key: value for key, value in schema.items() if key != "title"},
    }
