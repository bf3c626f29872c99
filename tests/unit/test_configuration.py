"""Settings: every one documented, unsafe keys refused outside development."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import pytest

from pledge.config import Settings, decode_key, generate_key
from pledge.errors import ConfigError

DOC = Path(__file__).parents[2] / "docs" / "configuration.md"


def test_every_setting_read_from_the_environment_is_documented() -> None:
    """Each PLEDGE_* variable the settings read appears in docs/configuration.md."""
    source = (Path(__file__).parents[2] / "src" / "pledge" / "config.py").read_text()
    variables = set(re.findall(r"PLEDGE_[A-Z_]+", source))
    documented = DOC.read_text()
    assert variables, "the settings read no PLEDGE_* variable?"
    assert [name for name in sorted(variables) if f"`{name}`" not in documented] == []


def test_production_refuses_to_start_without_a_key() -> None:
    """PLEDGE_ENV=production and no key: a clear error, not a generated key."""
    settings = Settings.from_env({"PLEDGE_ENV": "production"})
    with pytest.raises(ConfigError, match="no secret key"):
        settings.with_secret({"PLEDGE_ENV": "production"})


@pytest.mark.parametrize("placeholder", ["changeme", "secret", "", "CHANGEME"])
def test_placeholder_keys_are_refused(placeholder: str) -> None:
    """A placeholder is never a key, in any mode."""
    with pytest.raises(ConfigError, match="placeholder"):
        decode_key(placeholder)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not base64 at all!", "base64"),
        (base64.urlsafe_b64encode(b"x" * 16).decode(), "32 bytes"),
        (base64.urlsafe_b64encode(b"\0" * 32).decode(), "not random"),
    ],
)
def test_unusable_keys_are_refused_with_the_reason(text: str, reason: str) -> None:
    """Short, non-base64 or constant keys are refused, saying why."""
    with pytest.raises(ConfigError, match=reason):
        decode_key(text)


def _production(key: bytes) -> dict[str, str]:
    return {"PLEDGE_ENV": "production", "PLEDGE_SECRET_KEY": base64.b64encode(key).decode()}


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(bytes(range(32)), id="counting-up"),
        pytest.param(bytes(range(31, -1, -1)), id="counting-down"),
        pytest.param(bytes(range(100, 164, 2)), id="counting-in-twos"),
        pytest.param(bytes(range(250, 256)) + bytes(range(26)), id="counting-round-255"),
        pytest.param(bytes([0x5A]) * 32, id="one-byte"),
        pytest.param(bytes(range(16)) * 2, id="counting-twice"),
        pytest.param(b"\x8f\x12\xe4\x03" * 8, id="four-bytes-repeated"),
        pytest.param(bytes.fromhex("8f12e403a7c95b66d0e1f2a4b3c5d7e9") * 2, id="half-repeated"),
        pytest.param(b"correct horse battery staple!!!!", id="text"),
        pytest.param(b"9f86d081884c7d659a2feaa0c55ad015", id="hex-digits"),
    ],
)
def test_a_patterned_production_key_is_refused_saying_how_to_make_one(key: bytes) -> None:
    """A key anyone could guess from its pattern does not start production."""
    env = _production(key)
    with pytest.raises(ConfigError, match="not random") as refused:
        Settings.from_env(env).with_secret(env)
    assert "pledge key generate" in str(refused.value)
    assert base64.b64encode(key).decode() not in str(refused.value)


def test_random_keys_are_never_refused() -> None:
    """Twenty thousand keys from the operating system's generator all start production."""
    for _ in range(20_000):
        key = os.urandom(32)
        assert Settings.from_env(_production(key)).with_secret(_production(key)).secret_key == key


def test_a_generated_key_is_accepted() -> None:
    """`pledge key generate` output is a valid key."""
    assert len(decode_key(generate_key())) == 32


def test_development_mode_generates_a_key_once_and_says_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first start writes .pledge/secret.key and notes it; the second reuses it silently."""
    monkeypatch.chdir(tmp_path)
    first = Settings.from_env({}).with_secret({})
    assert any("secret.key" in note for note in first.notes)
    assert (tmp_path / ".pledge" / "secret.key").stat().st_mode & 0o777 == 0o600
    second = Settings.from_env({}).with_secret({})
    assert second.secret_key == first.secret_key and not second.notes


def test_a_key_file_is_read(tmp_path: Path) -> None:
    """PLEDGE_SECRET_KEY_FILE names a file holding the key."""
    key = generate_key()
    path = tmp_path / "key"
    path.write_text(key + "\n")
    env = {"PLEDGE_ENV": "production", "PLEDGE_SECRET_KEY_FILE": str(path)}
    assert Settings.from_env(env).with_secret(env).secret_key == decode_key(key)


def test_bad_numbers_and_environments_are_config_errors() -> None:
    """A typo in a setting is a ConfigError naming the variable."""
    with pytest.raises(ConfigError, match="PLEDGE_ENV"):
        Settings.from_env({"PLEDGE_ENV": "prod"})
    with pytest.raises(ConfigError, match="PLEDGE_DECISION_CACHE_SECONDS"):
        Settings.from_env({"PLEDGE_DECISION_CACHE_SECONDS": "soon"})
