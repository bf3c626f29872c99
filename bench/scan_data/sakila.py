"""Sakila (MySQL's sample database; Pagila on PostgreSQL): a DVD rental shop.

Lower-case singular tables, ``*_id`` keys declared as primary and foreign keys, a
``last_update`` timestamp in every table, the staff's ``picture`` as a blob, customers'
``address_id`` pointing into one ``address`` table shared with staff and stores, and a
``city`` table listing the world's cities.
"""

from __future__ import annotations

from .values import (
    COUNTRIES,
    EMAIL,
    NAME,
    PASSWORD,
    PHONE,
    PHOTO,
    POSTAL,
    USERNAME,
    Column,
    Table,
    Values,
)


def tables(v: Values) -> list[Table]:
    """The tables, in the order they refer to each other."""
    update = v.pick(["2006-02-15 04:34:33", "2006-02-15 04:57:20", "2006-02-15 05:05:03"])
    last_update = Column("last_update", "TIMESTAMP", update)
    district = v.pick(["Alberta", "QLD", "Nagasaki", "California", "Buenos Aires", "Texas"])
    return [
        Table(
            "country",
            109,
            [
                Column("country_id", "SMALLINT", v.serial),
                Column("country", "VARCHAR(50)", v.pick(COUNTRIES)),
                last_update,
            ],
            ("country_id",),
        ),
        Table(
            "city",
            600,
            [
                Column("city_id", "SMALLINT", v.serial),
                Column("city", "VARCHAR(50)", v.place(0)),
                Column("country_id", "SMALLINT", v.key(109)),
                last_update,
            ],
            ("city_id",),
            [("country_id", "country", "country_id")],
        ),
        Table(
            "address",
            603,
            [
                Column("address_id", "SMALLINT", v.serial),
                Column("address", "VARCHAR(50)", v.street, POSTAL),
                Column(
                    "address2", "VARCHAR(50)", v.pick([""] * 30 + ["Apt 4B", "Suite 200"]), POSTAL
                ),
                Column("district", "VARCHAR(20)", district),
                Column("city_id", "SMALLINT", v.key(600)),
                Column(
                    "postal_code",
                    "VARCHAR(10)",
                    v.pick([""] + [f"{code:05d}" for code in range(1000, 99000, 97)]),
                    POSTAL,
                ),
                Column(
                    "phone", "VARCHAR(20)", lambda n: str(v.random.randint(10**8, 10**12)), PHONE
                ),
                last_update,
            ],
            ("address_id",),
            [("city_id", "city", "city_id")],
        ),
        Table(
            "staff",
            2,
            [
                Column("staff_id", "TINYINT", v.serial),
                Column("first_name", "VARCHAR(45)", v.first, NAME),
                Column("last_name", "VARCHAR(45)", v.last, NAME),
                Column("address_id", "SMALLINT", v.key(4)),
                Column("picture", "BLOB", lambda n: None if n else v.image(n), PHOTO),
                Column("email", "VARCHAR(50)", v.email(["sakilastaff.com"], "{f}.{l}"), EMAIL),
                Column("store_id", "TINYINT", v.serial),
                Column("active", "BOOLEAN", v.pick([1])),
                Column("username", "VARCHAR(16)", v.first, USERNAME),
                Column(
                    "password",
                    "VARCHAR(40)",
                    lambda n: f"{v.random.getrandbits(160):040x}",
                    PASSWORD,
                ),
                last_update,
            ],
            ("staff_id",),
            [("address_id", "address", "address_id")],
        ),
        Table(
            "store",
            2,
            [
                Column("store_id", "TINYINT", v.serial),
                Column("manager_staff_id", "TINYINT", v.serial),
                Column("address_id", "SMALLINT", v.serial),
                last_update,
            ],
            ("store_id",),
            [("manager_staff_id", "staff", "staff_id"), ("address_id", "address", "address_id")],
        ),
        Table(
            "customer",
            599,
            [
                Column("customer_id", "SMALLINT", v.serial),
                Column("store_id", "TINYINT", v.key(2)),
                Column("first_name", "VARCHAR(45)", v.upper(v.first), NAME),
                Column("last_name", "VARCHAR(45)", v.upper(v.last), NAME),
                Column(
                    "email",
                    "VARCHAR(50)",
                    v.upper(v.email(["sakilacustomer.org"], "{f}.{l}")),
                    EMAIL,
                ),
                Column("address_id", "SMALLINT", lambda n: n + 5),
                Column("active", "INTEGER", v.pick([1] * 15 + [0])),
                Column(
                    "create_date",
                    "DATETIME",
                    v.pick(["2006-02-14 22:04:36", "2006-02-14 22:04:37"]),
                ),
                last_update,
            ],
            ("customer_id",),
            [("store_id", "store", "store_id"), ("address_id", "address", "address_id")],
        ),
        Table(
            "actor",
            200,
            [
                Column("actor_id", "SMALLINT", v.serial),
                Column("first_name", "VARCHAR(45)", v.upper(v.first), NAME),
                Column("last_name", "VARCHAR(45)", v.upper(v.last), NAME),
                last_update,
            ],
            ("actor_id",),
        ),
        Table(
            "language",
            6,
            [
                Column("language_id", "TINYINT", v.serial),
                Column("name", "CHAR(20)", v.pick(["English", "Italian", "Japanese", "French"])),
                last_update,
            ],
            ("language_id",),
        ),
        Table(
            "film",
            1000,
            [
                Column("film_id", "SMALLINT", v.serial),
                Column("title", "VARCHAR(128)", v.upper(v.words(2, 2))),
                Column("description", "TEXT", v.film_description),
                Column("release_year", "YEAR", v.pick([2006])),
                Column("language_id", "TINYINT", v.key(6)),
                Column("rental_duration", "TINYINT", v.key(7)),
                Column("rental_rate", "DECIMAL(4,2)", v.pick(["0.99", "2.99", "4.99"])),
                Column("length", "SMALLINT", lambda n: v.random.randint(46, 185)),
                Column("replacement_cost", "DECIMAL(5,2)", v.money(9.99, 29.99)),
                Column("rating", "VARCHAR(5)", v.pick(["G", "PG", "PG-13", "R", "NC-17"])),
                Column("special_features", "VARCHAR(100)", v.pick(["Trailers", "Deleted Scenes"])),
                last_update,
            ],
            ("film_id",),
            [("language_id", "language", "language_id")],
        ),
        Table(
            "inventory",
            4581,
            [
                Column("inventory_id", "MEDIUMINT", v.serial),
                Column("film_id", "SMALLINT", v.key(1000)),
                Column("store_id", "TINYINT", v.key(2)),
                last_update,
            ],
            ("inventory_id",),
            [("film_id", "film", "film_id"), ("store_id", "store", "store_id")],
        ),
        Table(
            "rental",
            16044,
            [
                Column("rental_id", "INTEGER", v.serial),
                Column("rental_date", "DATETIME", v.moment(2005, 2005)),
                Column("inventory_id", "MEDIUMINT", v.key(4581)),
                Column("customer_id", "SMALLINT", v.key(599)),
                Column("return_date", "DATETIME", v.sometimes(0.99, v.moment(2005, 2005))),
                Column("staff_id", "TINYINT", v.key(2)),
                last_update,
            ],
            ("rental_id",),
            [
                ("inventory_id", "inventory", "inventory_id"),
                ("customer_id", "customer", "customer_id"),
                ("staff_id", "staff", "staff_id"),
            ],
        ),
        Table(
            "payment",
            16049,
            [
                Column("payment_id", "SMALLINT", v.serial),
                Column("customer_id", "SMALLINT", v.key(599)),
                Column("staff_id", "TINYINT", v.key(2)),
                Column("rental_id", "INTEGER", v.key(16044)),
                Column("amount", "DECIMAL(5,2)", v.money(0, 11.99)),
                Column("payment_date", "DATETIME", v.moment(2005, 2006)),
                last_update,
            ],
            ("payment_id",),
            [
                ("customer_id", "customer", "customer_id"),
                ("staff_id", "staff", "staff_id"),
                ("rental_id", "rental", "rental_id"),
            ],
        ),
    ]
