"""Envelope encryption and blind indexes for the personal data Pledge itself keeps.

- The master key (32 bytes, from the settings) is never used directly: HKDF derives a
  key-encryption key and a blind-index key from it.
- Each subject gets a random data key, stored only wrapped (AES-GCM under the key-encryption
  key, bound to the subject's id). Values are AES-GCM encrypted under the data key, bound to
  the subject and the field, so a ciphertext moved to another row does not decrypt.
- Lookups use a blind index: HMAC-SHA256 of the normalised value under the blind-index key.
- Erasing a subject deletes its wrapped data key and its blind indexes: what remains can no
  longer be decrypted or found.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from pledge.errors import KeyDestroyed as KeyDestroyed  # its home was here

NONCE_BYTES = 12


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


class Keyring:
    """The keys derived from the master key.

    Args:
        master_key: 32 random bytes.
    """

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("the master key must be 32 bytes")
        self._wrap = AESGCM(_derive(master_key, b"pledge/v1/key-wrapping"))
        self._index_key = _derive(master_key, b"pledge/v1/blind-index")
        self.pseudonym_key = _derive(master_key, b"pledge/v1/datastore-pseudonyms")
        """The key of the HMAC pseudonyms an erasure writes into company datastores."""
        self._seal = AESGCM(_derive(master_key, b"pledge/v1/sealed-notices"))

    def new_data_key(self, subject_id: str) -> tuple[bytes, bytes]:
        """A fresh data key for a subject: ``(plain key, wrapped key to store)``."""
        key = AESGCM.generate_key(bit_length=256)
        return key, self.wrap(key, subject_id)

    def wrap(self, key: bytes, subject_id: str) -> bytes:
        """A data key encrypted under the key-encryption key, bound to ``subject_id``."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._wrap.encrypt(nonce, key, subject_id.encode())

    def unwrap(self, wrapped: bytes | None, subject_id: str) -> bytes:
        """The plain data key of a subject.

        Raises:
            KeyDestroyed: the key was destroyed, or does not belong to this subject.
        """
        if not wrapped:
            raise KeyDestroyed(f"the data key of subject {subject_id} was destroyed")
        try:
            return self._wrap.decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], subject_id.encode()
            )
        except InvalidTag:
            raise KeyDestroyed(f"the data key of subject {subject_id} does not open") from None

    def seal(self, plaintext: bytes, context: str) -> bytes:
        """``plaintext`` encrypted under a key of Pledge's own, not a subject's: for what must
        outlive the subject's key for a while (a notice to a recipient of someone since
        forgotten). Bound to ``context``; delete it once it has served."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._seal.encrypt(nonce, plaintext, context.encode())

    def unseal(self, sealed: bytes, context: str) -> bytes:
        """The plaintext of :meth:`seal`.

        Raises:
            KeyDestroyed: another context, or altered data.
        """
        try:
            return self._seal.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context.encode())
        except InvalidTag:
            raise KeyDestroyed(f"cannot open the sealed data of {context}") from None

    def blind_index(self, kind: str, normalised: str) -> bytes:
        """The keyed index of an identity: equal values give equal indexes, nothing else leaks."""
        return hmac.new(self._index_key, f"{kind}:{normalised}".encode(), hashlib.sha256).digest()


def encrypt(data_key: bytes, plaintext: bytes, *, subject_id: str, field: str) -> bytes:
    """``plaintext`` encrypted under a subject's data key, bound to the subject and field."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(data_key).encrypt(nonce, plaintext, f"{subject_id}/{field}".encode())


def decrypt(data_key: bytes, ciphertext: bytes, *, subject_id: str, field: str) -> bytes:
    """The plaintext of :func:`encrypt`.

    Raises:
        KeyDestroyed: wrong key, wrong subject or field, or altered ciphertext.
    """
    try:
        return AESGCM(data_key).decrypt(
            ciphertext[:NONCE_BYTES], ciphertext[NONCE_BYTES:], f"{subject_id}/{field}".encode()
        )
    except InvalidTag:
        raise KeyDestroyed(f"cannot decrypt {field} of subject {subject_id}") from None
