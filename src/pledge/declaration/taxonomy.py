"""The built-in vocabularies: data categories, common purposes, Art. 8 ages, country lists.

They live as YAML data files in ``data/`` so that they can be read and reviewed as data.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True, slots=True)
class Category:
    """A kind of data, e.g. ``contact.email``: personal unless marked otherwise."""

    key: str
    label: str
    description: str
    personal: bool = True
    sensitive: bool = False

    @property
    def parent(self) -> str | None:
        """The enclosing category's key, or None for a root."""
        return self.key.rpartition(".")[0] or None


@dataclass(frozen=True, slots=True)
class PurposeTemplate:
    """A purpose of the built-in vocabulary that declarations may use by key."""

    key: str
    label: str
    description: str
    sale_or_sharing: bool = False
    targeted_advertising: bool = False
    direct_marketing: bool = False


class Taxonomy(Mapping[str, Category]):
    """A hierarchy of data categories keyed by dotted names.

    A category covers itself and everything below it: ``contact`` covers ``contact.email``.
    """

    def __init__(self, categories: Iterable[Category]) -> None:
        self._categories = {category.key: category for category in categories}

    def __getitem__(self, key: str) -> Category:
        return self._categories[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._categories)

    def __len__(self) -> int:
        return len(self._categories)

    def extended(self, additions: Iterable[Category]) -> Taxonomy:
        """A new taxonomy with ``additions`` added (or replacing built-ins of the same key)."""
        return Taxonomy([*self._categories.values(), *additions])

    def lineage(self, key: str) -> Iterator[str]:
        """``key`` and every ancestor: ``a.b.c``, ``a.b``, ``a``."""
        while key:
            yield key
            key = key.rpartition(".")[0]

    def covers(self, ancestor: str, key: str) -> bool:
        """Whether ``ancestor`` is ``key`` itself or one of its ancestors."""
        return key == ancestor or key.startswith(ancestor + ".")

    def is_sensitive(self, key: str) -> bool:
        """Whether ``key`` or any ancestor is a special category (GDPR Art. 9/10)."""
        return any(k in self and self[k].sensitive for k in self.lineage(key))

    def is_personal(self, key: str) -> bool:
        """Whether ``key`` is personal data (its own flag, else its nearest ancestor's)."""
        for k in self.lineage(key):
            if k in self:
                return self[k].personal
        return True

    def label(self, key: str) -> str:
        """The human label of ``key``, or the key itself when unknown."""
        return self[key].label if key in self else key


def _data(name: str) -> Any:
    text = resources.files("pledge.declaration").joinpath("data", name).read_text("utf-8")
    return yaml.safe_load(text)


@cache
def builtin_taxonomy() -> Taxonomy:
    """The built-in taxonomy of data categories."""
    return Taxonomy(Category(key=key, **spec) for key, spec in _data("categories.yaml").items())


@cache
def builtin_purposes() -> dict[str, PurposeTemplate]:
    """The built-in vocabulary of common purposes, by key."""
    return {key: PurposeTemplate(key=key, **spec) for key, spec in _data("purposes.yaml").items()}


@cache
def consent_ages() -> dict[str, int]:
    """GDPR Art. 8 age of digital consent per country (ISO 3166-1 alpha-2)."""
    return {str(country): int(age) for country, age in _data("consent_ages.yaml").items()}


DEFAULT_CONSENT_AGE = 16
"""GDPR Art. 8(1): sixteen, unless a member state sets a lower age (not below 13)."""


@cache
def country_codes() -> frozenset[str]:
    """Every ISO 3166-1 alpha-2 country code."""
    return frozenset(_data("countries.yaml")["iso3166"])


@cache
def eea_countries() -> frozenset[str]:
    """The European Economic Area: the EU member states plus Iceland, Liechtenstein, Norway."""
    return frozenset(_data("countries.yaml")["eea"])


@cache
def adequate_countries() -> frozenset[str]:
    """Countries with a European Commission adequacy decision (GDPR Art. 45)."""
    return frozenset(_data("countries.yaml")["adequacy"])


def is_transfer(from_country: str, to_country: str) -> bool:
    """Whether sending data from one country to another is an international transfer.

    Within the EEA data moves freely (GDPR Art. 1(3)); elsewhere any other country counts.
    """
    if from_country == to_country:
        return False
    eea = eea_countries()
    return not (from_country in eea and to_country in eea)
