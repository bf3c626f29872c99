"""The sections about the processing itself: what, why, how long, automated decisions, and the
CCPA notice at collection."""

from __future__ import annotations

from pledge.declaration.model import (
    CollectionPoint,
    Declaration,
    LegalBasis,
    Purpose,
    Requirement,
    Source,
)
from pledge.render import facts
from pledge.render.document import (
    Block,
    DefinitionList,
    Inline,
    Link,
    Section,
    Table,
    bullets,
    join_words,
    paragraph,
    text,
)
from pledge.render.schema import NoticeRowOut
from pledge.render.wording import (
    LEGAL_BASIS_EXPLANATIONS,
    NOT_STATED,
    REQUIREMENT_SENTENCES,
    SOURCE_LABELS,
    SOURCE_SENTENCES,
    category_label,
    category_labels,
    humanise,
    purpose_labels,
    retention_text,
    sentence,
    slug,
)


def what_we_collect(declaration: Declaration) -> Section:
    """What we collect, from whom, and whether people have to provide it (Art. 13(2)(e), 14).

    Args:
        declaration: the declaration.

    Returns:
        The section, one subsection per collection point.
    """
    if not declaration.collection:
        return Section(
            "what-we-collect",
            "What we collect and where it comes from",
            (
                paragraph(
                    "The personal data we use is listed for each purpose under ",
                    Link("Why we use your data", "#why-we-use-it"),
                    ". Where we collect it is not stated.",
                ),
            ),
        )
    by_source: dict[Source, list[str]] = {}
    for point in declaration.collection.values():
        name = point.label
        if point.source is Source.THIRD_PARTY and point.origin:
            name = f"{point.origin} ({point.label})"
        by_source.setdefault(point.source, []).append(name)
    summary = bullets(
        text(f"{SOURCE_LABELS[source]}: {', '.join(by_source[source])}.")
        for source in Source
        if source in by_source
    )
    return Section(
        "what-we-collect",
        "What we collect and where it comes from",
        (
            paragraph(
                "We collect personal data in the places listed below. For each, you can see"
                " what we collect, where it comes from and whether you have to provide it."
            ),
            summary,
        ),
        tuple(
            _collection_point(declaration, key, point)
            for key, point in declaration.collection.items()
        ),
    )


def _collection_point(declaration: Declaration, key: str, point: CollectionPoint) -> Section:
    blocks: list[Block] = []
    if point.description:
        blocks.append(paragraph(sentence(point.description)))
    if point.source is Source.THIRD_PARTY:
        origin = (
            f"We receive this data from {point.origin}."
            if point.origin
            else (f"{SOURCE_SENTENCES[point.source]} The source is {NOT_STATED}.")
        )
        blocks.append(paragraph(origin))
    else:
        blocks.append(paragraph(SOURCE_SENTENCES[point.source]))
    if point.subjects:
        blocks.append(
            paragraph(
                f"It is data about {join_words(humanise(s).lower() for s in point.subjects)}."
            )
        )
    taxonomy = declaration.taxonomy
    # Whether a field is required only means something for data people give themselves.
    given = point.source is Source.DIRECT
    rows = []
    for field in point.fields.values():
        used_for = field.purposes or declaration.purposes_using(field.category)
        broad = list(taxonomy.lineage(field.category))[-1]
        row = [
            text(field.label or category_label(declaration, field.category)),
            text(taxonomy.label(broad)),
            text("Required" if field.required else "Optional"),
            text(purpose_labels(declaration, used_for)),
        ]
        rows.append(tuple(row if given else row[:2] + row[3:]))
    columns = ("Data", "Category", "Required or optional", "Used for")
    blocks.append(
        Table(
            f"Data collected: {point.label}",
            columns if given else columns[:2] + columns[3:],
            tuple(rows),
        )
    )
    blocks += _requirement(point)
    return Section(f"collect-{slug(key)}", point.label, tuple(blocks))


def _requirement(point: CollectionPoint) -> list[Block]:
    """Art. 13(2)(e): whether providing the data is required, why, and what if not."""
    required = any(field.required for field in point.fields.values())
    blocks: list[Block] = []
    if point.requirement is not None and (required or point.requirement is Requirement.VOLUNTARY):
        blocks.append(paragraph(REQUIREMENT_SENTENCES[point.requirement]))
    elif required and point.source is Source.DIRECT:
        blocks.append(
            paragraph(
                f"Whether the law or a contract requires the required fields is {NOT_STATED}."
            )
        )
    elif not required and point.source is Source.DIRECT:
        blocks.append(paragraph("All of this data is optional."))
    if point.consequence:
        what = "the required fields" if required else "this data"
        blocks.append(paragraph(f"If you do not provide {what}: {sentence(point.consequence)}"))
    elif required and point.source is Source.DIRECT:
        blocks.append(
            paragraph(f"What happens if you do not provide the required fields is {NOT_STATED}.")
        )
    return blocks


def why_we_use_it(declaration: Declaration) -> Section:
    """Each purpose with its data, legal basis and legitimate interest (Art. 13(1)(c)-(d)).

    Args:
        declaration: the declaration.

    Returns:
        The section, one subsection per purpose.
    """
    return Section(
        "why-we-use-it",
        "Why we use your data and our legal bases",
        (
            paragraph(
                "We use personal data for the purposes below. For each one, you can see which"
                " data we use and the legal basis that allows it."
            ),
        ),
        tuple(_purpose(declaration, key, purpose) for key, purpose in declaration.purposes.items()),
    )


def _purpose(declaration: Declaration, key: str, purpose: Purpose) -> Section:
    blocks: list[Block] = []
    if purpose.description:
        blocks.append(paragraph(sentence(purpose.description)))
    basis = purpose.legal_basis
    items: list[tuple[str, Inline]] = [
        ("Data we use", text(category_labels(declaration, purpose.categories))),
        ("Legal basis", text(LEGAL_BASIS_EXPLANATIONS[basis] if basis else NOT_STATED)),
    ]
    if basis is LegalBasis.LEGITIMATE_INTERESTS:
        items.append(("Our legitimate interest", text(purpose.legitimate_interest or NOT_STATED)))
    kept = retention_text(purpose.retention)
    if purpose.retention is not None and purpose.retention.reason:
        kept = f"{sentence(kept)} {sentence(purpose.retention.reason)}"
    items.append(("How long we keep it", text(kept)))
    if purpose.direct_marketing:
        items.append(
            (
                "Your right to object",
                text("You can object to this direct marketing at any time, and we will stop."),
            )
        )
    if purpose.sale_or_sharing:
        items.append(
            ("Selling or sharing", text("We sell or share personal information for this purpose."))
        )
    if purpose.targeted_advertising:
        items.append(("Advertising", text("We use your data to choose the advertising you see.")))
    if purpose.automated_decision is not None:
        items.append(
            (
                "Automated decisions",
                text(
                    "We make decisions about you by automated means for this purpose; see ",
                    Link("Automated decisions", "#automated-decisions"),
                    ".",
                ),
            )
        )
    blocks.append(DefinitionList(tuple(items)))
    return Section(f"purpose-{slug(key)}", purpose.label, tuple(blocks))


def how_long_we_keep_it(declaration: Declaration) -> Section:
    """Retention per purpose (Art. 13(2)(a)) and per category (CCPA 1798.100(a)(3)).

    Args:
        declaration: the declaration.

    Returns:
        The section.
    """
    by_purpose = Table(
        "How long we keep data, by purpose",
        ("Purpose", "How long we keep it", "Why"),
        tuple(
            (
                text(purpose.label),
                text(retention_text(purpose.retention)),
                text(purpose.retention.reason if purpose.retention else None),
            )
            for purpose in declaration.purposes.values()
        ),
    )
    blocks: list[Block] = [
        paragraph("We keep personal data only for the periods below."),
        by_purpose,
    ]
    rows = facts.notice_at_collection(declaration)
    if rows:
        blocks.append(
            Table(
                "How long we keep data, by category",
                ("Category", "How long we keep it"),
                tuple(
                    (
                        text(category_label(declaration, row.category.key)),
                        text(_kept(declaration, row)),
                    )
                    for row in rows
                ),
            )
        )
    return Section("how-long-we-keep-it", "How long we keep your data", tuple(blocks))


def _kept(declaration: Declaration, row: NoticeRowOut) -> str:
    """A category's retention: one period, or each period with the purposes it applies to."""
    grouped: dict[str, list[str]] = {}
    for item in row.retention:
        grouped.setdefault(item.text, []).append(declaration.purposes[item.purpose].label)
    if not grouped:
        return NOT_STATED
    if len(grouped) == 1:
        return next(iter(grouped))
    return "; ".join(f"{period} (for {join_words(labels)})" for period, labels in grouped.items())


def automated_decisions(declaration: Declaration) -> Section:
    """Solely automated decisions: logic, significance, safeguards, or that there are none.

    Args:
        declaration: the declaration.

    Returns:
        The section.
    """
    decided = {
        key: purpose
        for key, purpose in declaration.purposes.items()
        if purpose.automated_decision is not None
    }
    if not decided:
        return Section(
            "automated-decisions",
            "Automated decisions",
            (
                paragraph(
                    "We do not make decisions about you based solely on automated processing,"
                    " including profiling, that have legal effects on you or affect you in a"
                    " similarly significant way."
                ),
            ),
        )
    subsections = []
    for key, purpose in decided.items():
        decision = purpose.automated_decision
        assert decision is not None  # filtered above
        safeguards = "; ".join(decision.safeguards) if decision.safeguards else NOT_STATED
        subsections.append(
            Section(
                f"decision-{slug(key)}",
                purpose.label,
                (
                    DefinitionList(
                        (
                            ("How it works", text(sentence(decision.logic))),
                            ("What it means for you", text(sentence(decision.significance))),
                            ("Your safeguards", text(sentence(safeguards))),
                        )
                    ),
                ),
            )
        )
    return Section(
        "automated-decisions",
        "Automated decisions",
        (
            paragraph(
                "For the purposes below, we make decisions about you by automated means alone."
                " Here is how they work, what they mean for you, and how you are protected."
            ),
        ),
        tuple(subsections),
    )


def notice_at_collection(declaration: Declaration) -> Section:
    """The CCPA notice at collection: category → purposes, sold or shared, retention.

    Args:
        declaration: the declaration.

    Returns:
        The section.
    """
    rows = facts.notice_at_collection(declaration)
    lead = paragraph(
        "This summary is our notice at collection under the California Consumer Privacy Act:"
        " the categories of personal information we collect, what we use them for, whether we"
        " sell or share them, and how long we keep them."
    )
    if not rows:
        body: Block = paragraph(
            f"The categories of personal information we collect are {NOT_STATED}."
        )
    else:
        body = Table(
            "Notice at collection",
            (
                "Category of personal information",
                "Purposes",
                "Sold or shared?",
                "How long we keep it",
            ),
            tuple(
                (
                    text(category_label(declaration, row.category.key)),
                    text(purpose_labels(declaration, row.purposes)),
                    text("Yes" if row.sold_or_shared else "No"),
                    text(_kept(declaration, row)),
                )
                for row in rows
            ),
        )
    return Section("notice-at-collection", "Notice at collection", (lead, body))
