"""The consent ledger: decisions with proof, receipts and Global Privacy Control.

``model`` holds the vocabulary (plain Python), ``service`` the :class:`ConsentLedger` (with
``committer`` and ``writer``, its group commit), ``gpc`` what a Global Privacy Control signal
records, and ``proof`` the checkpoints and ``pledge verify``. Importing this package loads
only the model.
"""

from pledge.consent.model import (
    Channel,
    ConsentDecision,
    ConsentEvent,
    ConsentState,
    Evidence,
    gpc_signal,
    notice_hash,
    notice_text,
)

__all__ = [
    "Channel",
    "ConsentDecision",
    "ConsentEvent",
    "ConsentState",
    "Evidence",
    "gpc_signal",
    "notice_hash",
    "notice_text",
]
