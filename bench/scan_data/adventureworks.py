"""AdventureWorks: Microsoft's sample of a bicycle maker, its ``Person`` schema and photos.

People, their e-mail addresses, phone numbers and addresses in separate tables joined by
``BusinessEntityID``; integer keys whose names say what they point to (``EmailAddressID``,
``AddressID``, ``PhoneNumberTypeID``), a ``rowguid`` (``UNIQUEIDENTIFIER``, read by SQLite as
a number) and a ``ModifiedDate`` in every table, ``EmailPromotion`` (0, 1 or 2: a preference,
not an address), and product photos that are not photos of people.
"""

from __future__ import annotations

from .values import EMAIL, NAME, PHONE, POSTAL, Column, Table, Values

PEOPLE = 3_000


def tables(v: Values) -> list[Table]:
    """The tables, in the order they refer to each other."""
    rowguid = Column("rowguid", "UNIQUEIDENTIFIER", v.guid)
    modified = Column("ModifiedDate", "DATETIME", v.moment(2006, 2014, midnight=True))
    entity = Column("BusinessEntityID", "INT", v.serial)
    return [
        Table("BusinessEntity", PEOPLE, [entity, rowguid, modified], ("BusinessEntityID",)),
        Table(
            "Person",
            PEOPLE,
            [
                entity,
                Column("PersonType", "NCHAR(2)", v.pick(["IN", "IN", "IN", "EM", "SC", "VC"])),
                Column("NameStyle", "BIT", v.pick([0])),
                Column("Title", "NVARCHAR(8)", v.sometimes(0.05, v.pick(["Mr.", "Ms."]))),
                Column("FirstName", "NVARCHAR(50)", v.first, NAME),
                Column("MiddleName", "NVARCHAR(50)", v.sometimes(0.6, v.pick("ABCDJLMS")), NAME),
                Column("LastName", "NVARCHAR(50)", v.last, NAME),
                Column("Suffix", "NVARCHAR(10)", v.sometimes(0.01, v.pick(["Jr.", "II"]))),
                Column("EmailPromotion", "INT", v.pick([0, 0, 1, 2])),
                rowguid,
                modified,
            ],
            ("BusinessEntityID",),
            [("BusinessEntityID", "BusinessEntity", "BusinessEntityID")],
        ),
        Table(
            "EmailAddress",
            PEOPLE,
            [
                entity,
                Column("EmailAddressID", "INT", v.serial),
                Column(
                    "EmailAddress",
                    "NVARCHAR(50)",
                    v.email(["adventure-works.com"], "{f}{d}"),
                    EMAIL,
                ),
                rowguid,
                modified,
            ],
            ("BusinessEntityID", "EmailAddressID"),
            [("BusinessEntityID", "Person", "BusinessEntityID")],
        ),
        Table(
            "PhoneNumberType",
            3,
            [
                Column("PhoneNumberTypeID", "INT", v.serial),
                Column("Name", "NVARCHAR(50)", lambda n: ["Cell", "Home", "Work"][n]),
                modified,
            ],
            ("PhoneNumberTypeID",),
        ),
        Table(
            "PersonPhone",
            PEOPLE,
            [
                entity,
                Column(
                    "PhoneNumber",
                    "NVARCHAR(25)",
                    v.pick_digits(["###-555-01##", "1 (11) 500 555-01##"]),
                    PHONE,
                ),
                Column("PhoneNumberTypeID", "INT", v.key(3)),
                modified,
            ],
            ("BusinessEntityID", "PhoneNumber", "PhoneNumberTypeID"),
            [
                ("BusinessEntityID", "Person", "BusinessEntityID"),
                ("PhoneNumberTypeID", "PhoneNumberType", "PhoneNumberTypeID"),
            ],
        ),
        Table(
            "StateProvince",
            20,
            [
                Column("StateProvinceID", "INT", v.serial),
                Column("StateProvinceCode", "NCHAR(3)", v.pick(["WA", "CA", "BC", "NSW", "HH"])),
                Column("CountryRegionCode", "NVARCHAR(3)", v.pick(["US", "CA", "AU", "DE"])),
                Column("Name", "NVARCHAR(50)", v.pick(["Washington", "California", "Hamburg"])),
                rowguid,
                modified,
            ],
            ("StateProvinceID",),
        ),
        Table(
            "Address",
            PEOPLE,
            [
                Column("AddressID", "INT", v.serial),
                Column("AddressLine1", "NVARCHAR(60)", v.street, POSTAL),
                Column(
                    "AddressLine2",
                    "NVARCHAR(60)",
                    v.sometimes(0.02, v.pick(["# 14", "Suite 2"])),
                    POSTAL,
                ),
                Column("City", "NVARCHAR(30)", v.place(0), POSTAL),
                Column("StateProvinceID", "INT", v.key(20)),
                Column("PostalCode", "NVARCHAR(15)", v.place(3), POSTAL),
                rowguid,
                modified,
            ],
            ("AddressID",),
            [("StateProvinceID", "StateProvince", "StateProvinceID")],
        ),
        Table(
            "AddressType",
            6,
            [
                Column("AddressTypeID", "INT", v.serial),
                Column(
                    "Name",
                    "NVARCHAR(50)",
                    lambda n: ["Billing", "Home", "Main Office", "Primary", "Shipping", "Archive"][
                        n
                    ],
                ),
                rowguid,
                modified,
            ],
            ("AddressTypeID",),
        ),
        Table(
            "BusinessEntityAddress",
            PEOPLE,
            [
                entity,
                Column("AddressID", "INT", v.serial),
                Column("AddressTypeID", "INT", v.key(6)),
                rowguid,
                modified,
            ],
            ("BusinessEntityID", "AddressID", "AddressTypeID"),
            [
                ("BusinessEntityID", "BusinessEntity", "BusinessEntityID"),
                ("AddressID", "Address", "AddressID"),
                ("AddressTypeID", "AddressType", "AddressTypeID"),
            ],
        ),
        Table(
            "ProductPhoto",
            101,
            [
                Column("ProductPhotoID", "INT", v.serial),
                Column("ThumbNailPhoto", "VARBINARY", v.image),
                Column(
                    "ThumbnailPhotoFileName", "NVARCHAR(50)", v.pick(["racer02_black_f_small.gif"])
                ),
                Column("LargePhoto", "VARBINARY", v.image),
                Column("LargePhotoFileName", "NVARCHAR(50)", v.pick(["racer02_black_f_large.gif"])),
                modified,
            ],
            ("ProductPhotoID",),
        ),
    ]
