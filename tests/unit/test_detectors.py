"""The value detectors, the column-name evidence and the per-column verdict of ``pledge scan``."""

from __future__ import annotations

import datetime as dt

import pytest

from pledge.datastores.classify import REPORT_AT, classify_column
from pledge.datastores.detectors import (
    birth_date_range,
    contains_contact,
    has_time_of_day,
    is_birth_date,
    is_email,
    is_free_text,
    is_iban,
    is_ip_address,
    is_payment_card,
    is_phone,
    national_id,
)
from pledge.datastores.names import is_key_name, name_evidence

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


@pytest.mark.parametrize(
    ("value", "timed"),
    [
        ("2006-02-15 04:34:33", True),
        (dt.datetime(2005, 5, 24, 22, 53, 30), True),
        ("1962-02-18 00:00:00", False),
        ("1962-02-18", False),
        (dt.date(1962, 2, 18), False),
        (dt.datetime(1962, 2, 18), False),
        ("not a date", False),
    ],
)
def test_a_time_of_day_marks_an_events_timestamp(value: object, timed: bool) -> None:
    assert has_time_of_day(value) is timed


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


@pytest.mark.parametrize(
    ("column", "category"),
    [
        ("PostalCode", "contact.postal_address"),
        ("HomePhone", "contact.phone"),
        ("ContactName", "identity.name"),
        ("BillingAddress", "contact.postal_address"),
        ("ShipAddress", "contact.postal_address"),
        ("AddressLine1", "contact.postal_address"),
        ("E-mail Address", "contact.email"),
        ("ZIP/Postal Code", "contact.postal_address"),
        ("Business Phone", "contact.phone"),
        ("emailaddress", "contact.email"),
        ("post_code", "contact.postal_address"),
        ("Composer", "identity.name"),
    ],
)
def test_camel_case_spaced_and_folded_names_suggest_categories(column: str, category: str) -> None:
    assert name_evidence(column).category == category


def test_a_ship_address_is_not_an_ip_address_hidden_across_words() -> None:
    assert name_evidence("ShipAddress").category == "contact.postal_address"
    assert name_evidence("clientipaddress").category == "device.ip_address"


def test_a_city_in_a_table_of_cities_names_a_place_not_where_someone_lives() -> None:
    assert name_evidence("city", "city").category is None
    assert name_evidence("Name", "StateProvince").category is None
    assert name_evidence("City", "Customer").category == "contact.postal_address"
    assert name_evidence("address", "address").category == "contact.postal_address"


def test_photos_and_notes_are_a_persons_only_in_a_table_of_people() -> None:
    assert name_evidence("Photo", "Employees").category == "identity.photo"
    assert name_evidence("picture", "staff").category == "identity.photo"
    assert name_evidence("Picture", "Categories").category is None
    assert name_evidence("ThumbNailPhoto", "ProductPhoto").category is None
    assert name_evidence("avatar_url", "posts").category == "identity.photo"
    assert name_evidence("Notes", "Employees").free_text
    assert not name_evidence("Notes", "Suppliers").free_text


@pytest.mark.parametrize(
    "column",
    ["address_id", "AddressID", "SupportRepId", "id_city", "businessentityid", "CustomerKey"],
)
def test_key_names_are_recognised_in_every_style(column: str) -> None:
    assert is_key_name(column)


@pytest.mark.parametrize("column", ["address", "postal_code", "phone", "idnr", "identity"])
def test_names_of_values_are_not_key_names(column: str) -> None:
    assert not is_key_name(column)


@pytest.mark.parametrize(
    "column",
    ["hire_date", "HireDate", "last_update", "created_at", "OrderDate", "ModifiedDate"],
)
def test_dates_named_after_an_event_say_so(column: str) -> None:
    assert name_evidence(column).event


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


BIRTH_LIKE = [dt.date(1950 + n % 50, 1 + n % 12, 1 + n % 28) for n in range(200)]


def test_birth_dates_need_a_name_that_says_birth() -> None:
    birth = classify_column("date_of_birth", BIRTH_LIKE, today=TODAY)
    unnamed = classify_column("fld_9", BIRTH_LIKE, today=TODAY)
    assert birth is not None
    assert birth.category == "identity.date_of_birth"
    assert birth.personal
    assert unnamed is not None
    assert unnamed.category == "identity.date_of_birth"
    assert not unnamed.personal


@pytest.mark.parametrize(
    "column", ["hire_date", "HireDate", "built_on", "last_update", "create_date", "OrderDate"]
)
def test_dates_of_events_are_not_even_possibly_birth_dates(column: str) -> None:
    assert classify_column(column, BIRTH_LIKE, table="Employees", today=TODAY) is None


def test_old_dates_need_more_than_their_age_to_look_like_birth_dates() -> None:
    """Sakila's rentals of 2005 are old enough, but a year of timestamps is not a population."""
    rentals = [f"2005-0{1 + n % 9}-1{n % 10} 1{n % 10}:30:00" for n in range(200)]
    one_year = [dt.date(2005, 1 + n % 12, 1 + n % 28) for n in range(200)]
    centuries = [dt.date(1880 + n % 120, 1, 1) for n in range(200)]
    for dates in (rentals, one_year, centuries):
        assert classify_column("fld_9", dates, today=TODAY) is None


@pytest.mark.parametrize(
    ("column", "key", "integer"),
    [
        ("address_id", False, False),
        ("city_id", False, True),
        ("AddressID", True, True),
        ("EmailAddressID", True, True),
        ("PhoneNumberTypeID", True, True),
        ("address", True, True),
    ],
)
@pytest.mark.parametrize("region", ["US", "DE"])
def test_a_name_alone_never_flags_an_integer_key(
    column: str, key: bool, integer: bool, region: str
) -> None:
    values = list(range(1, 700)) + list(range(1_000_000, 1_000_300))
    verdict = classify_column(column, values, key=key, integer=integer, region=region)
    assert verdict is None or not verdict.personal
    empty = classify_column(column, [], key=key, integer=True, region=region)
    assert empty is None


def test_a_text_key_keeps_what_its_name_says() -> None:
    """AdventureWorks keys PersonPhone by its PhoneNumber; a table may be keyed by e-mail."""
    phone = classify_column("PhoneNumber", ["697-555-0142", "819-555-0175"] * 30, key=True)
    email = classify_column("email", [f"user{n}@example.com" for n in range(60)], key=True)
    assert phone is not None
    assert phone.category == "contact.phone"
    assert phone.personal
    assert email is not None
    assert email.personal


def test_a_national_id_named_like_a_key_needs_valid_check_digits() -> None:
    tax_ids = ["36574261809", "65929970489", "26954371827"] * 20
    named = classify_column("tax_id", tax_ids, integer=True)
    assert named is not None
    assert named.category == "identity.government_id"
    assert named.personal
    assert classify_column("tax_id", list(range(1, 21)) * 3, key=True, integer=True) is None


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("EmailPromotion", [0, 1, 2] * 30),
        ("email_count", ["3", "12", "0"] * 30),
        ("email_verified_at", ["2024-05-01 10:00:00", "2023-01-02 08:15:00"] * 30),
        ("last_login", [dt.datetime(2025, 1, 1, 9, n % 60) for n in range(60)]),
        ("phone_verified_on", [dt.date(2024, 1 + n % 12, 1) for n in range(60)]),
    ],
)
def test_values_that_cannot_be_what_the_name_says_overrule_it(
    column: str, values: list[object]
) -> None:
    verdict = classify_column(column, values, today=TODAY)
    assert verdict is None or not verdict.personal


def test_numbers_may_still_be_phone_numbers_and_postcodes() -> None:
    postcodes = classify_column("zip", [10115, 20095, 80331] * 20)
    phones = classify_column("phone", ["14033335568", "6172235589"] * 30)
    assert postcodes is not None
    assert postcodes.personal
    assert phones is not None
    assert phones.personal


def test_a_photo_of_a_person_is_reported_by_its_name_alone() -> None:
    staff = classify_column("picture", [], table="staff")
    assert staff is not None
    assert staff.category == "identity.photo"
    assert staff.personal
    assert classify_column("Picture", [], table="Categories") is None


def test_notes_in_a_table_of_people_are_about_them() -> None:
    notes = [
        "Education includes a BA in psychology from Colorado State University in 1970.",
        "Andrew received his BTS commercial in 1974 and a Ph.D. in international marketing.",
    ] * 5
    employees = classify_column("Notes", notes, table="Employees")
    suppliers = classify_column("Notes", notes, table="Suppliers")
    assert employees is not None
    assert employees.category == "user_content.inputs"
    assert employees.personal
    assert suppliers is not None
    assert not suppliers.personal


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
