"""Settings, read from the environment (``PLEDGE_*``), in one typed place.

Outside development mode Pledge refuses to start without a real secret key: a missing key, a
placeholder such as ``changeme``, a key shorter than 32 bytes or one with a pattern anyone could
guess (a byte repeated, a counting sequence, a block repeated, text) is an error, not a
warning. Development mode (the default, ``PLEDGE_ENV=development``) generates a key once, keeps
it in ``.pledge/secret.key`` and says so.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from pledge.declaration import DEFAULT_FILE
from pledge.errors import ConfigError

STATE_DIR = Path(".pledge")
DEFAULT_DATABASE_URL = f"sqlite:///{STATE_DIR / 'pledge.db'}"
DEFAULT_KEY_FILE = STATE_DIR / "secret.key"
PLACEHOLDERS = frozenset({"", "changeme", "change-me", "secret", "placeholder", "xxx", "todo"})
ENVIRONMENTS = ("development", "production")


@dataclass(frozen=True)
class Settings:
    """Pledge's settings. Build them with :meth:`from_env`; tests pass values directly.

    Args:
        environment: ``development`` (defaults allowed) or ``production`` (no unsafe default).
        declaration: path of ``pledge.yaml`` (``PLEDGE_CONFIG``).
        database_url: SQLAlchemy URL of Pledge's own store (``PLEDGE_DATABASE_URL``).
        secret_key: the master key, 32 bytes (``PLEDGE_SECRET_KEY``, base64, or the file
            named by ``PLEDGE_SECRET_KEY_FILE``).
        decision_cache_seconds: how long a decision may use cached state; writes through the
            same process take effect at once, writes elsewhere within this time.
        api_key_cache_seconds: how long the API may rely on the keys it has checked; a key
            revoked by the same process stops working at once, one revoked elsewhere (another
            worker, ``pledge apikey revoke``) within this time; 0 checks every request.
        job_lease_seconds: how long a runner holds a job without renewing its claim
            (``PLEDGE_JOB_LEASE_SECONDS``); renewed every third of it while the job runs, so
            it is the time before another runner takes over the job of one that stopped.
        allowed_origins: origins the public browser endpoint accepts (``PLEDGE_ALLOWED_ORIGINS``).
        gpc_jurisdictions: where Global Privacy Control is honoured: ``*`` for everywhere, or
            codes such as ``US-CA`` (``PLEDGE_GPC_JURISDICTIONS``).
        public_rate_limit: requests per minute per client on the public endpoint.
        max_body_bytes: the largest request body the API reads.
        public_url: where people reach this Pledge (``PLEDGE_PUBLIC_URL``): the links in
            e-mails (privacy center, one-click unsubscribe) start with it.
        smtp_host: the SMTP server (``PLEDGE_SMTP_HOST``); empty keeps every e-mail in the
            outbox of the admin console instead (the development default).
        smtp_port: its port (``PLEDGE_SMTP_PORT``).
        smtp_user: the user to log in as, if the server needs it (``PLEDGE_SMTP_USER``).
        smtp_password: that user's password (``PLEDGE_SMTP_PASSWORD``).
        smtp_starttls: upgrade the connection with STARTTLS before logging in
            (``PLEDGE_SMTP_STARTTLS``).
        mail_from: the sender of Pledge's e-mails (``PLEDGE_MAIL_FROM``).
        staff_session_minutes: how long a staff session lasts at most
            (``PLEDGE_STAFF_SESSION_MINUTES``).
        staff_idle_minutes: a staff session ends after this long without a request
            (``PLEDGE_STAFF_IDLE_MINUTES``).
        person_session_minutes: how long a person stays signed in to the privacy center
            (``PLEDGE_PERSON_SESSION_MINUTES``).
        sign_in_rate_limit: sign-in and code attempts per minute per client
            (``PLEDGE_SIGN_IN_RATE_LIMIT``).
        notes: what the settings did on the way that a person should know (a generated key).
    """

    environment: str = "development"
    declaration: Path = Path(DEFAULT_FILE)
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: bytes = b""
    decision_cache_seconds: float = 1.0
    api_key_cache_seconds: float = 5.0
    job_lease_seconds: float = 300.0
    allowed_origins: tuple[str, ...] = ()
    gpc_jurisdictions: tuple[str, ...] = ("*",)
    public_rate_limit: int = 120
    max_body_bytes: int = 64 * 1024
    public_url: str = "http://127.0.0.1:8000"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_starttls: bool = True
    mail_from: str = "privacy@localhost"
    staff_session_minutes: float = 480.0
    staff_idle_minutes: float = 30.0
    person_session_minutes: float = 60.0
    sign_in_rate_limit: int = 10
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def development(self) -> bool:
        """Whether unsafe conveniences (a generated key) are allowed."""
        return self.environment == "development"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``PLEDGE_*`` variables; the key only when something asks for it."""
        env = os.environ if environ is None else environ
        environment = env.get("PLEDGE_ENV", "development")
        if environment not in ENVIRONMENTS:
            raise ConfigError(
                f"PLEDGE_ENV must be one of {', '.join(ENVIRONMENTS)}, not {environment!r}"
            )
        return cls(
            environment=environment,
            declaration=Path(env.get("PLEDGE_CONFIG") or DEFAULT_FILE),
            database_url=env.get("PLEDGE_DATABASE_URL") or DEFAULT_DATABASE_URL,
            decision_cache_seconds=_number(env, "PLEDGE_DECISION_CACHE_SECONDS", 1.0),
            api_key_cache_seconds=_number(env, "PLEDGE_API_KEY_CACHE_SECONDS", 5.0),
            job_lease_seconds=_number(env, "PLEDGE_JOB_LEASE_SECONDS", 300.0),
            allowed_origins=_list(env.get("PLEDGE_ALLOWED_ORIGINS", "")),
            gpc_jurisdictions=_list(env.get("PLEDGE_GPC_JURISDICTIONS", "*")),
            public_rate_limit=int(_number(env, "PLEDGE_PUBLIC_RATE_LIMIT", 120)),
            public_url=(env.get("PLEDGE_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/"),
            smtp_host=env.get("PLEDGE_SMTP_HOST", "").strip(),
            smtp_port=int(_number(env, "PLEDGE_SMTP_PORT", 587)),
            smtp_user=env.get("PLEDGE_SMTP_USER", ""),
            smtp_password=env.get("PLEDGE_SMTP_PASSWORD", ""),
            smtp_starttls=_flag(env, "PLEDGE_SMTP_STARTTLS", True),
            mail_from=env.get("PLEDGE_MAIL_FROM") or "privacy@localhost",
            staff_session_minutes=_number(env, "PLEDGE_STAFF_SESSION_MINUTES", 480),
            staff_idle_minutes=_number(env, "PLEDGE_STAFF_IDLE_MINUTES", 30),
            person_session_minutes=_number(env, "PLEDGE_PERSON_SESSION_MINUTES", 60),
            sign_in_rate_limit=int(_number(env, "PLEDGE_SIGN_IN_RATE_LIMIT", 10)),
        )

    def with_secret(self, environ: Mapping[str, str] | None = None) -> Settings:
        """These settings with the master key read (or, in development, generated).

        Raises:
            ConfigError: no usable key outside development mode.
        """
        env = os.environ if environ is None else environ
        key, note = _secret_key(env, development=self.development)
        notes = (*self.notes, note) if note else self.notes
        return Settings(**{**self.__dict__, "secret_key": key, "notes": notes})


def _secret_key(env: Mapping[str, str], *, development: bool) -> tuple[bytes, str | None]:
    text = env.get("PLEDGE_SECRET_KEY")
    source = "PLEDGE_SECRET_KEY"
    if text is None and env.get("PLEDGE_SECRET_KEY_FILE"):
        source = env["PLEDGE_SECRET_KEY_FILE"]
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as error:
            raise ConfigError(f"cannot read the key file {source}: {error.strerror}") from None
    if text is None:
        if not development:
            raise ConfigError(
                "no secret key: set PLEDGE_SECRET_KEY (32 random bytes, base64) or"
                " PLEDGE_SECRET_KEY_FILE; generate one with: pledge key generate"
            )
        return _development_key()
    return decode_key(text.strip(), source), None


def decode_key(text: str, source: str = "the secret key") -> bytes:
    """The 32-byte master key from its base64 text, refusing placeholders.

    Raises:
        ConfigError: a placeholder, not base64, or not 32 bytes.
    """
    if text.lower() in PLACEHOLDERS:
        raise ConfigError(
            f"{source} is a placeholder ({text!r}); generate one: pledge key generate"
        )
    try:
        standard = text.replace("-", "+").replace("_", "/")  # url-safe or standard alphabet
        key = base64.b64decode(standard + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{source} is not base64 text") from None
    if len(key) != 32:
        raise ConfigError(f"{source} must decode to 32 bytes, not {len(key)}")
    pattern = key_pattern(key)
    if pattern is not None:
        raise ConfigError(
            f"{source} is not random ({pattern}); generate a key with: pledge key generate"
        )
    return key


def key_pattern(key: bytes) -> str | None:
    """The pattern that shows a key was not drawn at random, or None.

    Each test refuses 32 bytes from a good random generator with a probability below 1e-13
    (all of them together, about 1 in 60 trillion keys), so a real key is never refused:

    - fewer than 16 distinct bytes (a byte repeated, a few bytes in turns): random keys have
      about 30, and fewer than 16 with a probability of 3e-17;
    - a block repeated (``key[i] == key[i + p]`` for a period of 16 or less): 2**-128;
    - at most 8 distinct steps between neighbours, modulo 256 (counting up, down, in twos,
      round 255, saw teeth): 8e-33;
    - only printable ASCII (a password or hex digits where bytes belong): 2e-14.

    Args:
        key: the decoded key.

    Returns:
        The pattern in words, or None when the key looks random.
    """
    if len(set(key)) < 16:
        return "too few distinct bytes"
    if any(key[period:] == key[:-period] for period in range(1, 17)):
        return "a block repeated"
    if len({(after - before) % 256 for before, after in pairwise(key)}) <= 8:
        return "a counting sequence"
    if all(0x20 <= byte < 0x7F for byte in key):
        return "text, not random bytes"
    return None


def generate_key() -> str:
    """A new random master key as base64 text."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def _development_key() -> tuple[bytes, str | None]:
    path = DEFAULT_KEY_FILE
    if path.exists():
        return decode_key(path.read_text(encoding="utf-8").strip(), str(path)), None
    path.parent.mkdir(parents=True, exist_ok=True)
    text = generate_key()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
    note = (
        f"development mode: generated a secret key in {path.resolve()}"
        " (keep it: losing it loses every encrypted record)"
    )
    return decode_key(text, str(path)), note


def _list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    text = env.get(name, "").strip().lower()
    if not text:
        return default
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {text!r}")


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name)
    if text is None or not text.strip():
        return default
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {text!r}") from None
