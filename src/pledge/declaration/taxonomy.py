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
    """A kind of data, e.g. ``contact.email``: personal unless marked otherwise.

    ``sensitive`` marks the special categories of GDPR Art. 9 and criminal-offence data
    (Art. 10); ``ccpa_sensitive`` marks sensitive personal information as CCPA 1798.140(ae)
    defines it. The two lists overlap but differ: political opinions and criminal-offence data
    are only the first, government identifiers and precise geolocation only the second.
    """

    key: str
    label: str
    description: str
    personal: bool = True
    sensitive: bool = False
    ccpa_sensitive: bool = False

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


CRIMINAL_ROOT = "criminal"
"""The root of criminal-offence data (GDPR Art. 10); the other sensitive categories are the
special categories of Art. 9."""


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

    def is_special(self, key: str) -> bool:
        """Whether processing ``key`` processes a special category of data (GDPR Art. 9).

        True when ``key``, a category above it or one below it (which ``key`` covers) is
        marked ``sensitive``, outside the criminal-offence data under ``criminal``.
        """
        return not self.is_criminal(key) and self._touches(key, "sensitive")

    def is_criminal(self, key: str) -> bool:
        """Whether ``key`` is criminal-offence data (GDPR Art. 10): ``criminal`` or below it."""
        return key.partition(".")[0] == CRIMINAL_ROOT and self.is_sensitive(key)

    def is_ccpa_sensitive(self, key: str) -> bool:
        """Whether processing ``key`` processes sensitive personal information (CCPA
        1798.140(ae)): ``key``, a category above it or one below it is ``ccpa_sensitive``."""
        return self._touches(key, "ccpa_sensitive")

    def _touches(self, key: str, flag: str) -> bool:
        if any(k in self and getattr(self[k], flag) for k in self.lineage(key)):
            return True
        below = key + "."
        return any(
            getattr(category, flag) and name.startswith(below)
            for name, category in self._categories.items()
        )

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
