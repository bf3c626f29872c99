"""Shared fixtures of every test layer: a clean, complete declaration and ways to change it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.backends import BACKENDS, empty_postgres, postgres_database, sqlite_database

from pledge.store.database import Database

CLEAN_DECLARATION = """\
pledge: 1

controller:
  name: Acme Cloud
  legal_name: Acme Cloud GmbH
  country: DE
  address: Hauptstraße 1, 10115 Berlin
  email: privacy@acme.example
  phone: "+49 30 1234567"
  website: https://acme.example
  dpo:
    name: Dana Schmidt
    email: dpo@acme.example
  supervisory_authority:
    name: Berliner Beauftragte für Datenschutz und Informationsfreiheit
    country: DE
    url: https://www.datenschutz-berlin.de

policy:
  version: "2.1"
  effective_date: 2025-03-01
  published_date: 2025-01-15
  url: https://acme.example/privacy
  languages: [en, de]
  notice_period: P30D
  change_notice: [email, notice]

categories:
  account.team:
    label: Team membership
    description: The teams a person belongs to.

purposes:
  provide_service:
    legal_basis: contract
    categories: [contact.email, identity.name, account.team]
    retention: P30D after account_closed
  fraud_prevention:
    legal_basis: legitimate_interests
    legitimate_interest: Keeping accounts safe from takeover and abuse.
    interest_assessment: LIA-2025-01
    categories: [device.ip_address]
    retention: P90D
    automated_decision:
      logic: Sign-ins from unusual places are blocked until confirmed.
      significance: A blocked sign-in delays access to the account.
      safeguards: [human review, contest by e-mail]
  newsletter:
    legal_basis: consent
    categories: [contact.email]
    retention: P1Y after consent_withdrawn
  analytics:
    legal_basis: consent
    categories: [usage.pages]
    retention:
      period: P13M
      reason: Year-on-year comparison.

collection:
  signup_form:
    source: direct
    subjects: [users]
    requirement: contract_entry
    consequence: Without an e-mail address we cannot open an account.
    fields:
      email:
        category: contact.email
        required: true
        purposes: [provide_service]
      newsletter_opt_in:
        category: contact.email
        purposes: [newsletter]
  social_login:
    source: third_party
    origin: Google Sign-In
    fields:
      display_name:
        category: identity.name
        purposes: [provide_service]
  server_logs:
    source: automatic
    fields:
      ip_address:
        category: device.ip_address
        purposes: [fraud_prevention]
  page_views:
    source: observed
    fields:
      pages:
        category: usage.pages
        purposes: [analytics]

recipients:
  mailer:
    name: Mailer Inc.
    role: processor
    country: US
    safeguard: standard_contractual_clauses
    purposes: [newsletter]
  hosting:
    name: Hetzner Online GmbH
    role: processor
    country: DE
    purposes: [provide_service, fraud_prevention]

disclosures:
  legal_obligation:
    description: To authorities, when the law requires it.

cookies:
  session_id:
    provider: Acme Cloud
    category: strictly_necessary
    purpose: provide_service
    duration: session
  _pk_id:
    provider: Acme Cloud
    category: analytics
    purpose: analytics
    duration: P13M

rights:
  offered:
    - access
    - rectification
    - erasure
    - restriction
    - portability
    - objection
    - withdraw_consent
    - complaint
  channels:
    email: privacy@acme.example
    url: https://acme.example/privacy/requests
  response_time: P1M

children:
  minimum_age: 16

storage:
  - country: DE
    region: Falkenstein
    recipient: hosting

security:
  measures:
    encryption_at_rest:
    access_control: Role-based access, reviewed quarterly.
  breach:
    channels: [email]
    notify_authority: true
"""
"""A declaration that uses every section and gives no lint rule anything to report."""


def revise(text: str, *edits: tuple[str, str]) -> str:
    """``text`` with each ``(old, new)`` edit applied; each ``old`` must occur exactly once.

    Insisting on one occurrence keeps the edits of a test unambiguous when the text grows.
    """
    for old, new in edits:
        count = text.count(old)
        if count != 1:
            raise AssertionError(f"{old!r} occurs {count} times in the declaration, not once")
        text = text.replace(old, new)
    return text


@pytest.fixture
def clean_yaml() -> str:
    """The YAML text of the clean, complete declaration."""
    return CLEAN_DECLARATION


@pytest.fixture
def revised() -> Callable[..., str]:
    """A function that returns the clean declaration with ``(old, new)`` edits applied."""

    def apply(*edits: tuple[str, str]) -> str:
        return revise(CLEAN_DECLARATION, *edits)

    return apply


# --- real databases (see tests/backends.py) -------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of this session's own PostgreSQL database (skips, or fails under CI, without one)."""
    yield from postgres_database()


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """Pledge's store, empty and migrated, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        database = sqlite_database(tmp_path)
    else:
        database = empty_postgres(request.getfixturevalue("postgres_url"))
    try:
        yield database
    finally:
        database.dispose()
