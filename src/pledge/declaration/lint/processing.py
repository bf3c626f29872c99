"""Lint rules P1xx: what is processed, why, and for how long."""

from __future__ import annotations

from collections.abc import Iterator

from pledge.declaration.findings import Severity
from pledge.declaration.lint.registry import Issue, rule
from pledge.declaration.model import Declaration, LegalBasis

# --- P: processing -----------------------------------------------------------------------------


@rule("P101", "category-unused")
def _category_unused(d: Declaration) -> Iterator[Issue]:
    """Every collected category is used by a purpose.

    Collecting data that no purpose uses breaks purpose limitation and data minimisation
    (GDPR Art. 5(1)(b)-(c)); the policy could not say why the data is collected.
    """
    for category, places in d.collected_categories().items():
        if not d.purposes_using(category):
            point, field = places[0]
            yield (
                ("collection", point, "fields", field, "category"),
                f"'{category}' is collected but no purpose uses it; add it to a purpose's"
                " categories or stop collecting it",
            )


@rule("P102", "retention-missing")
def _retention_missing(d: Declaration) -> Iterator[Issue]:
    """Every purpose has a retention period.

    GDPR Art. 13(2)(a) requires the period for which data is stored (or the criteria that fix
    it), Art. 5(1)(e) limits storage, and CCPA 1798.100(a)(3) asks for retention per category.
    "As long as necessary" is not a period: write an ISO 8601 duration, optionally after an
    event (``P30D after account_closed``).
    """
    for key, purpose in d.purposes.items():
        if purpose.retention is None:
            yield ("purposes", key), f"purpose '{key}' has no retention period"


@rule("P103", "consent-field-required")
def _consent_field_required(d: Declaration) -> Iterator[Issue]:
    """A consent purpose is not fed by a required field.

    Consent is not freely given when providing the data is a condition of the service
    (GDPR Art. 7(4), Recital 43). A field used for a consent purpose must be optional.
    """
    for point_key, point in d.collection.items():
        for field_key, field in point.fields.items():
            if not field.required:
                continue
            for purpose in field.purposes:
                if d.purposes[purpose].legal_basis is LegalBasis.CONSENT:
                    yield (
                        ("collection", point_key, "fields", field_key, "required"),
                        f"field '{field_key}' is required but feeds consent purpose '{purpose}';"
                        " consent is not freely given when the data is a condition of service",
                    )


@rule("P104", "field-without-purpose", Severity.WARNING)
def _field_without_purpose(d: Declaration) -> Iterator[Issue]:
    """Every collected field names the purposes it serves.

    Each piece of data entering at a collection point should be traceable to why it is
    collected (GDPR Art. 5(1)(b); CCPA notice at collection, 1798.100(a)(1)).
    """
    for point_key, point in d.collection.items():
        for field_key, field in point.fields.items():
            if not field.purposes:
                yield (
                    ("collection", point_key, "fields", field_key),
                    f"field '{field_key}' names no purpose",
                )


@rule("P105", "field-purpose-mismatch", Severity.WARNING)
def _field_purpose_mismatch(d: Declaration) -> Iterator[Issue]:
    """A field's category is among the categories of each purpose it feeds.

    Otherwise the purpose uses data it does not declare, and the rendered policy and the
    enforcement of categories per purpose would both be wrong.
    """
    for point_key, point in d.collection.items():
        for field_key, field in point.fields.items():
            for index, purpose in enumerate(field.purposes):
                used = d.purposes[purpose].categories
                if not any(d.taxonomy.covers(category, field.category) for category in used):
                    yield (
                        ("collection", point_key, "fields", field_key, "purposes", index),
                        f"field '{field_key}' ({field.category}) feeds purpose '{purpose}',"
                        " which does not list that category",
                    )


@rule("P106", "purpose-without-categories", Severity.WARNING)
def _purpose_without_categories(d: Declaration) -> Iterator[Issue]:
    """Every purpose lists the data categories it uses.

    The notice must say which data serves which purpose (GDPR Art. 13(1)(c), 14(1)(d)).
    """
    for key, purpose in d.purposes.items():
        if not purpose.categories:
            yield ("purposes", key), f"purpose '{key}' lists no data categories"


@rule("P107", "legitimate-interest-undescribed")
def _legitimate_interest_undescribed(d: Declaration) -> Iterator[Issue]:
    """A purpose based on legitimate interests states the interest pursued.

    GDPR Art. 13(1)(d) and 14(2)(b) require the notice to state the legitimate interests.
    """
    for key, purpose in d.purposes.items():
        if (
            purpose.legal_basis is LegalBasis.LEGITIMATE_INTERESTS
            and not purpose.legitimate_interest
        ):
            yield (
                ("purposes", key),
                f"purpose '{key}' relies on legitimate interests but does not say which",
            )


@rule("P108", "interest-assessment-missing", Severity.WARNING)
def _interest_assessment_missing(d: Declaration) -> Iterator[Issue]:
    """A purpose based on legitimate interests links its balancing test.

    Relying on Art. 6(1)(f) needs a documented assessment that the interest is not overridden
    by the person's rights (accountability, Art. 5(2)); link the record in
    ``interest_assessment``.
    """
    for key, purpose in d.purposes.items():
        if (
            purpose.legal_basis is LegalBasis.LEGITIMATE_INTERESTS
            and not purpose.interest_assessment
        ):
            yield ("purposes", key), f"purpose '{key}' has no legitimate-interests assessment"


@rule("P109", "purpose-undescribed", Severity.WARNING)
def _purpose_undescribed(d: Declaration) -> Iterator[Issue]:
    """Every purpose says in plain words what the processing does.

    GDPR Art. 12(1) and 13(1)(c): purposes stated clearly enough that a person knows what
    happens to their data. Purposes from the built-in vocabulary bring a description; others
    need their own.
    """
    for key, purpose in d.purposes.items():
        if not purpose.description:
            yield ("purposes", key), f"purpose '{key}' has no description"


@rule("P110", "special-category-basis")
def _special_category_basis(d: Declaration) -> Iterator[Issue]:
    """Special categories of data need explicit consent or another Art. 9(2) condition.

    GDPR Art. 9(1) forbids processing health, biometric, genetic, racial or ethnic, political,
    religious, trade-union and sex-life data unless a condition of Art. 9(2) applies: explicit
    consent (a purpose based on consent, whose grant Pledge checks) or the condition the
    purpose declares in ``special_category_condition``. Criminal-offence data (Art. 10) need a
    law that authorises the processing, or an official authority that controls it, named in
    ``criminal_data_authorisation``, whatever the basis. Decisions refuse such a purpose those
    categories until it declares them (rules ``special_category_condition_missing`` and
    ``criminal_data_unauthorised``).
    """
    taxonomy = d.taxonomy
    for key, purpose in d.purposes.items():
        special = [c for c in purpose.categories if taxonomy.is_special(c)]
        if (
            special
            and purpose.legal_basis not in (None, LegalBasis.CONSENT)
            and purpose.special_category_condition is None
        ):
            yield (
                ("purposes", key),
                f"purpose '{key}' uses special categories ({', '.join(special)}) on"
                f" {purpose.legal_basis} without explicit consent; declare its GDPR Art. 9(2)"
                " condition in special_category_condition",
            )
        criminal = [c for c in purpose.categories if taxonomy.is_criminal(c)]
        if criminal and not (purpose.criminal_data_authorisation or "").strip():
            yield (
                ("purposes", key),
                f"purpose '{key}' uses criminal-offence data ({', '.join(criminal)}); name the"
                " law that authorises it, or the official authority that controls it, in"
                " criminal_data_authorisation (GDPR Art. 10)",
            )
