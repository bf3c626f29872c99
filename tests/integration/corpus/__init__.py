"""The acceptance corpus of datastore requests: schema shapes real companies have.

Each module is one shape of schema (staff references, shared addresses, self-references,
composite keys, names with spaces…), created on SQLite, PostgreSQL and MariaDB, seeded with a
person and their neighbours, and annotated in a declaration. What the person's rows are is
written here by hand, in SQL that knows the schema (``harness``): never taken from Pledge. The
tests then ask Pledge for the person's data or its erasure and compare; the procedure they
share (``driver.access``, ``driver.erase``, ``driver.assert_refused``) leaves each module to
state what is particular to its shape.

What the corpus does not cover: rectification and portability; more than one datastore per
declaration; connection failures and retries (see ``tests/integration/test_execution.py``).
"""

import pytest

# The procedure every test follows asserts in these modules: pytest shows the values there too.
pytest.register_assert_rewrite(
    "tests.integration.corpus.driver", "tests.integration.corpus.harness"
)
