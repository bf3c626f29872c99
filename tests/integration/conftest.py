"""Fixtures of the integration tests: a real SQLite store, a small declaration, the ledger.

The consent fixtures (``database``, ``declaration``, ``subjects``, ``ledger``) build on each
other and on nothing else, so other rooms may add their own fixtures here freely.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pledge import Declaration, loads
from pledge.consent.service import ConsentLedger
from pledge.store.database import Database
from pledge.subjects.crypto import Keyring
from pledge.subjects.service import Subjects

CONSENT_DECLARATION = """\
pledge: 1
controller:
  name: Acme Cloud
  legal_name: Acme Cloud GmbH
  country: DE
  address: Hauptstraße 1, 10115 Berlin
  email: privacy@acme.example
  phone: "+49 30 1234567"
  dpo:
    name: Dana Schmidt
    email: dpo@acme.example
policy:
  version: "3.0"
  effective_date: 2026-01-01
  url: https://acme.example/privacy
  languages: [en, de]
categories:
  special.health.fitness:
    label: Fitness data
    description: Steps and heart rate.
purposes:
  provide_service:
    legal_basis: contract
    categories: [contact.email]
    retention: P30D after account_closed
  fraud_prevention:
    legal_basis: legitimate_interests
    legitimate_interest: Keeping accounts safe.
    interest_assessment: LIA-1
    categories: [device.ip_address]
    retention: P90D
  newsletter:
    label: Newsletter
    description: Monthly news about our products.
    legal_basis: consent
    categories: [contact.email]
    retention: P1Y after consent_withdrawn
  analytics:
    legal_basis: consent
    categories: [usage.pages]
    retention: P13M
  fitness_insights:
    legal_basis: consent
    categories: [special.health.fitness]
    retention: P1Y
  personalised_ads:
    label: Personalised advertising
    description: Ads chosen from what you do on our site.
    legal_basis: consent
    targeted_advertising: true
    categories: [usage.pages]
    retention: P6M
  partner_sharing:
    label: Sharing with partners
    legal_basis: consent
    sale_or_sharing: true
    categories: [contact.email]
    retention: P1Y
recipients:
  adnet:
    name: AdNet Ltd.
    role: third_party
    country: DE
    purposes: [personalised_ads]
  mailer:
    name: Mailer GmbH
    role: processor
    country: DE
    purposes: [newsletter]
"""
"""A declaration with consent, contract and legitimate-interests purposes, one for targeted
advertising and one that shares data with partners."""


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite store in a fresh file."""
    store = Database(f"sqlite:///{tmp_path}/p.db")
    store.upgrade()
    try:
        yield store
    finally:
        store.dispose()


@pytest.fixture
def declaration() -> Declaration:
    """The consent test declaration (:data:`CONSENT_DECLARATION`)."""
    return loads(CONSENT_DECLARATION)


@pytest.fixture
def subjects(database: Database) -> Subjects:
    """The subjects service on ``database``, under a random master key."""
    return Subjects(database, Keyring(os.urandom(32)))


@pytest.fixture
def ledger(database: Database, declaration: Declaration, subjects: Subjects) -> ConsentLedger:
    """The consent ledger, GPC honoured everywhere."""
    return ConsentLedger(database, declaration, subjects)
