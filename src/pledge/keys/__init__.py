"""API keys: how the company's servers authenticate to the JSON API (see :mod:`.service`)."""

from pledge.keys.service import (
    ApiKey,
    KeyCache,
    Scope,
    authenticate,
    create,
    list_keys,
    parse_scopes,
    revoke,
)

__all__ = [
    "ApiKey",
    "KeyCache",
    "Scope",
    "authenticate",
    "create",
    "list_keys",
    "parse_scopes",
    "revoke",
]
