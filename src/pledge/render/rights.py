"""The sections about people and protection: rights, children, security."""

from __future__ import annotations

from pledge.declaration.model import Channels, Declaration, LegalBasis, Right
from pledge.declaration.taxonomy import consent_ages
from pledge.render.document import (
    Block,
    DefinitionList,
    Inline,
    Link,
    Section,
    Table,
    bullets,
    email_link,
    join_words,
    paragraph,
    phone_link,
    text,
    web_link,
)
from pledge.render.wording import (
    NOT_STATED,
    NOTICE_CHANNELS,
    RIGHT_EXPLANATIONS,
    RIGHT_LABELS,
    country_name,
    humanise,
    sentence,
)


def your_rights(declaration: Declaration) -> Section:
    """Each right offered, how to exercise it, withdrawal of consent and complaint (Art. 13(2)).

    The rights to withdraw consent (when a purpose relies on consent) and to complain to a
    supervisory authority are stated even when not listed: the law gives them regardless.

    Args:
        declaration: the declaration.

    Returns:
        The section.
    """
    offered = list(declaration.rights.offered) if declaration.rights else []
    stated = list(offered)
    if Right.WITHDRAW_CONSENT not in stated and any(
        purpose.legal_basis is LegalBasis.CONSENT for purpose in declaration.purposes.values()
    ):
        stated.append(Right.WITHDRAW_CONSENT)
    if Right.COMPLAINT not in stated:
        stated.append(Right.COMPLAINT)
    blocks: list[Block] = [
        paragraph("You have these rights over your personal data:")
        if offered
        else paragraph(
            f"Which rights we let you exercise is {NOT_STATED}. The law gives you these:"
        )
    ]
    blocks.append(
        DefinitionList(tuple((RIGHT_LABELS[r], _explain(declaration, r)) for r in stated))
    )
    return Section(
        "your-rights",
        "Your rights",
        tuple(blocks),
        (Section("exercising-your-rights", "How to exercise your rights", _how(declaration)),),
    )


def _explain(declaration: Declaration, right: Right) -> Inline:
    explanation = RIGHT_EXPLANATIONS[right]
    authority = declaration.controller.supervisory_authority
    if right is not Right.COMPLAINT or authority is None:
        return text(explanation)
    where = f", {country_name(authority.country)}" if authority.country else ""
    name: str | Link = web_link(authority.url, authority.name) if authority.url else authority.name
    return text(explanation, " Our lead supervisory authority is ", name, f"{where}.")


def _channel_items(channels: Channels) -> list[Inline]:
    items: list[Inline] = []
    if channels.email:
        items.append(text("By e-mail: ", email_link(channels.email)))
    if channels.url:
        items.append(text("Online: ", web_link(channels.url)))
    if channels.phone:
        items.append(text("By telephone: ", phone_link(channels.phone)))
    if channels.postal:
        items.append(text(f"By post: {channels.postal}"))
    if channels.in_app:
        items.append(text(f"In the app: {channels.in_app}"))
    return items


def _how(declaration: Declaration) -> tuple[Block, ...]:
    rights = declaration.rights
    items = _channel_items(rights.channels) if rights else []
    blocks: list[Block] = []
    if items:
        blocks += [paragraph("To exercise your rights, contact us:"), bullets(items)]
    else:
        controller = declaration.controller
        if controller.email or controller.phone or controller.address:
            blocks.append(
                paragraph(
                    "To exercise your rights, contact us using the details under ",
                    Link("Who we are", "#who-we-are"),
                    ".",
                )
            )
        else:
            blocks.append(paragraph(f"How to exercise your rights is {NOT_STATED}."))
    if rights is not None and rights.response_time is not None:
        blocks.append(
            paragraph(f"We answer your request within {rights.response_time.describe()}.")
        )
    return tuple(blocks)


def children(declaration: Declaration) -> Section | None:
    """Minimum age, the Art. 8 age of digital consent, and what happens on discovery.

    Args:
        declaration: the declaration.

    Returns:
        The section, or None when the declaration says nothing about children.
    """
    declared = declaration.children
    if declared is None:
        return None
    blocks: list[Block] = []
    if declared.restricted_to_adults:
        blocks.append(paragraph("Our service is intended for adults only."))
    if declared.minimum_age is not None:
        blocks.append(
            paragraph(f"You must be at least {declared.minimum_age} years old to use our service.")
        )
    if declared.parental_consent:
        blocks.append(
            paragraph(
                "Where we rely on consent and offer our service directly to a child who is below"
                " the age of digital consent in their country, we ask a parent or guardian to"
                " consent for them (GDPR Art. 8)."
            )
        )
    if declared.parental_consent or declared.consent_ages:
        ages = {**consent_ages(), **declared.consent_ages}
        blocks.append(
            Table(
                "Age of digital consent by country",
                ("Country", "Age"),
                tuple((text(country_name(code)), text(str(age))) for code, age in ages.items()),
            )
        )
    if declared.on_discovery:
        blocks.append(
            paragraph(
                "If we learn that we have collected a child's personal data without the consent"
                f" required: {sentence(declared.on_discovery)}"
            )
        )
    if not blocks:
        return None
    return Section("children", "Children", tuple(blocks))


def security(declaration: Declaration) -> Section | None:
    """Security measures (Art. 32) and what happens after a breach (Art. 33-34).

    Args:
        declaration: the declaration.

    Returns:
        The section, or None when the declaration says nothing about security.
    """
    declared = declaration.security
    if declared is None:
        return None
    blocks: list[Block] = []
    if declared.measures:
        blocks += [
            paragraph("We protect personal data with these measures:"),
            bullets(
                text(sentence(description) if description else humanise(key))
                for key, description in declared.measures.items()
            ),
        ]
    breach = declared.breach
    if breach is not None:
        if breach.channels:
            how = join_words((NOTICE_CHANNELS[channel] for channel in breach.channels), "or")
            blocks.append(
                paragraph(
                    "If a breach of security affects your personal data and is likely to put"
                    " your rights and freedoms at high risk, we will tell you without undue"
                    f" delay {how}."
                )
            )
        if breach.notify_authority:
            blocks.append(
                paragraph(
                    "We report personal-data breaches to the supervisory authority within 72 hours"
                    " of becoming aware of them, unless the breach is unlikely to put anyone at"
                    " risk."
                )
            )
        if breach.description:
            blocks.append(paragraph(sentence(breach.description)))
    if not blocks:
        return None
    return Section("security", "Security", tuple(blocks))
