"""The public API of the package: exactly what the SDK promises, and all of it importable."""

from __future__ import annotations

import pledge


def test_the_package_exports_exactly_the_public_api() -> None:
    """Adding or removing a public name is a decision, made here on purpose."""
    assert pledge.__all__ == [
        "Decision",
        "Declaration",
        "DeclarationError",
        "Finding",
        "Pledge",
        "PledgeError",
        "ProcessingDenied",
        "Severity",
        "UsageError",
        "__version__",
        "load",
        "loads",
    ]


def test_every_exported_name_is_importable() -> None:
    """Each name in __all__ is an attribute of the package (Pledge is loaded on first use)."""
    for name in pledge.__all__:
        assert getattr(pledge, name) is not None, name


def test_exported_classes_belong_to_pledge() -> None:
    """The exported classes are Pledge's own, not re-exports of a dependency."""
    for name in pledge.__all__:
        member = getattr(pledge, name)
        if isinstance(member, type):
            assert member.__module__.startswith("pledge."), name
