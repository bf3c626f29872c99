"""Lint rules D7xx: the company's datastores, as annotated in the declaration.

These rules read the annotations only; ``pledge datastores check`` compares them with the
real databases.
"""

from __future__ import annotations

from collections.abc import Iterator

from pledge.declaration.findings import Severity
from pledge.declaration.lint.registry import Issue, rule
from pledge.declaration.model import (
    ColumnAnnotation,
    Declaration,
    ErasureStrategy,
    IdentityKind,
    TableAnnotation,
)


def _personal(d: Declaration, table: TableAnnotation) -> dict[str, ColumnAnnotation]:
    return {
        name: column
        for name, column in table.columns.items()
        if d.taxonomy.is_personal(column.category)
    }


@rule("D701", "identity-missing")
def _identity_missing(d: Declaration) -> Iterator[Issue]:
    """A datastore with personal data marks at least one identity column.

    Requests start from who the person is (an e-mail address, a phone number, an account or
    device id) and follow relations from the identity columns to every table; without one,
    nothing in the datastore can be found, copied, corrected or erased (GDPR Art. 15-17).
    """
    for name, store in d.datastores.items():
        tables = store.tables.values()
        personal = any(_personal(d, table) for table in tables)
        identified = any(
            column.identity is not None for table in tables for column in table.columns.values()
        )
        if personal and not identified:
            yield (
                ("datastores", name),
                f"datastore '{name}' holds personal data but marks no identity column:"
                " requests cannot find anyone in it",
            )


@rule("D702", "erasure-missing")
def _erasure_missing(d: Declaration) -> Iterator[Issue]:
    """A table with personal columns says how it forgets a person.

    GDPR Art. 17: erasure must reach every table holding the person's data. Pledge deletes
    the rows or rewrites columns as the table's ``erasure`` says; without it, an erasure
    request would leave the table untouched.
    """
    for name, store in d.datastores.items():
        for table_name, table in store.tables.items():
            if table.erasure is None and _personal(d, table):
                yield (
                    ("datastores", name, "tables", table_name),
                    f"table '{table_name}' holds personal data but has no erasure strategy",
                )


@rule("D703", "personal-column-kept", Severity.WARNING)
def _personal_column_kept(d: Declaration) -> Iterator[Issue]:
    """A table erased by rewriting rewrites every personal column.

    A personal column that a rewrite leaves alone survives the erasure (GDPR Art. 17). The
    account id that other rows still refer to is the exception: it identifies no one once
    everything else is rewritten.
    """
    for name, store in d.datastores.items():
        for table_name, table in store.tables.items():
            erasure = table.erasure
            if erasure is None or erasure.strategy is not ErasureStrategy.REWRITE:
                continue
            rewritten = erasure.rewrite or {}
            for column, annotation in _personal(d, table).items():
                if column not in rewritten and annotation.identity is not IdentityKind.ACCOUNT:
                    yield (
                        ("datastores", name, "tables", table_name, "columns", column),
                        f"'{table_name}.{column}' ({annotation.category}) is kept when a person"
                        " is erased: rewrite it too",
                    )


@rule("D704", "stored-category-unused", Severity.WARNING)
def _stored_category_unused(d: Declaration) -> Iterator[Issue]:
    """Every personal category a datastore holds is used by a declared purpose.

    Data kept for no declared purpose breaks purpose limitation and storage limitation
    (GDPR Art. 5(1)(b), (e)), and the policy does not tell people about it (Art. 13(1)(c)).
    Each category is reported once per datastore, where it first appears.
    """
    for name, store in d.datastores.items():
        reported: set[str] = set()
        for table_name, table in store.tables.items():
            for column, annotation in _personal(d, table).items():
                category = annotation.category
                if category not in reported and not d.purposes_using(category):
                    reported.add(category)
                    yield (
                        ("datastores", name, "tables", table_name, "columns", column, "category"),
                        f"'{table_name}.{column}' holds '{category}', which no purpose uses:"
                        " declare why it is kept, or stop keeping it",
                    )
