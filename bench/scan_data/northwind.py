"""Northwind: Microsoft's sample of a food trading company, in its SQLite port.

Plural CamelCase tables, one of them with a space (``Order Details``), customers that are
companies with a ``ContactName`` and ``ContactTitle``, five-letter text keys (``ALFKI``),
employees with ``BirthDate``, ``HireDate``, ``HomePhone``, ``Extension``, a ``Photo`` blob,
``Notes`` about them and a ``PhotoPath``, shippers with a company's phone, and categories
with a picture. ``Suppliers`` is spelt as in Northwind 2007's Access template: column names
with spaces and slashes (``E-mail Address``, ``Business Phone``, ``ZIP/Postal Code``).
"""

from __future__ import annotations

from .values import BIRTH, EMAIL, NAME, NOTES, PHONE, PHOTO, POSTAL, TITLES, Column, Table, Values


def tables(v: Values) -> list[Table]:
    """The tables, in the order they refer to each other."""
    customers = v.codes(91)
    city, region, country = v.place(0), v.place(1), v.place(2)
    postal, phone = v.place(3), v.place(5)
    return [
        Table(
            "Categories",
            8,
            [
                Column("CategoryID", "INTEGER", v.serial),
                Column("CategoryName", "NVARCHAR(15)", v.pick(["Beverages", "Condiments"])),
                Column("Description", "NTEXT", v.pick(["Soft drinks, coffees, teas, beers"])),
                Column("Picture", "BLOB", v.image),
            ],
            ("CategoryID",),
        ),
        Table(
            "Suppliers",
            29,
            [
                Column("ID", "INTEGER", v.serial),
                Column("Company", "VARCHAR(50)", v.company),
                Column("Last Name", "VARCHAR(50)", v.last, NAME),
                Column("First Name", "VARCHAR(50)", v.first, NAME),
                Column(
                    "E-mail Address", "VARCHAR(50)", v.email(["northwind.example"], "{f}"), EMAIL
                ),
                Column("Job Title", "VARCHAR(50)", v.pick(TITLES)),
                Column("Business Phone", "VARCHAR(25)", phone, PHONE),
                Column("Fax Number", "VARCHAR(25)", v.sometimes(0.5, phone), PHONE),
                Column("Address", "TEXT", v.street, POSTAL),
                Column("City", "VARCHAR(50)", city, POSTAL),
                Column("State/Province", "VARCHAR(50)", region),
                Column("ZIP/Postal Code", "VARCHAR(15)", postal, POSTAL),
                Column("Country/Region", "VARCHAR(50)", country),
                Column("Web Page", "TEXT", v.pick(["https://www.exotic-liquids.example/"])),
                Column("Notes", "TEXT", v.sometimes(0.5, v.supplier_note)),
            ],
            ("ID",),
        ),
        Table(
            "Products",
            77,
            [
                Column("ProductID", "INTEGER", v.serial),
                Column("ProductName", "NVARCHAR(40)", v.words(1, 3)),
                Column("SupplierID", "INTEGER", v.key(29)),
                Column("CategoryID", "INTEGER", v.key(8)),
                Column(
                    "QuantityPerUnit",
                    "NVARCHAR(20)",
                    v.pick(["10 boxes x 20 bags", "24 - 12 oz bottles"]),
                ),
                Column("UnitPrice", "MONEY", v.money(2.5, 263.5)),
                Column("UnitsInStock", "SMALLINT", lambda n: v.random.randint(0, 125)),
                Column("UnitsOnOrder", "SMALLINT", v.pick([0, 0, 10, 40, 70])),
                Column("ReorderLevel", "SMALLINT", v.pick([0, 5, 10, 25])),
                Column("Discontinued", "BIT", v.pick([0, 0, 0, 1])),
            ],
            ("ProductID",),
            [("SupplierID", "Suppliers", "ID"), ("CategoryID", "Categories", "CategoryID")],
        ),
        Table(
            "Shippers",
            3,
            [
                Column("ShipperID", "INTEGER", v.serial),
                Column("CompanyName", "NVARCHAR(40)", v.pick(["Speedy Express", "United Package"])),
                Column("Phone", "NVARCHAR(24)", v.digits("(503) 555-####")),
            ],
            ("ShipperID",),
        ),
        Table(
            "Customers",
            91,
            [
                Column("CustomerID", "NCHAR(5)", lambda n: customers[n]),
                Column("CompanyName", "NVARCHAR(40)", v.company),
                Column("ContactName", "NVARCHAR(30)", v.full, NAME),
                Column("ContactTitle", "NVARCHAR(30)", v.pick(TITLES)),
                Column("Address", "NVARCHAR(60)", v.street, POSTAL),
                Column("City", "NVARCHAR(15)", city, POSTAL),
                Column("Region", "NVARCHAR(15)", region),
                Column("PostalCode", "NVARCHAR(10)", v.sometimes(0.97, postal), POSTAL),
                Column("Country", "NVARCHAR(15)", country),
                Column("Phone", "NVARCHAR(24)", phone, PHONE),
                Column("Fax", "NVARCHAR(24)", v.sometimes(0.6, phone), PHONE),
            ],
            ("CustomerID",),
        ),
        Table(
            "Employees",
            9,
            [
                Column("EmployeeID", "INTEGER", v.serial),
                Column("LastName", "NVARCHAR(20)", v.last, NAME),
                Column("FirstName", "NVARCHAR(10)", v.first, NAME),
                Column("Title", "NVARCHAR(30)", v.pick(TITLES)),
                Column("TitleOfCourtesy", "NVARCHAR(25)", v.pick(["Ms.", "Mrs.", "Mr.", "Dr."])),
                Column("BirthDate", "DATETIME", v.moment(1937, 1966, midnight=True), BIRTH),
                Column("HireDate", "DATETIME", v.moment(1992, 1994, midnight=True)),
                Column("Address", "NVARCHAR(60)", v.street, POSTAL),
                Column("City", "NVARCHAR(15)", city, POSTAL),
                Column("Region", "NVARCHAR(15)", region),
                Column("PostalCode", "NVARCHAR(10)", postal, POSTAL),
                Column("Country", "NVARCHAR(15)", country),
                Column("HomePhone", "NVARCHAR(24)", phone, PHONE),
                Column("Extension", "NVARCHAR(4)", v.digits("####")),
                Column("Photo", "BLOB", v.image, PHOTO),
                Column("Notes", "NTEXT", v.note_on_employee, NOTES),
                Column("ReportsTo", "INTEGER", lambda n: None if n == 1 else 2),
                Column("PhotoPath", "NVARCHAR(255)", v.photo_path, PHOTO),
            ],
            ("EmployeeID",),
            [("ReportsTo", "Employees", "EmployeeID")],
        ),
        Table(
            "Orders",
            830,
            [
                Column("OrderID", "INTEGER", lambda n: 10248 + n),
                Column("CustomerID", "NCHAR(5)", v.pick(customers)),
                Column("EmployeeID", "INTEGER", v.key(9)),
                Column("OrderDate", "DATETIME", v.moment(1996, 1998, midnight=True)),
                Column("RequiredDate", "DATETIME", v.moment(1996, 1998, midnight=True)),
                Column(
                    "ShippedDate",
                    "DATETIME",
                    v.sometimes(0.97, v.moment(1996, 1998, midnight=True)),
                ),
                Column("ShipVia", "INTEGER", v.key(3)),
                Column("Freight", "MONEY", v.money(0.02, 1007.64)),
                Column("ShipName", "NVARCHAR(40)", v.company),
                Column("ShipAddress", "NVARCHAR(60)", v.street, POSTAL),
                Column("ShipCity", "NVARCHAR(15)", city, POSTAL),
                Column("ShipRegion", "NVARCHAR(15)", region),
                Column("ShipPostalCode", "NVARCHAR(10)", v.sometimes(0.97, postal), POSTAL),
                Column("ShipCountry", "NVARCHAR(15)", country),
            ],
            ("OrderID",),
            [
                ("CustomerID", "Customers", "CustomerID"),
                ("EmployeeID", "Employees", "EmployeeID"),
                ("ShipVia", "Shippers", "ShipperID"),
            ],
        ),
        Table(
            "Order Details",
            2155,
            [
                Column("OrderID", "INTEGER", lambda n: 10248 + n * 830 // 2155),
                Column("ProductID", "INTEGER", lambda n: 1 + n % 77),
                Column("UnitPrice", "MONEY", v.money(2, 263.5)),
                Column("Quantity", "SMALLINT", lambda n: v.random.randint(1, 130)),
                Column("Discount", "REAL", v.pick([0.0, 0.05, 0.1, 0.25])),
            ],
            ("OrderID", "ProductID"),
            [("OrderID", "Orders", "OrderID"), ("ProductID", "Products", "ProductID")],
        ),
    ]
