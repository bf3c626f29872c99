"""Consent receipts in the fields of the Kantara Initiative Consent Receipt Specification v1.1.

Plain Python: the ledger gathers what the subject decided and this builds the receipt.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from pledge.consent.model import Channel, retention_phrase
from pledge.declaration.model import Declaration, RecipientRole

RECEIPT_VERSION = "KI-CR-v1.1.0"
"""Kantara Initiative Consent Receipt Specification, version 1.1."""

COLLECTION_METHODS = {
    Channel.FORM: "web form",
    Channel.BANNER: "cookie banner",
    Channel.API: "application programming interface",
    Channel.GPC: "Global Privacy Control signal",
    Channel.IMPORT: "imported from an earlier record",
}
"""How each channel reads as a receipt's ``collectionMethod``."""


def build_receipt(
    declaration: Declaration,
    subject_id: str,
    granted: Sequence[str],
    *,
    head: tuple[int, str],
    consented_at: dt.datetime,
    channel: Channel,
) -> dict[str, Any]:
    """A consent receipt for the purposes a subject currently consents to.

    Args:
        declaration: the declaration in force (controller, policy, purposes, recipients).
        subject_id: the subject, by pseudonymous id only.
        granted: the purposes consent is given for.
        head: ``(seq, hash)`` of the subject's chain head; the receipt id derives from it,
            so the same state always gives the same id.
        consented_at: when the latest of those grants was given.
        channel: where it was given.

    Returns:
        The receipt as JSON-ready data.
    """
    controller = declaration.controller
    contact = controller.dpo.name if controller.dpo and controller.dpo.name else controller.name
    purposes = [_purpose(declaration, key) for key in granted]
    sensitive = sorted(
        {
            declaration.taxonomy.label(category)
            for key in granted
            if key in declaration.purposes
            for category in declaration.purposes[key].categories
            if declaration.taxonomy.is_sensitive(category)
        }
    )
    seq, head_hash = head
    return {
        "version": RECEIPT_VERSION,
        "jurisdiction": controller.country,
        "consentTimestamp": int(consented_at.timestamp()),
        "collectionMethod": COLLECTION_METHODS[channel],
        "consentReceiptID": str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"pledge:{subject_id}:{seq}:{head_hash}")
        ),
        "language": declaration.policy.languages[0] if declaration.policy.languages else "en",
        "piiPrincipalId": subject_id,
        "piiControllers": [
            {
                "piiController": controller.legal_name or controller.name,
                "contact": contact,
                "address": controller.address or "",
                "email": str(controller.email or ""),
                "phone": controller.phone or "",
            }
        ],
        "policyUrl": str(declaration.policy.url or controller.website or ""),
        "services": [{"service": controller.name, "purposes": purposes}] if purposes else [],
        "sensitive": bool(sensitive),
        "spiCat": sensitive,
    }


def _purpose(declaration: Declaration, key: str) -> dict[str, Any]:
    purpose = declaration.purposes.get(key)
    if purpose is None:  # consent given under an earlier declaration that no longer has it
        return {
            "purpose": key,
            "purposeCategory": [key],
            "consentType": "EXPLICIT",
            "piiCategory": [],
            "primaryPurpose": False,
            "termination": "You can withdraw your consent at any time.",
            "thirdPartyDisclosure": False,
            "thirdPartyName": "",
        }
    third_parties = [
        recipient.name
        for recipient in declaration.recipients.values()
        if key in recipient.purposes and recipient.role is not RecipientRole.PROCESSOR
    ]
    return {
        "purpose": purpose.label or key,
        "purposeCategory": [key],
        "consentType": "EXPLICIT",
        "piiCategory": [declaration.taxonomy.label(category) for category in purpose.categories],
        "primaryPurpose": False,  # a purpose resting on consent is never needed for the service
        "termination": (
            "You can withdraw your consent at any time, as easily as you gave it; the data is"
            f" then kept {retention_phrase(purpose.retention)}."
            + (
                f" Your consent lasts {purpose.consent_max_age.describe()}; we then ask again."
                if purpose.consent_max_age is not None
                else ""
            )
        ),
        "thirdPartyDisclosure": bool(third_parties),
        "thirdPartyName": ", ".join(third_parties),
    }
