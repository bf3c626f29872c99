"""The sections about data leaving the company: recipients, transfers, cookies, selling."""

from __future__ import annotations

from pledge.declaration.model import (
    Cookie,
    CookieCategory,
    Declaration,
    LegalBasis,
    Recipient,
    RecipientRole,
    Right,
)
from pledge.declaration.taxonomy import eea_countries, is_transfer
from pledge.render.document import (
    Block,
    BulletList,
    DefinitionList,
    Inline,
    Link,
    Section,
    Span,
    Table,
    bullets,
    join_words,
    paragraph,
    text,
    web_link,
)
from pledge.render.wording import (
    COOKIE_CATEGORIES,
    DISCLOSURE_GROUNDS,
    NOT_STATED,
    ROLE_SENTENCES,
    ROLE_TITLES,
    SAFEGUARDS,
    category_labels,
    country_in_sentence,
    country_name,
    duration_text,
    purpose_labels,
    sentence,
    slug,
)


def who_receives_it(declaration: Declaration) -> Section:
    """Recipients by role (Art. 13(1)(e)) and the exceptional grounds for disclosure.

    Args:
        declaration: the declaration.

    Returns:
        The section, one subsection per recipient role, then one for exceptional cases.
    """
    subsections = []
    for role in RecipientRole:
        members = {k: r for k, r in declaration.recipients.items() if r.role is role}
        if members:
            subsections.append(
                Section(
                    f"recipients-{slug(role.value)}",
                    ROLE_TITLES[role],
                    (
                        paragraph(ROLE_SENTENCES[role]),
                        DefinitionList(
                            tuple(
                                (recipient.name, _recipient(declaration, key, recipient))
                                for key, recipient in members.items()
                            )
                        ),
                    ),
                )
            )
    if declaration.disclosures:
        items = []
        for ground, disclosure in declaration.disclosures.items():
            told = "We will tell you when this happens." if disclosure.notice else None
            description = sentence(disclosure.description) if disclosure.description else None
            items.append(
                text(" ".join(filter(None, (DISCLOSURE_GROUNDS[ground], description, told))))
            )
        subsections.append(
            Section(
                "exceptional-disclosures",
                "In exceptional cases",
                (
                    paragraph("We may also disclose personal data in these exceptional cases:"),
                    bullets(items),
                ),
            )
        )
    if declaration.recipients:
        lead = paragraph(
            "We disclose personal data to the recipients below, for the purposes listed."
        )
    elif declaration.disclosures:
        lead = paragraph(
            "We do not disclose personal data to other organisations, except in the exceptional"
            " cases below."
        )
    else:
        lead = paragraph("We do not disclose personal data to other organisations.")
    return Section("who-receives-it", "Who receives your data", (lead,), tuple(subsections))


def _recipient(declaration: Declaration, key: str, recipient: Recipient) -> Inline:
    spans: list[Span] = []
    if recipient.country:
        spans.append(f"Located in {country_in_sentence(recipient.country)}. ")
    if recipient.purposes:
        spans.append(f"Receives data for: {purpose_labels(declaration, recipient.purposes)}. ")
    categories = declaration.recipient_categories(key)
    if categories:
        spans.append(f"Data: {category_labels(declaration, categories)}. ")
    if recipient.obligations:
        spans.append(sentence(recipient.obligations) + " ")
    if recipient.privacy_policy:
        spans += ["Their privacy policy: ", web_link(recipient.privacy_policy), "."]
    if not categories:
        spans.append(f"Which data it receives is {NOT_STATED}.")
    result = text(*spans)
    last = result[-1]
    if isinstance(last, str):
        result = (*result[:-1], last.rstrip())
    return result


def _home_region(country: str) -> str:
    if country in eea_countries():
        return "the European Economic Area"
    return country_in_sentence(country)


def international_transfers(declaration: Declaration) -> Section:
    """Where data is stored, and transfers abroad with their safeguards (Art. 13(1)(f)).

    Args:
        declaration: the declaration.

    Returns:
        The section.
    """
    home = declaration.controller.country
    blocks: list[Block] = []
    if declaration.storage:
        places = []
        for location in declaration.storage:
            where = country_name(location.country)
            if location.region:
                where += f" ({location.region})"
            host = location.provider
            if host is None and location.recipient in declaration.recipients:
                host = declaration.recipients[location.recipient].name
            places.append(text(f"{where}, hosted by {host}" if host else where))
        blocks += [paragraph("We store personal data in:"), BulletList(tuple(places))]
    transfers = declaration.transfers()
    unknown = [r.name for r in declaration.recipients.values() if r.country is None]
    if transfers:
        items = []
        for key in transfers:
            recipient = declaration.recipients[key]
            assert recipient.country is not None  # transfers() only lists recipients with one
            ground = SAFEGUARDS[recipient.safeguard] if recipient.safeguard else None
            spans: list[Span] = [
                f"{recipient.name}, in {country_in_sentence(recipient.country)}: ",
                f"protected by {ground}." if ground else f"the safeguard is {NOT_STATED}.",
            ]
            if recipient.safeguard_details:
                spans.append(" " + sentence(recipient.safeguard_details))
            items.append(text(*spans))
        blocks += [
            paragraph(
                f"Some recipients process personal data outside {_home_region(home)}. Each such"
                " transfer is protected as follows:"
            ),
            BulletList(tuple(items)),
        ]
    if unknown:
        blocks.append(
            paragraph(
                f"For {join_words(unknown)}, the country where personal data is processed is"
                f" {NOT_STATED}."
            )
        )
    abroad = any(is_transfer(home, location.country) for location in declaration.storage)
    if not transfers and not unknown and not abroad:
        blocks.append(paragraph(f"We do not transfer personal data outside {_home_region(home)}."))
    return Section(
        "international-transfers",
        "International transfers and where your data is stored",
        tuple(blocks),
    )


def cookies(declaration: Declaration) -> Section | None:
    """The cookie table: name, provider, category, purpose, duration, first or third party.

    Args:
        declaration: the declaration.

    Returns:
        The section, or None when no cookies are declared.
    """
    if not declaration.cookies:
        return None
    rows = []
    for name, cookie in declaration.cookies.items():
        purpose = declaration.purposes.get(cookie.purpose) if cookie.purpose else None
        what = ": ".join(filter(None, (purpose.label if purpose else None, cookie.description)))
        shown = f"Names starting with “{name[:-1]}”" if name.endswith("*") else name
        rows.append(
            (
                text(shown),
                text(cookie.provider),
                text(COOKIE_CATEGORIES[cookie.category]),
                text(what or NOT_STATED),
                text(duration_text(cookie.duration)),
                text("Third party" if cookie.third_party else "First party"),
            )
        )
    blocks: list[Block] = [
        paragraph(
            "Cookies are small files that a web site stores on your device; similar technologies,"
            " such as local storage, work in the same way. We use the ones listed below."
        )
    ]
    optional = [
        cookie
        for cookie in declaration.cookies.values()
        if cookie.category is not CookieCategory.STRICTLY_NECESSARY
    ]
    if optional and all(_needs_consent(declaration, cookie) for cookie in optional):
        blocks.append(
            paragraph("We set the cookies that are not strictly necessary only with your consent.")
        )
    blocks.append(
        Table(
            "Cookies and similar technologies",
            ("Name", "Provider", "Category", "Purpose", "How long it lasts", "Set by"),
            tuple(rows),
        )
    )
    return Section("cookies", "Cookies and similar technologies", tuple(blocks))


def _needs_consent(declaration: Declaration, cookie: Cookie) -> bool:
    purpose = declaration.purposes.get(cookie.purpose) if cookie.purpose else None
    return purpose is not None and purpose.legal_basis is LegalBasis.CONSENT


def selling_and_sharing(declaration: Declaration) -> Section:
    """Whether personal information is sold or shared (CCPA), and targeted advertising.

    Args:
        declaration: the declaration.

    Returns:
        The section.
    """
    purposes = declaration.purposes
    sold = [key for key, purpose in purposes.items() if purpose.sale_or_sharing]
    targeted = [key for key, purpose in purposes.items() if purpose.targeted_advertising]
    blocks: list[Block] = []
    if not sold and targeted:
        # Targeted advertising may well be "sharing" under CCPA (lint C402 says so); the
        # policy only claims what the declaration does.
        blocks.append(paragraph("We do not sell your personal information."))
    elif not sold:
        blocks.append(
            paragraph(
                "We do not sell your personal information, and we do not share it for"
                " cross-context behavioural advertising."
            )
        )
    else:
        categories: dict[str, None] = {}
        for key in sold:
            categories.update(dict.fromkeys(purposes[key].categories))
        buyers = [
            recipient.name
            for recipient in declaration.recipients.values()
            if recipient.role is RecipientRole.THIRD_PARTY and set(recipient.purposes) & set(sold)
        ]
        blocks.append(
            paragraph(
                "We sell or share personal information for these purposes:"
                f" {purpose_labels(declaration, sold)}. The categories involved are:"
                f" {category_labels(declaration, categories)}."
            )
        )
        if buyers:
            blocks.append(paragraph(f"We sell or share it with: {join_words(buyers)}."))
        offered = declaration.rights.offered if declaration.rights else []
        if Right.OPT_OUT_OF_SALE in offered:
            blocks.append(
                paragraph(
                    "You can tell us to stop; see ",
                    Link("Your rights", "#your-rights"),
                    ".",
                )
            )
    if targeted:
        blocks.append(
            paragraph(
                "We use personal information to show you advertising chosen from your activity"
                f" or profile, for: {purpose_labels(declaration, targeted)}."
            )
        )
    else:
        blocks.append(
            paragraph("We do not use your personal information for targeted advertising.")
        )
    return Section(
        "selling-and-sharing", "Selling and sharing your personal information", tuple(blocks)
    )
