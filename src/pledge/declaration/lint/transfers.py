"""Lint rules T2xx: recipients and international transfers."""

from __future__ import annotations

from collections.abc import Iterator

from pledge.declaration.findings import Severity
from pledge.declaration.lint.registry import Issue, rule
from pledge.declaration.model import Declaration, RecipientRole, Safeguard
from pledge.declaration.taxonomy import adequate_countries, eea_countries, is_transfer

# --- T: recipients and transfers ---------------------------------------------------------------


@rule("T201", "transfer-without-safeguard")
def _transfer_without_safeguard(d: Declaration) -> Iterator[Issue]:
    """A recipient outside the controller's country has a transfer safeguard.

    GDPR Art. 44-49 allow a transfer only on an adequacy decision or appropriate safeguards
    (standard contractual clauses, binding corporate rules…), which the notice must name
    (Art. 13(1)(f)). Moving data within the EEA is not a transfer.
    """
    for key in d.transfers():
        recipient = d.recipients[key]
        if recipient.safeguard is None:
            yield (
                ("recipients", key),
                f"recipient '{key}' is in {recipient.country}, outside {d.controller.country},"
                " but no transfer safeguard is declared",
            )


@rule("T202", "adequacy-without-decision")
def _adequacy_without_decision(d: Declaration) -> Iterator[Issue]:
    """An adequacy safeguard is only claimed for a country with an adequacy decision.

    For a controller in the EEA, Art. 45 adequacy exists only for the countries the European
    Commission has recognised; elsewhere standard contractual clauses or another Art. 46
    safeguard is needed.
    """
    if d.controller.country not in eea_countries():
        return
    for key, recipient in d.recipients.items():
        if (
            recipient.safeguard is Safeguard.ADEQUACY
            and recipient.country is not None
            and recipient.country not in adequate_countries()
            and recipient.country not in eea_countries()
        ):
            yield (
                ("recipients", key, "safeguard"),
                f"{recipient.country} has no EU adequacy decision; use another safeguard",
            )


@rule("T203", "recipient-country-unknown", Severity.WARNING)
def _recipient_country_unknown(d: Declaration) -> Iterator[Issue]:
    """Every recipient states where it processes data.

    Without a country nobody can tell whether disclosing to it is an international transfer
    (GDPR Art. 13(1)(f)).
    """
    for key, recipient in d.recipients.items():
        if recipient.country is None and recipient.role is not RecipientRole.AUTHORITY:
            yield ("recipients", key), f"recipient '{key}' has no country"


@rule("T204", "storage-abroad-unsafeguarded", Severity.WARNING)
def _storage_abroad(d: Declaration) -> Iterator[Issue]:
    """Data stored in another country is hosted by a declared recipient with a safeguard.

    Storing data in a data centre abroad transfers it to the hosting provider (GDPR Chapter
    V); name the provider as a recipient and declare its safeguard.
    """
    for index, location in enumerate(d.storage):
        if not is_transfer(d.controller.country, location.country):
            continue
        host = d.recipients.get(location.recipient) if location.recipient else None
        if host is None or host.safeguard is None:
            yield (
                ("storage", index),
                f"data is stored in {location.country}, outside {d.controller.country},"
                " without a declared recipient that has a transfer safeguard",
            )


@rule("T205", "recipient-without-purpose", Severity.WARNING)
def _recipient_without_purpose(d: Declaration) -> Iterator[Issue]:
    """Every recipient receives data for declared purposes.

    Disclosure is processing too: it needs a purpose, and only declared purposes are allowed
    at run time.
    """
    for key, recipient in d.recipients.items():
        if not recipient.purposes:
            yield ("recipients", key), f"recipient '{key}' names no purpose"
