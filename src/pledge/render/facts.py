"""The facts a policy states, derived once from the declaration.

Both the text sections and the JSON output take their facts from here, so what the policy
says and what it publishes for machines agree. Everything keeps declaration order.
"""

from __future__ import annotations

from pledge.declaration.model import Declaration, Person, Retention
from pledge.render.schema import (
    AuthorityOut,
    AutomatedDecisionOut,
    CategoryOut,
    ChannelsOut,
    CollectionPointOut,
    ContactOut,
    ControllerOut,
    CookieOut,
    DisclosureOut,
    FieldOut,
    NoticeRowOut,
    PurposeOut,
    PurposeRetentionOut,
    RecipientOut,
    RetentionOut,
    RightsOut,
    StorageOut,
    TransferOut,
)
from pledge.render.wording import duration_text, retention_text


def category(declaration: Declaration, key: str) -> CategoryOut:
    """A category with its label and flags.

    Args:
        declaration: the declaration (its taxonomy includes its own categories).
        key: the category's key.

    Returns:
        The category.
    """
    taxonomy = declaration.taxonomy
    return CategoryOut(
        key=key,
        label=taxonomy.label(key),
        personal=taxonomy.is_personal(key),
        sensitive=taxonomy.is_sensitive(key),
    )


def retention(rule: Retention | None) -> RetentionOut:
    """A retention rule with its phrase ("not stated" when absent).

    Args:
        rule: the declared rule, or None.

    Returns:
        The retention.
    """
    if rule is None:
        return RetentionOut(text=retention_text(None))
    return RetentionOut(
        period=str(rule.period),
        after=rule.after.value,
        text=retention_text(rule),
        reason=rule.reason,
    )


def _contact(person: Person | None) -> ContactOut | None:
    if person is None:
        return None
    return ContactOut(**person.model_dump())


def controller(declaration: Declaration) -> ControllerOut:
    """Who is responsible.

    Args:
        declaration: the declaration.

    Returns:
        The controller's facts.
    """
    source = declaration.controller
    authority = source.supervisory_authority
    return ControllerOut(
        name=source.name,
        legal_name=source.legal_name,
        country=source.country,
        address=source.address,
        email=source.email,
        phone=source.phone,
        hours=source.hours,
        website=source.website,
        dpo=_contact(source.dpo),
        eu_representative=_contact(source.eu_representative),
        supervisory_authority=AuthorityOut(**authority.model_dump()) if authority else None,
    )


def purposes(declaration: Declaration) -> list[PurposeOut]:
    """Every purpose with its basis, categories and retention.

    Args:
        declaration: the declaration.

    Returns:
        The purposes, in declaration order.
    """
    found = []
    for key, purpose in declaration.purposes.items():
        decision = purpose.automated_decision
        found.append(
            PurposeOut(
                key=key,
                label=purpose.label,
                description=purpose.description,
                legal_basis=purpose.legal_basis,
                legitimate_interest=purpose.legitimate_interest,
                categories=[category(declaration, used) for used in purpose.categories],
                retention=retention(purpose.retention),
                sale_or_sharing=purpose.sale_or_sharing,
                targeted_advertising=purpose.targeted_advertising,
                direct_marketing=purpose.direct_marketing,
                automated_decision=(
                    AutomatedDecisionOut(**decision.model_dump()) if decision else None
                ),
            )
        )
    return found


def collection(declaration: Declaration) -> list[CollectionPointOut]:
    """Every collection point with its fields.

    Args:
        declaration: the declaration.

    Returns:
        The collection points, in declaration order.
    """
    return [
        CollectionPointOut(
            key=key,
            label=point.label,
            description=point.description,
            source=point.source,
            origin=point.origin,
            subjects=list(point.subjects),
            requirement=point.requirement,
            consequence=point.consequence,
            fields=[
                FieldOut(
                    key=field_key,
                    label=field.label,
                    category=category(declaration, field.category),
                    required=field.required,
                    purposes=list(field.purposes),
                )
                for field_key, field in point.fields.items()
            ],
        )
        for key, point in declaration.collection.items()
    ]


def recipients(declaration: Declaration) -> list[RecipientOut]:
    """Every recipient, marked when receiving it is an international transfer.

    Args:
        declaration: the declaration.

    Returns:
        The recipients, in declaration order.
    """
    transfers = set(declaration.transfers())
    return [
        RecipientOut(
            key=key,
            name=recipient.name,
            role=recipient.role,
            country=recipient.country,
            purposes=list(recipient.purposes),
            categories=declaration.recipient_categories(key),
            obligations=recipient.obligations,
            privacy_policy=recipient.privacy_policy,
            transfer=key in transfers,
        )
        for key, recipient in declaration.recipients.items()
    ]


def disclosures(declaration: Declaration) -> list[DisclosureOut]:
    """The exceptional grounds for disclosure.

    Args:
        declaration: the declaration.

    Returns:
        The grounds, in declaration order.
    """
    return [
        DisclosureOut(ground=ground, description=disclosure.description, notice=disclosure.notice)
        for ground, disclosure in declaration.disclosures.items()
    ]


def transfers(declaration: Declaration) -> list[TransferOut]:
    """The international transfers and their safeguards.

    Args:
        declaration: the declaration.

    Returns:
        One transfer per recipient outside the controller's country and the EEA.
    """
    found = []
    for key in declaration.transfers():
        recipient = declaration.recipients[key]
        assert recipient.country is not None  # transfers() only lists recipients with one
        found.append(
            TransferOut(
                recipient=key,
                name=recipient.name,
                country=recipient.country,
                safeguard=recipient.safeguard,
                safeguard_details=recipient.safeguard_details,
            )
        )
    return found


def storage(declaration: Declaration) -> list[StorageOut]:
    """Where data is kept.

    Args:
        declaration: the declaration.

    Returns:
        The storage locations, in declaration order.
    """
    return [StorageOut(**location.model_dump()) for location in declaration.storage]


def cookies(declaration: Declaration) -> list[CookieOut]:
    """The cookies and similar technologies.

    Args:
        declaration: the declaration.

    Returns:
        The cookies, in declaration order.
    """
    return [
        CookieOut(
            name=name,
            provider=cookie.provider,
            category=cookie.category,
            purpose=cookie.purpose,
            duration=None if cookie.duration is None else str(cookie.duration),
            duration_text=duration_text(cookie.duration),
            third_party=cookie.third_party,
            description=cookie.description,
        )
        for name, cookie in declaration.cookies.items()
    ]


def rights(declaration: Declaration) -> RightsOut | None:
    """The rights offered and the channels to exercise them.

    Args:
        declaration: the declaration.

    Returns:
        The rights, or None when the declaration says nothing about them.
    """
    if declaration.rights is None:
        return None
    offered = declaration.rights
    return RightsOut(
        offered=list(offered.offered),
        channels=ChannelsOut(**offered.channels.model_dump()),
        response_time=None if offered.response_time is None else str(offered.response_time),
    )


def notice_categories(declaration: Declaration) -> list[str]:
    """The personal-data categories the notice at collection lists.

    The categories collected, then those purposes use without collecting them; a purpose's
    broad category (``contact``) gives way to the specific ones collected (``contact.email``).

    Args:
        declaration: the declaration.

    Returns:
        Category keys, collected ones first, in declaration order.
    """
    taxonomy = declaration.taxonomy
    collected = list(declaration.collected_categories())
    ordered = dict.fromkeys(collected)
    for purpose in declaration.purposes.values():
        for used in purpose.categories:
            if used not in ordered and not any(taxonomy.covers(used, key) for key in collected):
                ordered[used] = None
    return [key for key in ordered if taxonomy.is_personal(key)]


def purposes_for_category(declaration: Declaration, key: str) -> list[str]:
    """The purposes a category serves: those whose categories cover it, and its fields' purposes.

    Args:
        declaration: the declaration.
        key: the category's key.

    Returns:
        Purpose keys, in declaration order.
    """
    found = set(declaration.purposes_using(key))
    for point_key, field_key in declaration.collected_categories().get(key, []):
        found.update(declaration.collection[point_key].fields[field_key].purposes)
    return [purpose for purpose in declaration.purposes if purpose in found]


def notice_at_collection(declaration: Declaration) -> list[NoticeRowOut]:
    """The CCPA notice at collection: per category, purposes, sold or shared, retention.

    Args:
        declaration: the declaration.

    Returns:
        One row per personal-data category, in the order of :func:`notice_categories`.
    """
    rows = []
    for key in notice_categories(declaration):
        served = purposes_for_category(declaration, key)
        rows.append(
            NoticeRowOut(
                category=category(declaration, key),
                purposes=served,
                sold_or_shared=any(declaration.purposes[p].sale_or_sharing for p in served),
                retention=[
                    PurposeRetentionOut(
                        purpose=p, text=retention_text(declaration.purposes[p].retention)
                    )
                    for p in served
                ],
            )
        )
    return rows


def subjects_of_purpose(declaration: Declaration, purpose: str) -> list[str]:
    """Whose data a purpose processes: the subjects of the collection points that feed it.

    A collection point feeds a purpose when one of its fields names the purpose or collects a
    category the purpose uses.

    Args:
        declaration: the declaration.
        purpose: the purpose's key.

    Returns:
        Subject keys (e.g. ``users``), in declaration order, without repeats.
    """
    taxonomy = declaration.taxonomy
    used = declaration.purposes[purpose].categories
    found: dict[str, None] = {}
    for point in declaration.collection.values():
        feeds = any(
            purpose in field.purposes or any(taxonomy.covers(u, field.category) for u in used)
            for field in point.fields.values()
        )
        if feeds:
            found.update(dict.fromkeys(point.subjects))
    return list(found)
