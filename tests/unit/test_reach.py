"""Whose rows are whose: the reachability rules on schemas given in memory (no database)."""

from __future__ import annotations

import pytest

import pledge
from pledge.datastores import Column, ForeignKey, Schema, Table
from pledge.datastores.graph import OWNED, PERSON, REFERENCE
from pledge.datastores.plan import Plan, build_plan

HEAD = """\
pledge: 1
controller: {name: Shop, country: DE}
policy: {version: "1.0", effective_date: 2025-07-01}
purposes:
  provide_service:
    legal_basis: contract
    categories:
      [contact.email, identity.name, contact.postal_address, user_content.support_messages]
    retention: P30D after account_closed
datastores:
  shop:
    url: sqlite:///shop.db
    tables:
"""


def table(
    name: str, *columns: str, keys: tuple[ForeignKey, ...] = (), nullable: bool = True
) -> Table:
    """A reflected table: ``id`` is its integer primary key, the other columns text."""
    found = {"id": Column("id", "INTEGER", False, True, "integer")}
    for column in columns:
        integer = column.endswith("_id") or column == "handled_by"
        found[column] = Column(
            column,
            "INTEGER" if integer else "TEXT",
            nullable,
            False,
            "integer" if integer else "text",
        )
    return Table(name, found, keys)


def fk(column: str, target: str, ondelete: str | None = None) -> ForeignKey:
    """A foreign key ``column`` → ``target.id``."""
    return ForeignKey((column,), target, ("id",), ondelete)


def plan(tables: str, *schema: Table) -> Plan:
    """The plan of the declaration's ``tables`` section over ``schema``."""
    declaration = pledge.loads(HEAD + tables)
    return build_plan("shop", Schema.of(schema), declaration.datastores["shop"])


SHOP = (
    table("customers", "email", "full_name", "address_id", "account_manager_id",
          keys=(fk("address_id", "addresses"), fk("account_manager_id", "staff"))),
    table("staff", "email", "address_id", keys=(fk("address_id", "addresses"),)),
    table("addresses", "street"),
    table("orders", "customer_id", keys=(fk("customer_id", "customers"),)),
    table("order_items", "order_id", "note", keys=(fk("order_id", "orders"),)),
    table("bookings", "customer_id", "handled_by", "notes",
          keys=(fk("customer_id", "customers"), fk("handled_by", "staff"))),
)  # fmt: skip

SHOP_TABLES = """\
      customers:
        columns:
          email: {category: contact.email, identity: email}
          full_name: {category: identity.name}
        erasure:
          strategy: rewrite
          rewrite: {email: {pseudonym: hmac}, full_name: null, address_id: null}
      staff:
        columns:
          email: {category: contact.email, identity: email}
        erasure: {strategy: rewrite, rewrite: {email: {pseudonym: hmac}, address_id: null}}
      addresses:
        columns:
          street: {category: contact.postal_address}
        erasure: {strategy: delete}
      orders:
        erasure: {strategy: delete}
      order_items:
        columns:
          note: {category: user_content.support_messages}
        erasure: {strategy: delete}
      bookings:
        columns:
          notes: {category: user_content.support_messages}
        erasure: {strategy: delete}
"""

RESOLVED = """\
        relations:
          - {column: handled_by, references: staff.id, follow: false}
"""


def test_a_table_with_two_owners_is_ambiguous_and_refuses_the_plan() -> None:
    """Bookings point to a customer and to the staff member who handled them: until the
    declaration says which, the plan is refused, and bookings are followed from neither."""
    refused = plan(SHOP_TABLES, *SHOP)
    assert set(refused.graph.ambiguous) == {"bookings"}
    assert any("bookings" in problem and "follow" in problem for problem in refused.problems)
    assert not refused.has("bookings")


def test_follow_false_leaves_the_staff_member_out_of_the_customers_rows() -> None:
    """With follow: false on handled_by, a booking is its customer's; staff reach nothing of
    the customers, and customers nothing of staff."""
    resolved = plan(SHOP_TABLES + RESOLVED, *SHOP)
    assert resolved.problems == ()
    roles = {step.table: step.role for step in resolved.steps}
    assert roles == {
        "customers": PERSON,
        "staff": PERSON,
        "orders": OWNED,
        "order_items": OWNED,
        "bookings": OWNED,
        "addresses": REFERENCE,
    }
    assert [link.label for link in resolved.step("bookings").owners] == [
        "bookings.customer_id → customers.id"
    ]
    assert [link.label for link in resolved.step("orders").owners] == [
        "orders.customer_id → customers.id"
    ]
    ignored = {link.label: why for link, why in resolved.graph.ignored}
    assert "someone else" in ignored["customers.account_manager_id → staff.id"]
    assert ignored["bookings.handled_by → staff.id"] == "declared follow: false"


def test_an_address_is_reached_upwards_from_every_table_of_people() -> None:
    """Addresses belong to nobody by their links: customers' and staff's rows reach theirs."""
    resolved = plan(SHOP_TABLES + RESOLVED, *SHOP)
    assert sorted(link.label for link in resolved.step("addresses").references) == [
        "customers.address_id → addresses.id",
        "staff.address_id → addresses.id",
    ]


def test_erasure_changes_rows_that_point_to_others_first() -> None:
    """Order items before orders, orders and bookings before customers, customers (whose
    rewrite empties address_id) before addresses."""
    order = plan(SHOP_TABLES + RESOLVED, *SHOP).erasure_order
    assert order.index("order_items") < order.index("orders") < order.index("customers")
    assert order.index("bookings") < order.index("customers") < order.index("addresses")


def test_a_kept_row_under_a_deleted_address_is_refused() -> None:
    """If the customer's rewrite keeps address_id, deleting the address would break the
    foreign key for everyone who has one: D806, and the plan is refused."""
    tables = SHOP_TABLES.replace(", full_name: null, address_id: null}", ", full_name: null}")
    tables += RESOLVED
    refused = plan(tables, *SHOP)
    codes = {problem.code for problem in refused.constraints}
    assert "D806" in codes
    assert any("addresses" in problem for problem in refused.problems)


def test_a_legal_hold_under_a_deleted_parent_is_refused() -> None:
    """Invoices kept under a hold while their customer is deleted: the database would refuse
    it every time, so the check does first (D806); with the customer rewritten, it passes."""
    schema = (
        table("customers", "email"),
        table("invoices", "customer_id", "billing", keys=(fk("customer_id", "customers"),)),
    )
    tables = """\
      customers:
        columns:
          email: {category: contact.email, identity: email}
        erasure: {strategy: delete}
      invoices:
        columns:
          billing: {category: identity.name}
        erasure: {strategy: delete}
        legal_hold: {retain: P10Y, reason: Accounting law.}
"""
    refused = plan(tables, *schema)
    assert [problem.code for problem in refused.constraints] == ["D806"]
    rewritten = tables.replace(
        "        erasure: {strategy: delete}\n      invoices",
        "        erasure: {strategy: rewrite, rewrite: {email: {pseudonym: hmac}}}\n      invoices",
    )
    assert plan(rewritten, *schema).problems == ()


@pytest.mark.parametrize(("action", "code"), [("CASCADE", "D807"), (None, "D808")])
def test_other_peoples_rows_under_a_deleted_row_are_named(action: str | None, code: str) -> None:
    """A staff row deleted while customers point to it: CASCADE would delete other people's
    rows (an error); NO ACTION stops the erasure of such a person only (a warning)."""
    schema = (
        table("staff", "email"),
        table("customers", "email", "manager_id", keys=(fk("manager_id", "staff", action),)),
    )
    tables = """\
      staff:
        columns:
          email: {category: contact.email, identity: email}
        erasure: {strategy: delete}
      customers:
        columns:
          email: {category: contact.email, identity: email}
        erasure: {strategy: delete}
"""
    found = plan(tables, *schema)
    assert [(problem.code, problem.error) for problem in found.constraints] == [
        (code, code == "D807")
    ]


def test_a_cycle_of_the_persons_own_rows_is_broken_by_emptying_a_nullable_link() -> None:
    """customers.default_address_id → addresses and addresses.customer_id → customers, both
    deleted: the default address link is emptied first."""
    schema = (
        table("customers", "email", "default_address_id",
              keys=(fk("default_address_id", "addresses"),)),
        table("addresses", "customer_id", "street", keys=(fk("customer_id", "customers"),)),
    )  # fmt: skip
    tables = """\
      customers:
        columns:
          email: {category: contact.email, identity: email}
        erasure: {strategy: delete}
      addresses:
        columns:
          street: {category: contact.postal_address}
        erasure: {strategy: delete}
"""
    found = plan(tables, *schema)
    assert found.problems == ()
    assert [link.label for link in found.prenull] == ["customers.default_address_id → addresses.id"]
    assert found.erasure_order.index("addresses") < found.erasure_order.index("customers")


def test_a_table_whose_identity_lives_elsewhere_is_reached_through_role_person() -> None:
    """E-mail addresses kept in user_emails: with role: person on users, user_emails holds
    addresses of people (it points to users), and an address leads up to its user, and down
    from there to their orders (and their other addresses)."""
    schema = (
        table("users", "name"),
        table("user_emails", "user_id", "email", keys=(fk("user_id", "users"),)),
        table("orders", "user_id", keys=(fk("user_id", "users"),)),
    )
    tables = """\
      users:
        role: person
        columns:
          name: {category: identity.name}
        erasure: {strategy: delete}
      user_emails:
        columns:
          email: {category: contact.email, identity: email}
        erasure: {strategy: delete}
      orders:
        erasure: {strategy: delete}
"""
    found = plan(tables, *schema)
    assert found.problems == ()
    assert found.step("user_emails").climbs
    assert [link.other for link in found.step("orders").owners] == ["users"]


def test_without_role_person_the_user_table_is_unreached_and_says_what_to_do() -> None:
    """The same schema without role: person: orders hang from a table nothing owns, and the
    check says so instead of leaving them out in silence."""
    schema = (
        table("users", "name"),
        table("user_emails", "user_id", "email", keys=(fk("user_id", "users"),)),
        table("orders", "user_id", "note", keys=(fk("user_id", "users"),)),
    )
    tables = """\
      users:
        columns:
          name: {category: identity.name}
        erasure: {strategy: delete}
      user_emails:
        columns:
          email: {category: contact.email, identity: email}
        erasure: {strategy: delete}
      orders:
        columns:
          note: {category: user_content.support_messages}
        erasure: {strategy: delete}
"""
    found = plan(tables, *schema)
    assert "orders" in found.unreached
    assert any("orders" in problem for problem in found.problems)


def test_names_with_spaces_and_composite_links_are_declared_as_spelled() -> None:
    """A table named "Order Details" with a composite link declared by a relation."""
    schema = (
        Table(
            "Customer",
            {
                "Tenant": Column("Tenant", "INTEGER", False, True, "integer"),
                "No": Column("No", "INTEGER", False, True, "integer"),
                "E-mail": Column("E-mail", "TEXT", True, False, "text"),
            },
        ),
        Table(
            "Order Details",
            {
                "id": Column("id", "INTEGER", False, True, "integer"),
                "Tenant": Column("Tenant", "INTEGER", False, False, "integer"),
                "Customer No": Column("Customer No", "INTEGER", False, False, "integer"),
                "Select": Column("Select", "TEXT", True, False, "text"),
            },
        ),
    )
    tables = """\
      Customer:
        columns:
          E-mail: {category: contact.email, identity: email}
        erasure: {strategy: delete}
      "Order Details":
        columns:
          Select: {category: user_content.support_messages}
        erasure: {strategy: delete}
        relations:
          - column: [Tenant, Customer No]
            references: {table: Customer, column: [Tenant, "No"]}
"""
    found = plan(tables, *schema)
    assert found.problems == ()
    (owner,) = found.step("Order Details").owners
    assert owner.columns == ("Tenant", "Customer No")
    assert owner.other_columns == ("Tenant", "No")
