"""Staff sign-in on both backends: a refusal tells nothing about which accounts exist, by its
words or by the work done to reach it, and the lockout still holds real accounts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from argon2 import Parameters, PasswordHasher, extract_parameters
from argon2.exceptions import VerifyMismatchError

from pledge.staff.model import LOCKOUT, MAX_FAILED_ATTEMPTS
from pledge.staff.service import SignInRefused, StaffAccounts, decoy_hash
from pledge.store.database import Database

ADMIN = "ada@acme.example"
PASSWORD = "correct horse battery"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


class CountingHasher(PasswordHasher):
    """A cheap argon2id hasher that notes each hash it makes and checks, with its parameters."""

    def __init__(self) -> None:
        super().__init__(time_cost=2, memory_cost=64, parallelism=1)
        self.calls: list[tuple[str, Parameters | None]] = []

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        """Hash, and note it."""
        self.calls.append(("hash", None))
        return super().hash(password, salt=salt)

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        """Verify, and note it with the parameters of the hash checked against."""
        text = hash.decode() if isinstance(hash, bytes) else hash
        self.calls.append(("verify", extract_parameters(text)))
        return super().verify(hash, password)


def _refusal(
    accounts: StaffAccounts, hasher: CountingHasher, email: str, password: str
) -> tuple[str, list[Any]]:
    hasher.calls.clear()
    with pytest.raises(SignInRefused) as refused:
        accounts.authenticate(email, password)
    return str(refused.value), list(hasher.calls)


def test_every_refusal_reads_the_same_and_checks_one_hash_of_the_same_cost(store: Database) -> None:
    """Unknown address (the very first attempt too), malformed address, wrong password, and a
    locked account with the right or a wrong password: one message, one argon2 check each,
    with the parameters of a real account's hash, and no hashing on the way."""
    clock = Clock()
    hasher = CountingHasher()
    accounts = StaffAccounts(store, clock=clock, hasher=hasher)
    accounts.create(ADMIN, "Ada", "admin", PASSWORD, actor="tests")
    real = PasswordHasher(time_cost=2, memory_cost=64, parallelism=1).hash("anything")
    answers = [_refusal(accounts, hasher, "nobody@acme.example", PASSWORD)]
    answers.append(_refusal(accounts, hasher, "not an address", PASSWORD))
    answers += [
        _refusal(accounts, hasher, ADMIN, "wrong password!") for _ in range(MAX_FAILED_ATTEMPTS)
    ]
    answers.append(_refusal(accounts, hasher, ADMIN, PASSWORD))  # locked now
    answers.append(_refusal(accounts, hasher, ADMIN, "wrong password!"))
    answers.append(_refusal(accounts, hasher, "nobody@acme.example", "wrong password!"))
    assert {message for message, _ in answers} == {answers[0][0]}
    assert {repr(calls) for _, calls in answers} == {repr([("verify", extract_parameters(real))])}


def test_the_lockout_holds_a_real_account_until_it_ends(store: Database) -> None:
    """After five wrong passwords the right one is refused until the lockout has run out."""
    clock = Clock()
    accounts = StaffAccounts(store, clock=clock, hasher=CountingHasher())
    accounts.create(ADMIN, "Ada", "admin", PASSWORD, actor="tests")
    for _ in range(MAX_FAILED_ATTEMPTS):
        with pytest.raises(SignInRefused):
            accounts.authenticate(ADMIN, "wrong password!")
    with pytest.raises(SignInRefused):
        accounts.authenticate(ADMIN, PASSWORD)
    assert accounts.list()[0].locked_until == clock.now + LOCKOUT
    clock.now += LOCKOUT + dt.timedelta(seconds=1)
    assert accounts.authenticate(ADMIN, PASSWORD).email == ADMIN


def test_the_decoy_is_a_hash_argon2_checks_in_full_and_no_password_matches() -> None:
    """A malformed decoy would be refused at once, without the work: it must be well formed."""
    hasher = PasswordHasher(time_cost=2, memory_cost=64, parallelism=1)
    decoy = decoy_hash(hasher)
    assert extract_parameters(decoy) == extract_parameters(hasher.hash("anything"))
    for password in ("", PASSWORD, "anything"):
        with pytest.raises(VerifyMismatchError):
            hasher.verify(decoy, password)
    assert decoy_hash(hasher) != decoy
