"""The record of processing activities (GDPR Art. 30(1)), one entry per purpose.

The record is for a supervisory authority, so it is terse: each cell holds what the
declaration says, and stays empty where it says nothing.
"""

from __future__ import annotations

import csv
import io

from pledge.declaration.duration import RetentionEvent
from pledge.declaration.model import Declaration, LegalBasis, Person, Retention
from pledge.render import facts
from pledge.render.document import DefinitionList, Document, Section, paragraph, text
from pledge.render.markdown import render_markdown
from pledge.render.wording import (
    LEGAL_BASIS_LABELS,
    ROLE_LABELS,
    SAFEGUARDS,
    category_label,
    country_name,
    humanise,
    slug,
)

COLUMNS: tuple[str, ...] = (
    "Controller",
    "Controller contact",
    "Data protection officer",
    "Representative",
    "Purpose",
    "Description",
    "Legal basis",
    "Categories of data subjects",
    "Categories of personal data",
    "Recipients",
    "Transfers to third countries and safeguards",
    "Erasure time limit",
    "Security measures",
)
"""The CSV header, one column per item of Art. 30(1)(a)-(g)."""


def _contact(person: Person | None) -> str:
    if person is None:
        return ""
    return ", ".join(filter(None, (person.name, person.email, person.phone, person.address)))


def _erasure(rule: Retention | None) -> str:
    """A retention in the neutral terms of a record: "30 days after account closed"."""
    if rule is None:
        return ""
    event = humanise(rule.after.value).lower()
    if rule.period.days == 0:
        limit = "not kept" if rule.after is RetentionEvent.COLLECTION else f"until {event}"
    else:
        limit = f"{rule.period.describe()} after {event}"
    return f"{limit} ({rule.reason})" if rule.reason else limit


def _controller_cells(declaration: Declaration) -> dict[str, str]:
    controller = declaration.controller
    legal = f" ({controller.legal_name})" if controller.legal_name else ""
    contact = (controller.address, controller.email, controller.phone, controller.website)
    return {
        "Controller": controller.name + legal,
        "Controller contact": ", ".join(filter(None, contact)),
        "Data protection officer": _contact(controller.dpo),
        "Representative": _contact(controller.eu_representative),
    }


def _rows(declaration: Declaration) -> list[dict[str, str]]:
    security = declaration.security
    measures = (
        "; ".join(description or humanise(key) for key, description in security.measures.items())
        if security
        else ""
    )
    transfers = set(declaration.transfers())
    rows = []
    for key, purpose in declaration.purposes.items():
        basis = LEGAL_BASIS_LABELS[purpose.legal_basis] if purpose.legal_basis else ""
        if purpose.legal_basis is LegalBasis.LEGITIMATE_INTERESTS and purpose.legitimate_interest:
            basis += f": {purpose.legitimate_interest}"
        receiving = [k for k, r in declaration.recipients.items() if key in r.purposes]
        recipients = []
        for recipient_key in receiving:
            recipient = declaration.recipients[recipient_key]
            where = f", {country_name(recipient.country)}" if recipient.country else ""
            third = ", third country" if recipient_key in transfers else ""
            recipients.append(f"{recipient.name} ({ROLE_LABELS[recipient.role]}{where}{third})")
        moved = []
        for recipient_key in receiving:
            if recipient_key not in transfers:
                continue
            recipient = declaration.recipients[recipient_key]
            assert recipient.country is not None  # transfers() only lists recipients with one
            safeguard = SAFEGUARDS[recipient.safeguard] if recipient.safeguard else ""
            details = f" ({recipient.safeguard_details})" if recipient.safeguard_details else ""
            moved.append(
                f"{recipient.name}, {country_name(recipient.country)}: {safeguard}{details}".rstrip(
                    ": "
                )
            )
        rows.append(
            {
                **_controller_cells(declaration),
                "Purpose": purpose.label,
                "Description": purpose.description,
                "Legal basis": basis,
                "Categories of data subjects": "; ".join(
                    humanise(s) for s in facts.subjects_of_purpose(declaration, key)
                ),
                "Categories of personal data": "; ".join(
                    category_label(declaration, c) for c in purpose.categories
                ),
                "Recipients": "; ".join(recipients),
                "Transfers to third countries and safeguards": "; ".join(moved),
                "Erasure time limit": _erasure(purpose.retention),
                "Security measures": measures,
            }
        )
    return rows


def ropa_csv(declaration: Declaration) -> str:
    """The record of processing as CSV (RFC 4180): a header, then one row per purpose.

    Args:
        declaration: the declaration.

    Returns:
        The CSV text.
    """
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(_rows(declaration))
    return buffer.getvalue()


def ropa_markdown(declaration: Declaration) -> str:
    """The record of processing as Markdown: the controller, then one section per purpose.

    Args:
        declaration: the declaration.

    Returns:
        The Markdown text.
    """
    cells = _controller_cells(declaration)
    controller = Section(
        "controller",
        "Controller",
        (DefinitionList(tuple((column, text(value)) for column, value in cells.items())),),
    )
    sections = [controller]
    for key, row in zip(declaration.purposes, _rows(declaration), strict=True):
        sections.append(
            Section(
                f"purpose-{slug(key)}",
                row["Purpose"],
                (DefinitionList(tuple((column, text(row[column])) for column in COLUMNS[5:])),),
            )
        )
    document = Document(
        title="Record of processing activities",
        language=declaration.policy.languages[0],
        meta=(
            ("Controller", declaration.controller.name),
            ("Policy version", declaration.policy.version),
        ),
        lead=(paragraph("Kept under GDPR Art. 30(1). One entry per purpose of processing."),),
        sections=tuple(sections),
    )
    return render_markdown(document)
