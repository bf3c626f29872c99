"""The privacy policy as a format-neutral document, its sections in a fixed order.

The order follows what a reader asks first (who, what, why, how long, who else), and covers
GDPR Art. 13/14 and the CCPA notice at collection. Sections the declaration says nothing
about, and that the law does not require, are left out rather than filled with guesses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Protocol

from pledge.declaration.model import Declaration, Person
from pledge.render import processing, rights, sharing
from pledge.render.document import (
    Block,
    DefinitionList,
    Document,
    Inline,
    Paragraph,
    Section,
    Span,
    bullets,
    email_link,
    join_words,
    paragraph,
    phone_link,
    text,
    web_link,
)
from pledge.render.wording import NOTICE_CHANNELS, country_in_sentence, sentence


class Change(Protocol):
    """One change between two declarations, as ``pledge.declaration.diff`` reports it."""

    @property
    def material(self) -> bool:
        """Whether people must be told before it takes effect."""

    @property
    def summary(self) -> str:
        """The change as one plain-language sentence."""

    @property
    def path(self) -> str:
        """Where in the declaration it is, e.g. ``purposes.analytics.retention``."""


SectionBuilder = Callable[[Declaration], Section | None]

SECTION_ORDER: tuple[str, ...] = (
    "what-changed",
    "who-we-are",
    "what-we-collect",
    "why-we-use-it",
    "how-long-we-keep-it",
    "who-receives-it",
    "international-transfers",
    "cookies",
    "selling-and-sharing",
    "automated-decisions",
    "your-rights",
    "children",
    "security",
    "changes-to-this-policy",
    "notice-at-collection",
)
"""Every section id the policy can have, in the order they appear."""

DEFAULT_TITLE = "Privacy policy"

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def date_text(day: dt.date) -> str:
    """A date in words, independent of the locale: "1 March 2025".

    Args:
        day: the date.

    Returns:
        The date in words.
    """
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


WORDING_LANGUAGE = "en"
"""The language of Pledge's own wording; the only one so far, whatever the policy lists."""


def build_policy(
    declaration: Declaration,
    changes: Sequence[Change] | None = None,
    previous_version: str | None = None,
) -> Document:
    """The privacy policy of a declaration as a document.

    Args:
        declaration: what the company declares.
        changes: the changes since the previous version; None for no "What changed" section.
        previous_version: the version of the previous policy, when comparing with one.

    Returns:
        The document, its sections in :data:`SECTION_ORDER`.
    """
    policy = declaration.policy
    meta = [("Version", policy.version), ("Effective", date_text(policy.effective_date))]
    if policy.published_date is not None:
        meta.append(("Published", date_text(policy.published_date)))
    builders: list[SectionBuilder] = [
        _who_we_are,
        processing.what_we_collect,
        processing.why_we_use_it,
        processing.how_long_we_keep_it,
        sharing.who_receives_it,
        sharing.international_transfers,
        sharing.cookies,
        sharing.selling_and_sharing,
        processing.automated_decisions,
        rights.your_rights,
        rights.children,
        rights.security,
        lambda d: _changes_to_this_policy(d, previous_version),
        processing.notice_at_collection,
    ]
    sections = [] if changes is None else [_what_changed(changes, previous_version)]
    for build in builders:
        section = build(declaration)
        if section is not None:
            sections.append(section)
    return Document(
        title=policy.title or DEFAULT_TITLE,
        language=WORDING_LANGUAGE,
        meta=tuple(meta),
        lead=(_lead(declaration),),
        sections=tuple(sections),
    )


def _lead(declaration: Declaration) -> Paragraph:
    name = declaration.controller.name
    return paragraph(
        f"This policy explains what personal data {name} collects about you, where it comes"
        " from, why we use it and on what legal basis, how long we keep it, who receives it,"
        f" and the rights you have. In it, “we” and “us” mean {name}, and “you” means the"
        " person the data is about."
    )


def _what_changed(changes: Sequence[Change], previous_version: str | None) -> Section:
    since = f"version {previous_version}" if previous_version else "the previous version"
    if not changes:
        return Section(
            "what-changed", "What changed", (paragraph(f"Nothing has changed since {since}."),)
        )
    material = [text(change.summary) for change in changes if change.material]
    other = [text(change.summary) for change in changes if not change.material]
    blocks: list[Block] = [paragraph(f"This is what changed since {since}.")]
    if material:
        blocks.append(paragraph("Important changes:"))
        blocks.append(bullets(material))
    if other:
        blocks.append(paragraph("Other changes:" if material else "Changes:"))
        blocks.append(bullets(other))
    return Section("what-changed", "What changed", tuple(blocks))


def contact_ways(person: Person) -> list[Inline]:
    """How to reach a person or office: "by e-mail at …", "by telephone on …", "by post at …".

    Args:
        person: the contact.

    Returns:
        One inline run per way declared.
    """
    ways: list[Inline] = []
    if person.email:
        ways.append(text("by e-mail at ", email_link(person.email)))
    if person.phone:
        ways.append(text("by telephone on ", phone_link(person.phone)))
    if person.address:
        ways.append(text(f"by post at {person.address}"))
    return ways


def join_inline(parts: Sequence[Inline], conjunction: str = "or") -> Inline:
    """Inline runs joined as an English enumeration.

    Args:
        parts: the runs.
        conjunction: the last joining word.

    Returns:
        One run.
    """
    spans: list[Span] = []
    for index, part in enumerate(parts):
        if index:
            spans.append(f" {conjunction} " if index == len(parts) - 1 else ", ")
        spans.extend(part)
    return text(*spans)


def _contact_paragraph(role: str, person: Person) -> list[Block]:
    named = f"{role}, {person.name}," if person.name else role
    ways = contact_ways(person)
    if not ways:
        return [paragraph(f"{sentence(role)} is {person.name}.")] if person.name else []
    return [paragraph(f"You can reach {named} ", *join_inline(ways), ".")]


def _who_we_are(declaration: Declaration) -> Section:
    controller = declaration.controller
    name = controller.name
    legal = f" ({controller.legal_name})" if controller.legal_name else ""
    blocks: list[Block] = [
        paragraph(
            f"{name}{legal} is responsible for your personal data: in data protection law, we"
            " are its “controller”. We are established in"
            f" {country_in_sentence(controller.country)}."
        )
    ]
    details: list[tuple[str, Inline]] = []
    if controller.address:
        details.append(("Address", text(controller.address)))
    if controller.email:
        details.append(("E-mail", text(email_link(controller.email))))
    if controller.phone:
        hours = f" ({controller.hours})" if controller.hours else ""
        details.append(("Telephone", text(phone_link(controller.phone), hours)))
    elif controller.hours:
        details.append(("Hours", text(controller.hours)))
    if controller.website:
        details.append(("Web site", text(web_link(controller.website))))
    if details:
        blocks.append(DefinitionList(tuple(details)))
    if controller.dpo is not None:
        blocks += _contact_paragraph("our data protection officer", controller.dpo)
    if controller.eu_representative is not None:
        blocks += _contact_paragraph(
            "our representative in the European Union", controller.eu_representative
        )
    return Section("who-we-are", "Who we are", tuple(blocks))


def _changes_to_this_policy(declaration: Declaration, previous_version: str | None) -> Section:
    policy = declaration.policy
    published = (
        f"; we published it on {date_text(policy.published_date)}" if policy.published_date else ""
    )
    blocks: list[Block] = [
        paragraph(
            f"This is version {policy.version} of our privacy policy. It takes effect on"
            f" {date_text(policy.effective_date)}{published}."
        )
    ]
    if previous_version:
        blocks.append(paragraph(f"It replaces version {previous_version}."))
    channels = join_words(NOTICE_CHANNELS[channel] for channel in policy.change_notice)
    ahead = (
        f" at least {policy.notice_period.describe()} before the change takes effect"
        if policy.notice_period
        else ""
    )
    if channels or ahead:
        how = f" {channels}" if channels else ""
        blocks.append(
            paragraph(
                "When we change this policy in a way that matters to you, we will tell"
                f" you{how}{ahead}."
            )
        )
    if policy.url:
        blocks.append(
            paragraph("You can always read the current version at ", web_link(policy.url), ".")
        )
    return Section("changes-to-this-policy", "Changes to this policy", tuple(blocks))
