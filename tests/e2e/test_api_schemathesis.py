"""Schemathesis against the OpenAPI document: generated requests never get a server error.

Every operation is called with generated valid and invalid requests, at most
``MAX_EXAMPLES`` of each kind per operation so that the run stays well under a minute,
authenticated with an admin key on a real store seeded with a subject, once on SQLite and
once on PostgreSQL (whose integer columns refuse what SQLite's take). Only
``not_a_server_error`` decides: a 5xx fails the test. (Schemathesis' pytest plugin cannot
load a schema from a fixture under pytest 9, so the test drives each operation's Hypothesis
strategy itself.)
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from tests.backends import BACKENDS, empty_postgres
from tests.e2e.api_support import API, client, key, runtime

from pledge.app import Runtime
from pledge.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # schemathesis imports modules that announce deprecations
    import schemathesis
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error

MAX_EXAMPLES = 25


Seeded = tuple[Runtime, dict[str, str], str]


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    """A runtime with one subject who granted the newsletter, admin headers, the subject."""
    changes: dict[str, Any] = {"public_rate_limit": 1_000_000}
    if request.param == "postgresql":
        store = empty_postgres(request.getfixturevalue("postgres_url"))
        changes["database_url"] = store.url.render_as_string(hide_password=False)
        store.dispose()
    built = runtime(tmp_path_factory.mktemp("schemathesis"), **changes)
    headers = key(built, "admin")
    api = client(built)
    body = {"identities": [{"kind": "email", "value": "ann@example.com"}]}
    subject = api.post(f"{API}/subjects", json=body, headers=headers).json()["id"]
    api.post(
        f"{API}/subjects/{subject}/consent",
        json={"purpose": "newsletter", "decision": "granted"},
        headers=headers,
    )
    yield built, headers, subject
    built.close()


@pytest.fixture(scope="module")
def api_schema(seeded: Seeded) -> Any:
    """The API's schema, loaded from its own OpenAPI document."""
    built, _, _ = seeded
    return schemathesis.openapi.from_asgi(f"{API}/openapi.json", create_app(built))


def aim(case: Any, subject: str) -> None:
    """Point a valid case at the seeded subject, so that it gets past "no such subject".

    Erasure is left to its generated ids: erasing the seeded subject would turn every later
    case into a 404.
    """
    if case.method.upper() == "DELETE":
        return
    if case.path_parameters and "subject_id" in case.path_parameters:
        case.path_parameters["subject_id"] = subject
    if isinstance(case.body, dict) and "subject_id" in case.body:
        case.body["subject_id"] = subject


def exercise(operation: Any, mode: Any, headers: dict[str, str], subject: str) -> None:
    """Call ``operation`` with up to ``MAX_EXAMPLES`` generated cases of ``mode``.

    Raises:
        AssertionError: a case got a server error (Hypothesis reports the smallest one).
    """

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        phases=[Phase.explicit, Phase.generate],
    )
    def call(case: Any) -> None:
        if mode is GenerationMode.POSITIVE:
            aim(case, subject)
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    call()


def test_no_generated_request_gets_a_server_error(api_schema: Any, seeded: Seeded) -> None:
    """Whatever is sent to whichever operation, the answer is never a 5xx."""
    _, headers, subject = seeded
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 13
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                exercise(operation, mode, headers, subject)
            except Exception as error:  # collected, so that one run reports every operation
                failures.append(f"{operation.label} ({mode.value}): {error}")
    assert not failures, "\n\n".join(failures)
