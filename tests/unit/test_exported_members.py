"""The public API of the package: exactly what the SDK promises, and all of it importable."""

from __future__ import annotations

import pledge


def test_the_package_exports_exactly_the_public_api() -> None:
    """Adding or removing a public name is a decision, made here on purpose."""
    assert pledge.__all__ == [
        "AuthError",
        "ConfigError",
        "ConsentError",
        "DatastoreError",
        "Decision",
        "Declaration",
        "DeclarationError",
        "DurationError",
        "Finding",
        "InvalidIdentity",
        "KeyDestroyed",
        "NotFound",
        "PlanRefused",
        "Pledge",
        "PledgeError",
        "ProcessingDenied",
        "RequestError",
        "SchemaDrift",
        "Severity",
        "SourceError",
        "StoreUnavailable",
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


def test_every_error_pledge_raises_on_purpose_is_a_pledge_error() -> None:
    """One exception tree: every exception class of the package (outside the web layer's own
    plumbing) derives from PledgeError, and each is exported from ``pledge``."""
    import inspect
    import pkgutil
    from importlib import import_module

    found: set[type[BaseException]] = set()
    for module in pkgutil.walk_packages(pledge.__path__, "pledge."):
        if module.name.startswith(("pledge.web", "pledge.store.migrations")):
            continue
        for _, member in inspect.getmembers(import_module(module.name), inspect.isclass):
            if issubclass(member, BaseException) and member.__module__.startswith("pledge."):
                found.add(member)
    outside = sorted(cls.__qualname__ for cls in found if not issubclass(cls, pledge.PledgeError))
    # Control flow caught where it is raised, never seen by a caller: Retry (a runner's job
    # to try later), Malformed (a row `pledge verify` names as a finding).
    assert set(outside) <= {"Malformed", "Retry"}
    public = {getattr(pledge, name) for name in pledge.__all__}
    # Raised to one part of Pledge only, never to a caller of the SDK or the API: a runner's
    # lost claim, the sign-in refusals the pages turn into their own messages.
    internal = {"LeaseLost", "SignInRefused", "CodeRefused"}
    assert {cls for cls in found if cls.__qualname__ not in internal} - {
        cls for cls in found if cls.__qualname__ in outside
    } <= public


def test_an_sdk_user_script_type_checks_strictly(tmp_path: object) -> None:
    """The package ships py.typed: a user's `mypy --strict` sees Pledge's types."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(str(tmp_path)) / "app.py"
    script.write_text(
        "from pledge import Pledge, ProcessingDenied, PledgeError\n"
        "\n"
        "\n"
        "def newsletter_allowed(pledge: Pledge, email: str) -> bool:\n"
        "    ann = pledge.subject(email=email)\n"
        "    try:\n"
        "        with pledge.processing(ann, 'newsletter', ['contact.email']):\n"
        "            return True\n"
        "    except ProcessingDenied:\n"
        "        return False\n"
        "    except PledgeError:\n"
        "        raise\n",
        encoding="utf-8",
    )
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(script)],
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
