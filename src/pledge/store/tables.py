"""The tables of Pledge's own store (SQLAlchemy Core). Migrations live in ``migrations/``.

Times are UTC (``UtcDateTime``); ids are ULIDs (``pledge.ids``), so ``ORDER BY id`` is the
order of creation. Personal data is only ever stored encrypted (``*_encrypted`` columns) or as
a blind index; everything else here is pseudonymous.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: Pledge stores UTC times only")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        moment: dt.datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC)


def _id(name: str = "id", *constraints: Any, **kwargs: Any) -> Column[str]:
    return Column(name, String(26), *constraints, **kwargs)


Hash = String(64)

subjects = Table(
    "subjects",
    metadata,
    _id(primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
    # The subject's data key, wrapped by the master key; NULL once erased (crypto-shredded).
    Column("key_wrapped", LargeBinary, nullable=True),
    Column("erased_at", UtcDateTime, nullable=True),
    Column("restricted", Boolean, nullable=False, default=False),
    # The date from which the subject counts as old enough to consent alone (GDPR Art. 8);
    # NULL when unknown, which Pledge treats as an adult unless told otherwise.
    Column("consent_age_from", UtcDateTime, nullable=True),
    Column("guardian_id", String(26), ForeignKey("subjects.id"), nullable=True),
)

identities = Table(
    "identities",
    metadata,
    _id(primary_key=True),
    _id("subject_id", ForeignKey("subjects.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("blind_index", LargeBinary(32), nullable=False),
    Column("value_encrypted", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("kind", "blind_index"),
)

consent_events = Table(
    "consent_events",
    metadata,
    _id(primary_key=True),
    _id("subject_id", nullable=False),  # no FK: the ledger outlives nothing, not even subjects
    Column("seq", Integer, nullable=False),
    Column("purpose", String(100), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("declaration_version", String(50), nullable=False),
    Column("declaration_digest", Hash, nullable=False),
    Column("notice_hash", Hash, nullable=False),
    Column("guardian_id", String(26), nullable=True),
    Column("evidence_encrypted", LargeBinary, nullable=True),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("prev_hash", Hash, nullable=False),
    Column("hash", Hash, nullable=False),
    UniqueConstraint("subject_id", "seq"),
)

consent_heads = Table(
    "consent_heads",
    metadata,
    _id("subject_id", primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("hash", Hash, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

consent_state = Table(
    "consent_state",
    metadata,
    _id("subject_id", primary_key=True),
    Column("purpose", String(100), primary_key=True),
    Column("decision", String(16), nullable=False),
    Column("guardian_id", String(26), nullable=True),
    _id("event_id", nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

objections = Table(
    "objections",
    metadata,
    _id(primary_key=True),
    _id("subject_id", nullable=False, index=True),
    # A purpose key, or "*" for every purpose based on legitimate interests or a public task,
    # or "direct_marketing" for the absolute objection of GDPR Art. 21(3).
    Column("scope", String(100), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("lifted_at", UtcDateTime, nullable=True),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("subjects", Integer, nullable=False),
    Column("consent_root", Hash, nullable=False),
    Column("audit_seq", Integer, nullable=False),
    Column("audit_hash", Hash, nullable=False),
    Column("prev_hash", Hash, nullable=False),
    Column("hash", Hash, nullable=False),
)

checkpoint_heads = Table(
    "checkpoint_heads",
    metadata,
    Column("checkpoint_seq", Integer, ForeignKey("checkpoints.seq"), primary_key=True),
    _id("subject_id", primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("hash", Hash, nullable=False),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    _id("id", nullable=False, unique=True),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(50), nullable=False),
    _id("subject_id", nullable=True),
    Column("purpose", String(100), nullable=True),
    Column("details", Text, nullable=False),  # canonical JSON, never personal data
    Column("prev_hash", Hash, nullable=False),
    Column("hash", Hash, nullable=False),
    Index("ix_audit_events_subject_seq", "subject_id", "seq"),
    Index("ix_audit_events_action_seq", "action", "seq"),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1: one chain
    Column("seq", Integer, nullable=False),
    Column("hash", Hash, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    _id(primary_key=True),
    Column("name", String(100), nullable=False),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("secret_hash", Hash, nullable=False),
    Column("scopes", Text, nullable=False),  # space-separated
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
)

subject_requests = Table(
    "subject_requests",
    metadata,
    _id(primary_key=True),
    _id("subject_id", ForeignKey("subjects.id"), nullable=False),
    Column("type", String(32), nullable=False),
    Column("regime", String(8), nullable=False),
    Column("state", String(16), nullable=False),
    Column("retryable", Boolean, nullable=False, default=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("first_due_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("extension", Integer, nullable=False, default=0),  # in the regime's unit
    Column("extension_reason", Text, nullable=True),
    Column("extended_at", UtcDateTime, nullable=True),
    Column("confirm_receipt_by", UtcDateTime, nullable=True),
    Column("receipt_confirmed_at", UtcDateTime, nullable=True),
    Column("submitted_by", String(100), nullable=False),
    Column("staff", String(100), nullable=True),
    Column("verification", String(16), nullable=True),  # code, staff
    Column("verification_note", Text, nullable=True),
    Column("verified_at", UtcDateTime, nullable=True),
    Column("closed_at", UtcDateTime, nullable=True),
    Column("denial_ground", String(32), nullable=True),
    Column("denial_reason", Text, nullable=True),
    Column("denial_complaint", Text, nullable=True),
    Column("failure", Text, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("retain_until", UtcDateTime, nullable=False),
    # What the person asked for and where to reach them: encrypted under the subject's key.
    Column("details_encrypted", LargeBinary, nullable=False),
    Column("contact_encrypted", LargeBinary, nullable=True),
    # The one-time code: HMAC under a server key of a random salt and the code, never the code.
    Column("code_salt", LargeBinary(16), nullable=True),
    Column("code_hash", LargeBinary(32), nullable=True),
    Column("code_expires_at", UtcDateTime, nullable=True),
    Column("code_attempts", Integer, nullable=False, default=0),
    Index("ix_subject_requests_subject_type", "subject_id", "type"),
    Index("ix_subject_requests_state_due", "state", "due_at"),
)

# --- jobs: the table is the truth; runners (in `pledge serve`, or `pledge worker`) execute ---

jobs = Table(
    "jobs",
    metadata,
    _id(primary_key=True),
    Column("kind", String(32), nullable=False),
    # What makes the job unique, e.g. "request:<id>": enqueuing twice yields one job.
    Column("key", String(120), nullable=False, unique=True),
    _id("request_id", ForeignKey("subject_requests.id"), nullable=True),
    Column("state", String(16), nullable=False),  # queued, running, done, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("run_after", UtcDateTime, nullable=False),
    # A runner holds a job by a lease; a job whose lease ran out is taken up again. The token
    # is new at every claim, and every write of the job's steps names it: a runner whose lease
    # was taken over can no longer write (fencing).
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("lease_token", String(32), nullable=True),
    Column("payload", Text, nullable=False),  # canonical JSON, never personal data
    Column("error", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_jobs_state_run_after", "state", "run_after"),
)

# What changed, for the caches of every process (several workers, several machines): a
# subject's consent, objections or restriction, or an API key. Written in the transaction of
# the change; each process tails it (on PostgreSQL woken by NOTIFY). Kept a few minutes.
changes = Table(
    "changes",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # subject, apikey
    Column("ref", String(64), nullable=False),  # the subject's or key's id, never personal data
    Column("at", UtcDateTime, nullable=False),
    Index("ix_changes_at", "at"),
)

# The development outbox: with no SMTP server configured, the mails Pledge would have sent are
# kept here, so that every process on the store and the admin console see the same ones. Each
# mail is sealed under a key of Pledge's own (it is personal: an address, a code); a mail kept
# twice (its job delivered it, then died before it was marked done) is kept once, by its
# Message-ID. The newest 1,000 are kept.
outbox = Table(
    "outbox",
    metadata,
    _id(primary_key=True),
    Column("message_id", String(255), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),  # verification, completed, sign_in …
    _id("request_id", nullable=True),  # the request it is about; no foreign key: kept apart
    Column("created_at", UtcDateTime, nullable=False),
    Column("mail_encrypted", LargeBinary, nullable=False),
)

# The steps a job finished: a restarted job skips them, so no step is done twice.
job_steps = Table(
    "job_steps",
    metadata,
    _id("job_id", ForeignKey("jobs.id"), primary_key=True),
    Column("name", String(120), primary_key=True),
    Column("result", Text, nullable=False),  # canonical JSON, never personal data
    # What the step found that later steps need and that is personal (e.g. the keys of the
    # rows to erase): encrypted under the subject's key.
    Column("data_encrypted", LargeBinary, nullable=True),
    Column("done_at", UtcDateTime, nullable=False),
)

# A request's report, per format: encrypted under the subject's key, and kept until it expires.
request_reports = Table(
    "request_reports",
    metadata,
    _id("request_id", ForeignKey("subject_requests.id"), primary_key=True),
    Column("format", String(16), primary_key=True),  # html, zip, json
    Column("media_type", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("content_encrypted", LargeBinary, nullable=False),
)

# --- the pages: staff accounts, sessions of staff and of people, sign-in codes, policy versions ---

staff_members = Table(
    "staff_members",
    metadata,
    _id(primary_key=True),
    Column("email", String(254), nullable=False, unique=True),  # staff, not data subjects
    Column("name", String(100), nullable=False),
    Column("role", String(20), nullable=False),  # admin, privacy_officer, support, viewer
    Column("password_hash", Text, nullable=False),  # argon2id, with its parameters
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("locked_until", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("password_changed_at", UtcDateTime, nullable=False),
    Column("last_sign_in_at", UtcDateTime, nullable=True),
    Column("disabled_at", UtcDateTime, nullable=True),
)

# A signed-in browser: staff in the admin console, or a person in the privacy center. The
# cookie holds a random token; only its SHA-256 is stored, so a copy of the table opens nothing.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", Hash, primary_key=True),
    Column("kind", String(8), nullable=False),  # staff, person
    _id("staff_id", ForeignKey("staff_members.id"), nullable=True),
    _id("subject_id", ForeignKey("subjects.id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    Index("ix_web_sessions_expires_at", "expires_at"),
)

# A code e-mailed to sign in to the privacy center. Sent whether or not the address is known.
sign_in_codes = Table(
    "sign_in_codes",
    metadata,
    _id(primary_key=True),
    Column("address_index", LargeBinary(32), nullable=False),  # keyed HMAC of the address
    Column("address_encrypted", LargeBinary, nullable=False),
    Column("code_salt", LargeBinary(16), nullable=False),
    Column("code_hash", LargeBinary(32), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
    Index("ix_sign_in_codes_address_created", "address_index", "created_at"),
)

# Each declaration a Pledge has served, so that the privacy center shows past versions and
# what changed between them.
policy_versions = Table(
    "policy_versions",
    metadata,
    Column("digest", Hash, primary_key=True),
    Column("version", String(50), nullable=False),
    Column("effective_date", String(10), nullable=True),
    Column("first_served_at", UtcDateTime, nullable=False),
    Column("declaration", Text, nullable=False),  # the declaration as JSON (no personal data)
    Index("ix_policy_versions_first_served_at", "first_served_at"),
)
