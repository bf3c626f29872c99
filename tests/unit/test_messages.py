"""What the mails to a person say about their request."""

from __future__ import annotations

from pledge.requests.messages import completed
from pledge.requests.model import RequestType


def test_rows_counted_up_to_the_limit_read_as_more_than_it_in_the_mail() -> None:
    result = {
        "datastores": {
            "shop": {
                "tables": {
                    "orders": {"action": "retained", "rows": 1000, "more": True, "reason": "Law."},
                    "customers": {"action": "deleted", "rows": 1},
                }
            }
        }
    }
    body = completed("Shop", "ann@example.org", "r1", RequestType.ERASURE, result).body
    assert "- shop.orders: more than 1,000 rows kept: Law." in body
    assert "- shop.customers: 1 row deleted" in body
