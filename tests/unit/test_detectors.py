"""The value detectors, the column-name evidence and the per-column verdict of ``pledge scan``."""

from __future__ import annotations

import datetime as dt

import pytest

from pledge.datastores.classify import REPORT_AT, classify_column
from pledge.datastores.detectors import (
    birth_date_range,
    contains_contact,
    is_birth_date,
    is_email,
    is_free_text,
    is_iban,
    is_ip_address,
    is_payment_card,
    is_phone,
    national_id,
)
from pledge.datastores.names import name_evidence

TODAY = dt.date(2026, 11, 22)


# --- value detectors ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["jane.doe@example.com", "a+tag@mail.example.org"])
def test_email_addresses_are_recognised(value: str) -> None:
    assert is_email(value)


@pytest.mark.parametrize(
    "value",
    ["jane@", "@example.com", "jane doe@example.com", "write to jane@example.com", "a@b"],
)
def test_broken_addresses_and_sentences_are_not_email_addresses(value: str) -> None:
    assert not is_email(value)


@pytest.mark.parametrize(
    ("value", "region"),
    [
        ("+49 151 23456789", "US"),
        ("0049 30 1234567", "US"),
        ("+44 20 7946 0958", "US"),
        ("(415) 555-2671", "US"),
        ("415.234.5678", "US"),
        ("030 1234567", "DE"),
    ],
)
def test_phone_numbers_are_recognised_with_and_without_a_plus(value: str, region: str) -> None:
    assert is_phone(value, region)


def test_national_numbers_are_read_in_the_configured_region() -> None:
    assert is_phone("030 1234567", "DE")
    assert not is_phone("030 1234567", "US")


@pytest.mark.parametrize("value", ["12345", "2024-01-05", "05.01.2024", "4111111111111111", "abc"])
def test_short_numbers_dates_and_cards_are_not_phone_numbers(value: str) -> None:
    assert not is_phone(value, "DE")


@pytest.mark.parametrize("value", ["203.0.113.7", "2001:db8::1", "::1"])
def test_ip_addresses_are_recognised(value: str) -> None:
    assert is_ip_address(value)


@pytest.mark.parametrize("value", ["256.1.1.1", "1.2.3", "abc:def", "10:30"])
def test_near_misses_are_not_ip_addresses(value: str) -> None:
    assert not is_ip_address(value)


@pytest.mark.parametrize(
    "value",
    ["4111 1111 1111 1111", "5555555555554444", "378282246310005", "6011-1111-1111-1117"],
)
def test_payment_cards_are_recognised(value: str) -> None:
    assert is_payment_card(value)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("1000000000000008", id="Luhn-valid order number, no card prefix"),
        pytest.param("8000123456789018", id="Luhn-valid, prefix 8"),
        pytest.param("4111111111111112", id="Visa prefix, Luhn fails"),
        pytest.param("37828224631000", id="Amex prefix, wrong length"),
    ],
)
def test_a_luhn_valid_order_number_alone_is_not_a_card(value: str) -> None:
    assert not is_payment_card(value)


@pytest.mark.parametrize("value", ["DE89370400440532013000", "DE89 3704 0044 0532 0130 00"])
def test_ibans_are_recognised(value: str) -> None:
    assert is_iban(value)


@pytest.mark.parametrize("value", ["DE89370400440532013001", "DE8937", "XX00123456789012"])
def test_ibans_with_wrong_check_digits_are_not(value: str) -> None:
    assert not is_iban(value)


@pytest.mark.parametrize(
    ("value", "scheme"),
    [
        ("536-90-4399", "US SSN"),
        ("54362315K", "ES DNI"),
        ("X1234567L", "ES NIE"),
        ("295109912611193", "FR NIR"),
        ("RCCMNL83S18D969H", "IT codice fiscale"),
    ],
)
def test_distinctive_national_ids_are_recognised(value: str, scheme: str) -> None:
    found = national_id(value, distinctive_only=True)
    assert found is not None
    assert found.name == scheme


def test_bare_digit_ids_count_only_when_not_restricted_to_distinctive_ones() -> None:
    assert national_id("36574261809") is not None  # a valid German tax id
    assert national_id("36574261809", distinctive_only=True) is None


@pytest.mark.parametrize("value", ["000-00-0000", "54362315A", "295109912611194"])
def test_national_ids_with_wrong_check_digits_are_not(value: str) -> None:
    assert national_id(value) is None


def test_birth_dates_lie_between_1900_and_thirteen_years_ago() -> None:
    earliest, latest = birth_date_range(TODAY)
    assert (earliest, latest) == (dt.date(1900, 1, 1), dt.date(2013, 11, 22))
    assert is_birth_date("1985-03-02", TODAY)
    assert is_birth_date(dt.date(1950, 1, 1), TODAY)
    assert is_birth_date("02.03.1985", TODAY)
    assert not is_birth_date("2020-01-01", TODAY)
    assert not is_birth_date("1850-01-01", TODAY)
    assert not is_birth_date("1985-13-40", TODAY)


def test_the_birth_date_range_survives_a_leap_day() -> None:
    assert birth_date_range(dt.date(2024, 2, 29))[1] == dt.date(2011, 2, 28)


def test_free_text_is_long_and_made_of_words() -> None:
    assert is_free_text("The thermostat shows the wrong temperature since the update.")
    assert not is_free_text("Wrong temperature")
    assert not is_free_text("1234 5678 9012 3456 7890 1234 5678 9012")


def test_contact_details_are_found_inside_free_text() -> None:
    assert contains_contact("Please write to jane.doe@example.com, thanks.")
    assert contains_contact("Call me back at (415) 555-2671 in the morning.")
    assert not contains_contact("Boiler serviced on 2024-01-05, part 4711 replaced.")


# --- column names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "category"),
    [
        ("email", "contact.email"),
        ("c_eml_addr", "contact.email"),
        ("EmailAddress", "contact.email"),
        ("ip_address", "device.ip_address"),
        ("mobile", "contact.phone"),
        ("tel", "contact.phone"),
        ("firstName", "identity.name"),
        ("surname", "identity.name"),
        ("street", "contact.postal_address"),
        ("zip_code", "contact.postal_address"),
        ("dob", "identity.date_of_birth"),
        ("ssn", "identity.government_id"),
        ("iban", "financial.bank_account"),
        ("card_number", "financial.payment_card"),
        ("user_agent", "device.browser"),
    ],
)
def test_column_names_suggest_categories(column: str, category: str) -> None:
    assert name_evidence(column).category == category


def test_an_obfuscated_name_gives_no_evidence() -> None:
    assert name_evidence("fld_17") == name_evidence("")


def test_a_bare_name_column_is_a_persons_name_only_in_a_table_of_people() -> None:
    assert name_evidence("name", "customers").category == "identity.name"
    assert name_evidence("name", "products").category is None


def test_names_of_things_veto_value_detectors() -> None:
    assert name_evidence("product_code").not_personal
    assert name_evidence("firmware_version").not_personal


# --- the per-column verdict -----------------------------------------------------------------


def test_an_obfuscated_column_of_emails_is_reported() -> None:
    verdict = classify_column("fld_17", [f"user{n}@example.com" for n in range(100)])
    assert verdict is not None
    assert verdict.category == "contact.email"
    assert verdict.personal


def test_sparse_emails_are_reported_but_one_address_is_not() -> None:
    values = [f"user{n}@example.com" if n % 20 == 0 else "n/a" for n in range(1000)]
    sparse = classify_column("misc", values)
    assert sparse is not None
    assert sparse.category == "contact.email"
    assert sparse.personal
    once = classify_column("misc", ["user@example.com"] + ["n/a"] * 999)
    assert once is None or not once.personal


def test_luhn_valid_order_numbers_are_not_a_card_column() -> None:
    orders = ["1000000000000008", "8000123456789018", "9900123456789017", "7000123456789010"]
    assert classify_column("ref", orders * 50) is None


def test_a_name_of_a_thing_vetoes_phone_like_values() -> None:
    assert classify_column("product_code", ["(415) 555-2671", "415.234.5678"] * 50) is None


def test_a_column_of_phone_numbers_without_a_name_is_reported() -> None:
    verdict = classify_column("fld_18", ["+49 151 23456789", "+44 20 7946 0958"] * 50)
    assert verdict is not None
    assert verdict.category == "contact.phone"


def test_national_numbers_without_a_name_are_only_possibly_phone_numbers() -> None:
    """In Germany's permissive plan most part numbers like 415-234-5678 are valid numbers."""
    verdict = classify_column("part_no", ["415-234-5678", "030 1234567"] * 50, region="DE")
    assert verdict is not None
    assert verdict.category == "contact.phone"
    assert not verdict.personal
    named = classify_column("tel", ["415-234-5678", "030 1234567"] * 50, region="DE")
    assert named is not None
    assert named.personal


def test_a_name_alone_reports_a_column_with_moderate_confidence() -> None:
    verdict = classify_column("last_name", ["Meyer", "Garcia"])
    assert verdict is not None
    assert verdict.category == "identity.name"
    assert REPORT_AT <= verdict.confidence < 0.9


def test_matching_values_raise_the_confidence_of_a_name() -> None:
    named = classify_column("email", ["x"])
    confirmed = classify_column("email", ["jane@example.com"] * 10)
    assert named is not None
    assert confirmed is not None
    assert confirmed.confidence > named.confidence


def test_birth_dates_need_a_name_that_says_birth() -> None:
    dates = [dt.date(1950 + n % 50, 1 + n % 12, 1) for n in range(200)]
    birth = classify_column("date_of_birth", dates, today=TODAY)
    built = classify_column("built_on", dates, today=TODAY)
    assert birth is not None
    assert birth.category == "identity.date_of_birth"
    assert birth.personal
    assert built is not None
    assert not built.personal


def test_free_text_is_personal_when_it_mentions_contact_details() -> None:
    plain = "The heating schedule does not switch to night mode in the living room."
    mentions = plain + " Reach me at jane.doe@example.com."
    tickets = classify_column("body", [mentions, plain, plain] * 20)
    descriptions = classify_column("description", [plain] * 60)
    assert tickets is not None
    assert tickets.category == "user_content.inputs"
    assert tickets.personal
    assert descriptions is not None
    assert not descriptions.personal


def test_nulls_flags_and_numbers_say_nothing() -> None:
    assert classify_column("fld_1", [None, True, 1.5, b"\x00", 17, 42]) is None
