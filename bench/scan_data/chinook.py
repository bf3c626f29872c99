"""Chinook: a digital music shop, the sample of many ORMs and SQL tutorials.

Singular CamelCase tables and columns (``CustomerId``, ``SupportRepId``, ``ReportsTo``),
employees with ``BirthDate`` and ``HireDate`` stored as midnight timestamps, invoices that copy
the customer's billing address, and tracks with durations, sizes and composers. ``Album``
keeps its ``ArtistId`` without a declared foreign key (no ``Artist`` table here), an integer
key known only by its name.
"""

from __future__ import annotations

from .values import BIRTH, EMAIL, NAME, PHONE, POSTAL, TITLES, Column, Table, Values


def tables(v: Values) -> list[Table]:
    """The tables, in the order they refer to each other."""
    domains = ["embraer.com.br", "gmail.com", "yahoo.de", "apple.com", "surfeu.de", "mail.ru"]
    companies = ["Embraer - Empresa Brasileira de Aeronáutica S.A.", "JetBrains s.r.o.", "Riotur"]
    person = [
        Column("Address", "NVARCHAR(70)", v.street, POSTAL),
        Column("City", "NVARCHAR(40)", v.place(0), POSTAL),
        Column("State", "NVARCHAR(40)", v.place(1)),
        Column("Country", "NVARCHAR(40)", v.place(2)),
        Column("PostalCode", "NVARCHAR(10)", v.sometimes(0.93, v.place(3)), POSTAL),
        Column("Phone", "NVARCHAR(24)", v.sometimes(0.98, v.place(4)), PHONE),
        Column("Fax", "NVARCHAR(24)", v.sometimes(0.3, v.place(4)), PHONE),
        Column("Email", "NVARCHAR(60)", v.email(domains, "{i}{l}"), EMAIL),
    ]
    return [
        Table(
            "Genre",
            25,
            [
                Column("GenreId", "INTEGER", v.serial),
                Column(
                    "Name", "NVARCHAR(120)", v.pick(["Rock", "Jazz", "Metal", "Latin", "Blues"])
                ),
            ],
            ("GenreId",),
        ),
        Table(
            "MediaType",
            5,
            [
                Column("MediaTypeId", "INTEGER", v.serial),
                Column("Name", "NVARCHAR(120)", v.pick(["MPEG audio file", "AAC audio file"])),
            ],
            ("MediaTypeId",),
        ),
        Table(
            "Album",
            347,
            [
                Column("AlbumId", "INTEGER", v.serial),
                Column("Title", "NVARCHAR(160)", v.words(1, 4)),
                Column("ArtistId", "INTEGER", v.key(275)),
            ],
            ("AlbumId",),
        ),
        Table(
            "Track",
            3503,
            [
                Column("TrackId", "INTEGER", v.serial),
                Column("Name", "NVARCHAR(200)", v.words(1, 5)),
                Column("AlbumId", "INTEGER", v.key(347)),
                Column("MediaTypeId", "INTEGER", v.key(5)),
                Column("GenreId", "INTEGER", v.key(25)),
                Column("Composer", "NVARCHAR(220)", v.composers, NAME),
                Column("Milliseconds", "INTEGER", lambda n: v.random.randint(1071, 5286953)),
                Column("Bytes", "INTEGER", lambda n: v.random.randint(38747, 1059546140)),
                Column("UnitPrice", "NUMERIC(10,2)", v.pick(["0.99", "1.99"])),
            ],
            ("TrackId",),
            [
                ("AlbumId", "Album", "AlbumId"),
                ("MediaTypeId", "MediaType", "MediaTypeId"),
                ("GenreId", "Genre", "GenreId"),
            ],
        ),
        Table(
            "Employee",
            8,
            [
                Column("EmployeeId", "INTEGER", v.serial),
                Column("LastName", "NVARCHAR(20)", v.last, NAME),
                Column("FirstName", "NVARCHAR(20)", v.first, NAME),
                Column("Title", "NVARCHAR(30)", v.pick(TITLES)),
                Column("ReportsTo", "INTEGER", lambda n: min(n, 2) or None),
                Column("BirthDate", "DATETIME", v.moment(1947, 1973, midnight=True), BIRTH),
                Column("HireDate", "DATETIME", v.moment(2002, 2004, midnight=True)),
                *person[:-1],
                Column("Email", "NVARCHAR(60)", v.email(["chinookcorp.com"], "{f}"), EMAIL),
            ],
            ("EmployeeId",),
            [("ReportsTo", "Employee", "EmployeeId")],
        ),
        Table(
            "Customer",
            59,
            [
                Column("CustomerId", "INTEGER", v.serial),
                Column("FirstName", "NVARCHAR(40)", v.first, NAME),
                Column("LastName", "NVARCHAR(20)", v.last, NAME),
                Column("Company", "NVARCHAR(80)", v.sometimes(0.17, v.pick(companies))),
                *person,
                Column("SupportRepId", "INTEGER", v.pick([3, 4, 5])),
            ],
            ("CustomerId",),
            [("SupportRepId", "Employee", "EmployeeId")],
        ),
        Table(
            "Invoice",
            412,
            [
                Column("InvoiceId", "INTEGER", v.serial),
                Column("CustomerId", "INTEGER", v.key(59)),
                Column("InvoiceDate", "DATETIME", v.moment(2009, 2013, midnight=True)),
                Column("BillingAddress", "NVARCHAR(70)", v.street, POSTAL),
                Column("BillingCity", "NVARCHAR(40)", v.place(0), POSTAL),
                Column("BillingState", "NVARCHAR(40)", v.place(1)),
                Column("BillingCountry", "NVARCHAR(40)", v.place(2)),
                Column("BillingPostalCode", "NVARCHAR(10)", v.sometimes(0.93, v.place(3)), POSTAL),
                Column("Total", "NUMERIC(10,2)", v.money(0.99, 25.86)),
            ],
            ("InvoiceId",),
            [("CustomerId", "Customer", "CustomerId")],
        ),
        Table(
            "InvoiceLine",
            2240,
            [
                Column("InvoiceLineId", "INTEGER", v.serial),
                Column("InvoiceId", "INTEGER", v.key(412)),
                Column("TrackId", "INTEGER", v.key(3503)),
                Column("UnitPrice", "NUMERIC(10,2)", v.pick(["0.99", "1.99"])),
                Column("Quantity", "INTEGER", v.pick([1])),
            ],
            ("InvoiceLineId",),
            [("InvoiceId", "Invoice", "InvoiceId"), ("TrackId", "Track", "TrackId")],
        ),
    ]
