"""The rows a job found survive the store between steps, whatever types the driver returned,
and every value reads as text in a report."""

from __future__ import annotations

import datetime as dt
import decimal
import ipaddress
import json
import uuid
from typing import Any

import pytest

from pledge.datastores.collect import Found
from pledge.requests import found_rows
from pledge.requests.reports import _plain

VALUES: list[Any] = [
    None,
    "Ann",
    42,
    1.5,
    True,
    decimal.Decimal("12.50"),
    dt.datetime(2026, 3, 1, 12, 30, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 1, 12, 30),
    dt.date(2026, 3, 1),
    dt.time(8, 30, 15, 250),
    dt.timedelta(days=14, seconds=3600, microseconds=5),
    b"\x89PNG",
    uuid.UUID("0a0a0a0a-0000-4000-8000-000000000001"),
    ipaddress.ip_address("192.0.2.10"),
    ipaddress.ip_address("2001:db8::1"),
    ipaddress.ip_interface("192.0.2.10/24"),
    ipaddress.ip_network("198.51.100.0/24"),
    {"news", "beta"},
    ["news", "beta"],
    {"theme": "dark"},
]


@pytest.mark.parametrize("value", VALUES, ids=lambda value: type(value).__name__)
def test_a_value_comes_back_from_the_store_as_the_driver_gave_it(value: Any) -> None:
    found = Found({"members": [{"column": value}]}, {"members": []}, {"kept": 3})
    back = found_rows.decode(found_rows.encode(found))
    assert back.rows == found.rows
    assert type(back.rows["members"][0]["column"]) is type(value)
    assert back.tallies == {"kept": 3}


def test_a_type_the_store_does_not_know_is_kept_as_its_text() -> None:
    class Range:
        def __str__(self) -> str:
            return "[1,5)"

    found = Found({"members": [{"column": Range()}]})
    assert found_rows.decode(found_rows.encode(found)).rows == {"members": [{"column": "[1,5)"}]}


@pytest.mark.parametrize("value", VALUES, ids=lambda value: type(value).__name__)
def test_every_value_reads_as_json_in_a_report(value: Any) -> None:
    shown = json.loads(json.dumps(_plain(value), default=_plain))
    assert shown is None or isinstance(shown, str | int | float | bool | list | dict)


def test_report_values_are_written_the_way_people_read_them() -> None:
    assert _plain(dt.time(8, 30)) == "08:30:00"
    assert _plain(dt.timedelta(days=14)) == "14 days, 0:00:00"
    assert _plain(uuid.UUID(int=1)) == "00000000-0000-0000-0000-000000000001"
    assert _plain(ipaddress.ip_address("192.0.2.10")) == "192.0.2.10"
    assert _plain(b"\x89PNG") == "89504e47"
    assert _plain({"vip", "beta"}) == ["beta", "vip"]
    assert _plain(decimal.Decimal("12.50")) == "12.50"
