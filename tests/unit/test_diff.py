"""Comparing two declarations: which changes people must be told about before they apply."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from pledge import Declaration, loads
from pledge.declaration import load_data, model
from pledge.declaration.diff import KINDS, Change, diff, is_material
from pledge.declaration.duration import Duration

BASE_YAML = """
pledge: 1
controller:
  name: Acme
  legal_name: Acme GmbH
  country: DE
  address: Hauptstraße 1, 10115 Berlin
  email: privacy@acme.example
  phone: "+49 30 1234567"
  hours: Monday to Friday, 9:00-17:00
  website: https://acme.example
  public_authority: false
  dpo: {name: Dana Schmidt, email: dpo@acme.example, phone: "+49 30 7654321", address: Berlin}
  eu_representative: {name: Acme Rep, email: rep@acme.example, phone: "+33 1 2345", address: Paris}
  supervisory_authority: {name: Berlin DPA, country: DE, url: https://www.datenschutz-berlin.de}
policy:
  version: "1.0"
  effective_date: 2025-02-01
  published_date: 2025-01-01
  title: Privacy policy
  url: https://acme.example/privacy
  languages: [en, de]
  notice_period: P30D
  change_notice: [email, notice]
categories:
  usage.heatmap:
    label: Heatmap
    description: Where people click.
    personal: true
    sensitive: false
purposes:
  provide_service:
    legal_basis: contract
    categories: [contact.email, account.id]
    retention: P30D after account_closed
  analytics:
    label: Analytics
    description: Count visits.
    legal_basis: consent
    categories: [device.ip_address, usage.heatmap]
    retention: {period: P6M, reason: Long enough to compare seasons.}
  fraud_prevention:
    legal_basis: legitimate_interests
    legitimate_interest: Keeping stolen cards out.
    interest_assessment: LIA-2025-01
    categories: [device.ip_address, contact.email]
    retention: P1Y
    special_category_condition: legal_claims
    criminal_data_authorisation: § 26 BDSG
    ccpa_sensitive_use: malicious_actions
    automated_decision:
      logic: A score from the payment pattern.
      significance: A blocked order.
      safeguards: [human review]
  newsletter:
    legal_basis: consent
    categories: [contact.email]
    retention: P2Y after consent_withdrawn
    consent_max_age: P1Y
    direct_marketing: true
    sale_or_sharing: false
    targeted_advertising: false
collection:
  signup:
    label: Sign-up form
    description: Creating an account.
    source: direct
    origin: the person
    subjects: [users]
    requirement: contract_entry
    consequence: No account.
    fields:
      email: {category: contact.email, required: true, purposes: [provide_service], label: E-mail}
      account: {category: account.id, purposes: [provide_service]}
  telemetry:
    source: automatic
    fields:
      ip: {category: device.ip_address, purposes: [analytics, fraud_prevention]}
      clicks: {category: usage.heatmap, purposes: [analytics]}
recipients:
  hosting:
    name: Hetzner
    role: processor
    country: DE
    purposes: [provide_service]
    categories: [contact.email]
  analytics_vendor:
    name: Plausible
    role: processor
    country: US
    purposes: [analytics]
    safeguard: standard_contractual_clauses
    safeguard_details: Annex to the processing agreement.
    obligations: Processes data only on our instructions.
    privacy_policy: https://plausible.example/privacy
    webhook: {url: https://plausible.example/pledge, secret: "${PLAUSIBLE_HOOK_SECRET}"}
disclosures:
  legal_obligation: {description: When the law requires it., notice: true}
cookies:
  session: {provider: Acme, category: strictly_necessary, duration: session, description: Login.}
  _pk_id:
    provider: Plausible
    category: analytics
    purpose: analytics
    duration: P13M
    third_party: true
    description: Tells visits apart.
rights:
  offered: [access, rectification, erasure, complaint]
  channels:
    email: privacy@acme.example
    url: https://acme.example/privacy-center
    phone: "+49 30 1234567"
    postal: Hauptstraße 1, 10115 Berlin
    in_app: Settings > Privacy
  response_time: P1M
children:
  minimum_age: 16
  restricted_to_adults: true
  consent_ages: {DE: 16}
  parental_consent: true
  on_discovery: We delete it.
storage:
  - {country: DE, region: Falkenstein, provider: Hetzner, recipient: hosting}
security:
  measures: {encryption: AES-256 at rest, access_control: null}
  breach: {channels: [email], notify_authority: true, description: We tell you within 72 hours.}
datastores:
  app:
    url: postgresql+psycopg://app:${DB_PASSWORD}@db.acme.example/app
    tables:
      users:
        columns:
          email: {category: contact.email, identity: email, correctable: true, provided: true}
          phone: {category: contact.phone}
          name: {category: identity.name}
          card: {category: financial.payment_card}
        erasure:
          strategy: rewrite
          rewrite:
            email: {pseudonym: hmac}
            phone: {mask: {keep_last: 2}}
            name: {fixed: erased}
            card: null
      invoices:
        columns:
          billing_name: {category: identity.name}
        erasure: {strategy: delete}
        legal_hold: {retain: P10Y, reason: Tax law., after: transaction}
        relations:
          - {column: customer_email, references: users.email}
"""

BASE = loads(BASE_YAML)
Data = dict[str, Any]
Edit = Callable[[Data], object]


def variant(edit: Edit) -> Declaration:
    """The base declaration with ``edit`` applied to its YAML data."""
    data = yaml.safe_load(BASE_YAML)
    edit(data)
    return load_data(data)


@dataclass(frozen=True)
class Case:
    """An edit of the base declaration, the kind of change it makes, and words of its summary."""

    edit: Edit
    kind: str
    words: str
    reverse: bool = False  # from the edited declaration to the base: the fixture is complete

    def changes(self) -> list[Change]:
        edited = variant(self.edit)
        return diff(edited, BASE) if self.reverse else diff(BASE, edited)

    def change(self) -> Change:
        changes = self.changes()
        found = [change for change in changes if change.kind == self.kind]
        assert len(found) == 1, f"expected one {self.kind}, got {[c.kind for c in changes]}"
        return found[0]


def purposes(data: Data) -> Any:
    return data["purposes"]


def fields(data: Data) -> Any:
    return data["collection"]["signup"]["fields"]


def recipient(data: Data, key: str = "hosting") -> Any:
    return data["recipients"][key]


def cookie(data: Data) -> Any:
    return data["cookies"]["_pk_id"]


MATERIAL = {
    "a new purpose": Case(
        lambda d: purposes(d).update(
            ads={"label": "Targeted advertising", "legal_basis": "consent"}
        ),
        "purpose_added",
        "New purpose: Targeted advertising (consent).",
    ),
    "a purpose using a new category": Case(
        lambda d: purposes(d)["analytics"]["categories"].append("location.approximate"),
        "purpose_category_added",
        "Analytics now also uses: ",
    ),
    "a longer retention": Case(
        lambda d: purposes(d)["analytics"]["retention"].update(period="P2Y"),
        "retention_longer",
        "Analytics data is now kept for 2 years instead of 6 months.",
    ),
    "a retention counted from another event": Case(
        lambda d: purposes(d)["fraud_prevention"].update(retention="P1Y after last_activity"),
        "retention_anchor_changed",
        "now kept for 1 year after your last activity instead of 1 year after it is collected.",
    ),
    "a retention no longer stated": Case(
        lambda d: purposes(d)["fraud_prevention"].pop("retention"),
        "retention_removed",
        "Fraud prevention: how long data is kept is no longer stated.",
    ),
    "a changed legal basis": Case(
        lambda d: purposes(d)["analytics"].update(legal_basis="legitimate_interests"),
        "legal_basis_changed",
        "Analytics now relies on our legitimate interests instead of your consent.",
    ),
    "selling or sharing switched on": Case(
        lambda d: purposes(d)["newsletter"].update(sale_or_sharing=True),
        "sale_or_sharing_enabled",
        "Newsletter: personal information is now sold or shared.",
    ),
    "targeted advertising switched on": Case(
        lambda d: purposes(d)["newsletter"].update(targeted_advertising=True),
        "targeted_advertising_enabled",
        "Newsletter now includes targeted advertising.",
    ),
    "direct marketing switched on": Case(
        lambda d: purposes(d)["analytics"].update(direct_marketing=True),
        "direct_marketing_enabled",
        "Analytics now includes direct marketing.",
    ),
    "an automated decision added": Case(
        lambda d: purposes(d)["analytics"].update(
            automated_decision={"logic": "A score.", "significance": "A refusal."}
        ),
        "automated_decision_added",
        "Analytics now involves automated decisions about you.",
    ),
    "an automated decision changed": Case(
        lambda d: purposes(d)["fraud_prevention"]["automated_decision"].update(safeguards=[]),
        "automated_decision_changed",
        "The automated decisions in Fraud prevention have changed.",
    ),
    "a new collection point": Case(
        lambda d: d["collection"].update(
            support={"source": "direct", "fields": {"phone": {"category": "contact.phone"}}}
        ),
        "collection_point_added",
        "New collection point: Support, collecting Phone number.",
    ),
    "a new kind of data collected": Case(
        lambda d: fields(d).update(phone={"category": "contact.phone"}),
        "category_added",
        "New kind of data collected: Phone number in Sign-up form.",
    ),
    "a new field for data collected elsewhere": Case(
        lambda d: fields(d).update(ip={"category": "device.ip_address"}),
        "field_added",
        "Newly collected: IP address in Sign-up form.",
    ),
    "a field collecting another category": Case(
        lambda d: fields(d)["email"].update(category="contact.phone"),
        "field_category_changed",
        "E-mail in Sign-up form now collects Phone number instead of Email address.",
    ),
    "an optional field made required": Case(
        lambda d: fields(d)["account"].update(required=True),
        "field_now_required",
        "Account identifier in Sign-up form must now be provided.",
    ),
    "a field used for a new purpose": Case(
        lambda d: fields(d)["email"]["purposes"].append("newsletter"),
        "field_purpose_added",
        "E-mail in Sign-up form is now also used for: Newsletter.",
    ),
    "data from another source": Case(
        lambda d: d["collection"]["signup"].update(source="third_party"),
        "source_changed",
        "How Sign-up form obtains data is now “third party” (was “direct”).",
    ),
    "data from another origin": Case(
        lambda d: d["collection"]["signup"].update(origin="a partner"),
        "origin_changed",
        "Where Sign-up form obtains data from is now “a partner” (was “the person”).",
    ),
    "data about a new group of people": Case(
        lambda d: d["collection"]["signup"]["subjects"].append("visitors"),
        "subjects_added",
        "Sign-up form now also collects data about: visitors.",
    ),
    "a new recipient": Case(
        lambda d: d["recipients"].update(mailer={"name": "Mailjet", "role": "processor"}),
        "recipient_added",
        "New recipient: Mailjet (processor).",
    ),
    "a new recipient abroad": Case(
        lambda d: d["recipients"].update(
            mailer={"name": "Mailchimp", "role": "processor", "country": "US"}
        ),
        "transfer_added",
        "New international transfer: Mailchimp receives data in US.",
    ),
    "a recipient receiving a new category": Case(
        lambda d: recipient(d)["categories"].append("account.id"),
        "recipient_category_added",
        "Hetzner now receives: Account identifier.",
    ),
    "a recipient receiving what a purpose newly uses": Case(
        lambda d: purposes(d)["analytics"]["categories"].append("location.approximate"),
        "recipient_category_added",
        "Plausible now receives: ",
    ),
    "a recipient receiving data for a new purpose": Case(
        lambda d: recipient(d)["purposes"].append("analytics"),
        "recipient_purpose_added",
        "Hetzner now receives data for: Analytics.",
    ),
    "a recipient of another kind": Case(
        lambda d: recipient(d).update(role="third_party"),
        "recipient_role_changed",
        "Hetzner is now a third party (was a processor).",
    ),
    "a recipient that is someone else": Case(
        lambda d: recipient(d).update(name="OVH"),
        "recipient_name_changed",
        "Data disclosed to “Hetzner” now goes to “OVH”.",
    ),
    "a recipient moving abroad": Case(
        lambda d: recipient(d).update(country="IN"),
        "transfer_added",
        "New international transfer: Hetzner receives data in IN.",
    ),
    "a new storage location abroad": Case(
        lambda d: d["storage"].append({"country": "US", "provider": "AWS"}),
        "transfer_added",
        "New international transfer: data is now stored in US with AWS.",
    ),
    "a removed safeguard": Case(
        lambda d: recipient(d, "analytics_vendor").pop("safeguard"),
        "safeguard_removed",
        "Transfers to Plausible no longer rely on standard contractual clauses.",
    ),
    "a weaker safeguard": Case(
        lambda d: recipient(d, "analytics_vendor").update(safeguard="explicit_consent"),
        "safeguard_changed",
        "Transfers to Plausible now rely on explicit consent instead of standard contractual",
    ),
    "a new disclosure ground": Case(
        lambda d: d["disclosures"].update(court_order={"notice": False}),
        "disclosure_added",
        "New ground on which data may be disclosed: court order.",
    ),
    "disclosures no longer announced": Case(
        lambda d: d["disclosures"]["legal_obligation"].update(notice=False),
        "disclosure_notice_removed",
        "People are no longer told of disclosures for legal obligation.",
    ),
    "a new advertising cookie": Case(
        lambda d: d["cookies"].update(_ga={"provider": "Google", "category": "advertising"}),
        "cookie_added",
        "New advertising cookie: _ga (Google).",
    ),
    "a longer cookie duration": Case(
        lambda d: cookie(d).update(duration="P2Y"),
        "cookie_duration_longer",
        "The _pk_id cookie now lasts 2 years instead of 13 months.",
    ),
    "a cookie in another category": Case(
        lambda d: cookie(d).update(category="advertising"),
        "cookie_category_changed",
        "The _pk_id cookie is now in the advertising category (was analytics).",
    ),
    "a cookie from another provider": Case(
        lambda d: cookie(d).update(provider="Google"),
        "cookie_provider_changed",
        "The _pk_id cookie is now set by Google (was Plausible).",
    ),
    "a cookie serving another purpose": Case(
        lambda d: cookie(d).update(purpose="newsletter"),
        "cookie_purpose_changed",
        "The _pk_id cookie now serves Newsletter (was Analytics).",
    ),
    "a cookie now set by a third party": Case(
        lambda d: cookie(d).update(third_party=False),
        "cookie_now_third_party",
        "The _pk_id cookie is now set by a third party.",
        reverse=True,
    ),
    "a right removed": Case(
        lambda d: d["rights"]["offered"].remove("erasure"),
        "right_removed",
        "Right no longer offered: erasure.",
    ),
    "a channel removed": Case(
        lambda d: d["rights"]["channels"].pop("postal"),
        "channel_removed",
        "Requests can no longer be made by post.",
    ),
    "a lower minimum age": Case(
        lambda d: d["children"].update(minimum_age=13),
        "minimum_age_lowered",
        "The minimum age to use the service is now “13” (was “16”).",
    ),
    "a service no longer for adults only": Case(
        lambda d: d["children"].update(restricted_to_adults=False),
        "adults_only_removed",
        "The service is no longer restricted to adults.",
    ),
    "parental consent no longer asked": Case(
        lambda d: d["children"].update(parental_consent=False),
        "parental_consent_removed",
        "Parental consent is no longer asked for children.",
    ),
    "another company responsible": Case(
        lambda d: d["controller"].update(name="Beta"),
        "controller_changed",
        "The company responsible for your data is now “Beta” (was “Acme”).",
    ),
    "a company moving country": Case(
        lambda d: d["controller"].update(country="FR"),
        "controller_changed",
        "The company's country is now “FR” (was “DE”).",
    ),
    "a category reclassified as sensitive": Case(
        lambda d: d["categories"]["usage.heatmap"].update(sensitive=True),
        "category_now_sensitive",
        "Heatmap is now treated as sensitive data.",
    ),
}

EDITORIAL = {
    "a purpose renamed": Case(
        lambda d: purposes(d)["analytics"].update(label="Usage statistics"),
        "label_changed",
        "“Analytics” is now called “Usage statistics”.",
    ),
    "a description reworded": Case(
        lambda d: purposes(d)["analytics"].update(description="Count the visits to our pages."),
        "description_changed",
        "The description of Analytics is now “Count the visits to our pages.”",
    ),
    "a shorter retention": Case(
        lambda d: purposes(d)["analytics"]["retention"].update(period="P3M"),
        "retention_shorter",
        "Analytics data is now kept for 3 months instead of 6 months.",
    ),
    "the same retention written otherwise": Case(
        lambda d: purposes(d)["fraud_prevention"].update(retention="P12M"),
        "retention_reworded",
        "Fraud prevention data is now kept for 12 months instead of 1 year.",
    ),
    "a retention stated for the first time": Case(
        lambda d: purposes(d)["fraud_prevention"].pop("retention"),
        "retention_added",
        "Fraud prevention data is now kept for 1 year.",
        reverse=True,
    ),
    "another reason for the retention": Case(
        lambda d: purposes(d)["analytics"]["retention"].update(reason="Seasons."),
        "retention_reason_changed",
        "Analytics: the reason for keeping data that long is now “Seasons.”",
    ),
    "a purpose removed": Case(
        lambda d: purposes(d).pop("newsletter"),
        "purpose_removed",
        "Purpose no longer pursued: Newsletter.",
    ),
    "a purpose using fewer categories": Case(
        lambda d: purposes(d)["fraud_prevention"]["categories"].remove("contact.email"),
        "purpose_category_removed",
        "Fraud prevention no longer uses: Email address.",
    ),
    "selling or sharing switched off": Case(
        lambda d: purposes(d)["newsletter"].update(sale_or_sharing=True),
        "sale_or_sharing_disabled",
        "Newsletter: personal information is no longer sold or shared.",
        reverse=True,
    ),
    "targeted advertising switched off": Case(
        lambda d: purposes(d)["newsletter"].update(targeted_advertising=True),
        "targeted_advertising_disabled",
        "Newsletter no longer includes targeted advertising.",
        reverse=True,
    ),
    "direct marketing switched off": Case(
        lambda d: purposes(d)["newsletter"].update(direct_marketing=False),
        "direct_marketing_disabled",
        "Newsletter no longer includes direct marketing.",
    ),
    "an automated decision removed": Case(
        lambda d: purposes(d)["fraud_prevention"].pop("automated_decision"),
        "automated_decision_removed",
        "Fraud prevention no longer involves automated decisions.",
    ),
    "a collection point removed": Case(
        lambda d: d["collection"].pop("telemetry"),
        "collection_point_removed",
        "Data is no longer collected through Telemetry.",
    ),
    "a field removed": Case(
        lambda d: fields(d).pop("account"),
        "field_removed",
        "No longer collected: Account identifier in Sign-up form.",
    ),
    "a required field made optional": Case(
        lambda d: fields(d)["email"].update(required=False),
        "field_now_optional",
        "E-mail in Sign-up form is now optional.",
    ),
    "a field used for fewer purposes": Case(
        lambda d: d["collection"]["telemetry"]["fields"]["ip"]["purposes"].pop(),
        "field_purpose_removed",
        "IP address in Telemetry is no longer used for: Fraud prevention.",
    ),
    "data about fewer groups of people": Case(
        lambda d: d["collection"]["signup"]["subjects"].clear(),
        "subjects_removed",
        "Sign-up form no longer collects data about: users.",
    ),
    "a recipient removed": Case(
        lambda d: d["recipients"].pop("analytics_vendor"),
        "recipient_removed",
        "Data is no longer disclosed to Plausible.",
    ),
    "a recipient moving within the EEA": Case(
        lambda d: recipient(d).update(country="FI"),
        "recipient_country_changed",
        "Hetzner now processes data in FI (was DE).",
    ),
    "a recipient receiving fewer categories": Case(
        lambda d: recipient(d, "analytics_vendor").update(categories=["device.ip_address"]),
        "recipient_category_removed",
        "Plausible no longer receives: Heatmap.",
    ),
    "a recipient receiving data for fewer purposes": Case(
        lambda d: recipient(d)["purposes"].clear(),
        "recipient_purpose_removed",
        "Hetzner no longer receives data for: Provide the service.",
    ),
    "a safeguard added": Case(
        lambda d: recipient(d).update(safeguard="adequacy"),
        "safeguard_added",
        "Transfers to Hetzner are now covered by adequacy.",
    ),
    "a disclosure ground removed": Case(
        lambda d: d["disclosures"].clear(),
        "disclosure_removed",
        "Data is no longer disclosed on the ground of legal obligation.",
    ),
    "disclosures now announced": Case(
        lambda d: d["disclosures"]["legal_obligation"].update(notice=False),
        "disclosure_notice_added",
        "People are now told of disclosures for legal obligation.",
        reverse=True,
    ),
    "a cookie removed": Case(
        lambda d: d["cookies"].pop("_pk_id"),
        "cookie_removed",
        "The _pk_id cookie is no longer used.",
    ),
    "a shorter cookie duration": Case(
        lambda d: cookie(d).update(duration="P6M"),
        "cookie_duration_shorter",
        "The _pk_id cookie now lasts 6 months instead of 13 months.",
    ),
    "the same cookie duration written otherwise": Case(
        lambda d: cookie(d).update(duration="P1Y1M"),
        "cookie_duration_changed",
        "The _pk_id cookie now lasts 1 year and 1 month instead of 13 months.",
    ),
    "a new strictly necessary cookie": Case(
        lambda d: d["cookies"].update(csrf={"provider": "Acme", "category": "strictly_necessary"}),
        "cookie_added",
        "New strictly necessary cookie: csrf (Acme).",
    ),
    "a strictly necessary cookie lasting longer": Case(
        lambda d: d["cookies"]["session"].update(duration="P1D"),
        "cookie_duration_longer",
        "The session cookie now lasts 1 day instead of until the browser is closed.",
    ),
    "a cookie no longer set by a third party": Case(
        lambda d: cookie(d).update(third_party=False),
        "cookie_now_first_party",
        "The _pk_id cookie is no longer set by a third party.",
    ),
    "a right added": Case(
        lambda d: d["rights"]["offered"].append("portability"),
        "right_added",
        "New right offered: portability.",
    ),
    "a channel added": Case(
        lambda d: d["rights"]["channels"].pop("in_app"),
        "channel_added",
        "Requests can now also be made in the app: Settings > Privacy.",
        reverse=True,
    ),
    "a channel's address changed": Case(
        lambda d: d["rights"]["channels"].update(email="requests@acme.example"),
        "contact_changed",
        "The contact for requests by e-mail is now “requests@acme.example”",
    ),
    "the company's phone number changed": Case(
        lambda d: d["controller"].update(phone="+49 30 999"),
        "contact_changed",
        "The company's phone number is now “+49 30 999” (was “+49 30 1234567”).",
    ),
    "the company's hours changed": Case(
        lambda d: d["controller"].update(hours="Monday to Thursday"),
        "contact_changed",
        "The company's telephone availability is now “Monday to Thursday”",
    ),
    "the data protection officer's e-mail changed": Case(
        lambda d: d["controller"]["dpo"].update(email="dana@acme.example"),
        "contact_changed",
        "The data protection officer's e-mail is now “dana@acme.example”",
    ),
    "a new policy version": Case(
        lambda d: d["policy"].update(version="1.1"),
        "policy_version_changed",
        "The policy version is now “1.1” (was “1.0”).",
    ),
    "a new effective date": Case(
        lambda d: d["policy"].update(effective_date=dt.date(2025, 3, 1)),
        "policy_date_changed",
        "The date the policy takes effect is now “2025-03-01” (was “2025-02-01”).",
    ),
    "a higher minimum age": Case(
        lambda d: d["children"].update(minimum_age=18),
        "minimum_age_raised",
        "The minimum age to use the service is now “18” (was “16”).",
    ),
    "a service now for adults only": Case(
        lambda d: d["children"].update(restricted_to_adults=False),
        "adults_only",
        "The service is now for adults only.",
        reverse=True,
    ),
    "parental consent now asked": Case(
        lambda d: d["children"].update(parental_consent=False),
        "parental_consent_added",
        "Parental consent is now asked for children.",
        reverse=True,
    ),
    "a storage location removed": Case(
        lambda d: d["storage"].clear(),
        "storage_removed",
        "Data is no longer stored in DE.",
    ),
    "a new storage location within the EEA": Case(
        lambda d: d["storage"].append({"country": "AT"}),
        "storage_added",
        "Data is now also stored in AT.",
    ),
    "a new data category defined": Case(
        lambda d: d["categories"].update({"usage.scroll": {"label": "Scroll", "description": "."}}),
        "category_defined",
        "New data category defined: Scroll.",
    ),
    "a data category no longer defined": Case(
        lambda d: d["categories"].update({"usage.scroll": {"label": "Scroll", "description": "."}}),
        "category_undefined",
        "Data category no longer defined: Scroll.",
        reverse=True,
    ),
    "a category no longer sensitive": Case(
        lambda d: d["categories"]["usage.heatmap"].update(sensitive=True),
        "category_no_longer_sensitive",
        "Heatmap is no longer treated as sensitive data.",
        reverse=True,
    ),
    "an unclassified detail": Case(
        lambda d: purposes(d)["fraud_prevention"].update(interest_assessment="LIA-2025-02"),
        "detail_changed",
        "Fraud prevention: interest assessment is now “LIA-2025-02” (was “LIA-2025-01”).",
    ),
}


def test_identical_declarations_have_no_changes() -> None:
    """A declaration compared with itself, or with a fresh load of the same text, is unchanged."""
    assert diff(BASE, BASE) == []
    assert diff(BASE, loads(BASE_YAML)) == []
    assert not is_material(diff(BASE, loads(BASE_YAML)))


@pytest.mark.parametrize("case", MATERIAL.values(), ids=MATERIAL.keys())
def test_a_material_change_is_flagged_with_a_plain_summary(case: Case) -> None:
    """Each change people must be told about first is material and says what changed."""
    change = case.change()
    assert change.material
    assert case.words in change.summary
    assert is_material(case.changes())


@pytest.mark.parametrize("case", EDITORIAL.values(), ids=EDITORIAL.keys())
def test_an_editorial_change_is_listed_but_not_material(case: Case) -> None:
    """Each change that tells people nothing new is listed, with a summary, as editorial."""
    change = case.change()
    assert not change.material
    assert case.words in change.summary
    assert not is_material(case.changes())


def test_every_kind_of_change_has_a_case() -> None:
    """Every kind in the vocabulary is produced by one of the cases above."""
    assert {case.kind for case in [*MATERIAL.values(), *EDITORIAL.values()]} == set(KINDS)


def test_summaries_are_sentences() -> None:
    """Every summary starts with a capital letter or a quote and ends with a full stop."""
    for case in [*MATERIAL.values(), *EDITORIAL.values()]:
        for change in case.changes():
            assert change.summary[0].isupper() or change.summary[0] == "“", change
            assert change.summary.endswith("."), change


def test_a_purpose_added_in_code_is_material() -> None:
    """A variant made with ``model_copy`` compares like one loaded from YAML."""
    ads = model.Purpose(label="Ads", legal_basis=model.LegalBasis.CONSENT)
    new = BASE.model_copy(update={"purposes": {**BASE.purposes, "ads": ads}})
    assert diff(BASE, new) == [
        Change("purposes.ads", "purpose_added", True, "New purpose: Ads (consent).")
    ]


def test_changes_come_in_section_order_then_key_order() -> None:
    """Changes follow the declaration's sections, then the keys within them, run after run."""

    def edit(data: Data) -> None:
        data["children"].update(minimum_age=13)
        purposes(data)["newsletter"].update(label="News")
        purposes(data)["analytics"]["retention"].update(period="P1Y")
        data["controller"].update(name="Beta")
        data["cookies"].pop("session")

    new = variant(edit)
    paths = [change.path for change in diff(BASE, new)]
    assert paths == [
        "controller.name",
        "purposes.analytics.retention",
        "purposes.newsletter.label",
        "cookies.session",
        "children.minimum_age",
    ]
    assert diff(BASE, new) == diff(BASE, new)


def test_a_narrower_category_is_not_new_but_a_broader_one_is() -> None:
    """A category covered by one the purpose already used is not new data; a broader one is."""
    broader = variant(lambda d: purposes(d)["analytics"].update(categories=["device", "usage"]))
    widened = diff(BASE, broader)
    assert [c.kind for c in widened if c.path == "purposes.analytics.categories"] == [
        "purpose_category_added"
    ]
    narrowed = diff(broader, BASE)
    assert [c.kind for c in narrowed if c.path == "purposes.analytics.categories"] == [
        "purpose_category_removed"
    ]
    assert not is_material(narrowed)


def test_a_controller_moving_abroad_turns_recipients_and_storage_into_transfers() -> None:
    """Moving the company out of the EEA makes its EEA recipients and data centres transfers."""
    new = variant(lambda d: d["controller"].update(country="CH"))
    transfers = [c.path for c in diff(BASE, new) if c.kind == "transfer_added"]
    assert transfers == ["recipients.hosting.country", "storage.0"]


def test_is_material_is_true_when_any_change_is_material() -> None:
    """One material change among editorial ones makes the whole set material."""
    editorial = Change("policy.version", "policy_version_changed", False, "…")
    material = Change("purposes.ads", "purpose_added", True, "…")
    assert not is_material([])
    assert not is_material([editorial])
    assert is_material([editorial, material])


def test_a_change_serialises_to_json() -> None:
    """``to_dict`` gives the four fields, ready for ``json.dumps``."""
    change = MATERIAL["a longer retention"].change()
    assert json.loads(json.dumps(change.to_dict())) == {
        "path": "purposes.analytics.retention",
        "kind": "retention_longer",
        "material": True,
        "summary": "Analytics data is now kept for 2 years instead of 6 months.",
    }


# --- nothing is dropped ------------------------------------------------------------------------

Path = tuple[Any, ...]
GONE = object()


def schema_fields() -> set[tuple[str, str]]:
    """(model, field) for every field of every model of the declaration schema."""
    models = [
        value
        for value in vars(model).values()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.__module__ == model.__name__
    ]
    return {(cls.__name__, name) for cls in models for name in cls.model_fields}


def values(node: dict[Any, Any] | list[Any]) -> list[Any]:
    return list(node.values()) if isinstance(node, dict) else node


def leaves(node: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every value of the declaration that is not itself a model or a keyed set of models."""
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from leaves(getattr(node, name), (*path, name))
    elif (
        isinstance(node, dict | list)
        and node
        and all(isinstance(v, BaseModel) for v in values(node))
    ):
        entries = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in entries:
            yield from leaves(value, (*path, key))
    elif node is not None:
        yield path, node


def entries(node: Any, path: Path = ()) -> Iterator[Path]:
    """Every purpose, field, recipient, cookie, location … anywhere in the declaration."""
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from entries(getattr(node, name), (*path, name))
    elif isinstance(node, dict | list):
        for key, value in node.items() if isinstance(node, dict) else enumerate(node):
            if isinstance(value, BaseModel):
                yield (*path, key)
                yield from entries(value, (*path, key))


def replaced(node: Any, path: Path, value: Any) -> Any:
    """``node`` with the value at ``path`` replaced, or removed if ``value`` is GONE."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(node, BaseModel):
        return node.model_copy(update={head: replaced(getattr(node, head), rest, value)})
    if isinstance(node, list):
        copied = list(node)
        copied[head] = replaced(node[head], rest, value)
        return [item for item in copied if item is not GONE]
    copied = {**node, head: replaced(node[head], rest, value)}
    return {key: item for key, item in copied.items() if item is not GONE}


def mutated(value: Any) -> Any:
    """Another value of the same kind, valid or not: the diff must see it either way."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value - 1
    if isinstance(value, Enum):
        members = list(type(value))
        return members[(members.index(value) + 1) % len(members)]
    if isinstance(value, Duration):
        return Duration.parse("P99Y")
    if value == "session":
        return Duration.parse("P1D")
    if isinstance(value, str):
        return value + " changed"
    if isinstance(value, dt.date):
        return value + dt.timedelta(days=1)
    if isinstance(value, list):
        return value[:-1] if value else ["x"]
    assert isinstance(value, dict)
    return dict(list(value.items())[1:])


def related(path: str, mutated_path: str) -> bool:
    return (
        path == mutated_path
        or mutated_path.startswith(path + ".")
        or path.startswith(mutated_path + ".")
    )


def test_the_fixture_sets_every_field_of_the_schema() -> None:
    """Every field of every section is set somewhere in BASE, so the mutations reach it."""
    seen: set[tuple[str, str]] = set()

    def visit(node: Any) -> None:
        if isinstance(node, BaseModel):
            for name in type(node).model_fields:
                if name in node.model_fields_set and getattr(node, name) is not None:
                    seen.add((type(node).__name__, name))
                visit(getattr(node, name))
        elif isinstance(node, dict | list):
            for value in node.values() if isinstance(node, dict) else node:
                visit(value)

    visit(BASE)
    assert schema_fields() - seen == set()


LEAVES = list(leaves(BASE))


@pytest.mark.parametrize(
    ("path", "value"), LEAVES, ids=[".".join(map(str, path)) for path, _ in LEAVES]
)
def test_any_changed_value_is_listed(path: Path, value: Any) -> None:
    """Changing any value anywhere in the declaration yields a change at that place."""
    changes = diff(BASE, replaced(BASE, path, mutated(value)))
    dotted = ".".join(map(str, path))
    assert any(related(change.path, dotted) for change in changes), changes


ITEMS = list(entries(BASE))


@pytest.mark.parametrize("path", ITEMS, ids=[".".join(map(str, path)) for path in ITEMS])
def test_any_removed_item_is_listed(path: Path) -> None:
    """Removing any purpose, field, recipient, cookie, location … yields a change there."""
    changes = diff(BASE, replaced(BASE, path, GONE))
    dotted = ".".join(map(str, path))
    assert any(related(change.path, dotted) for change in changes), changes
