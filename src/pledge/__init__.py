"""Pledge: privacy policies as code.

Declare once, in ``pledge.yaml``, what personal data you collect, why, on what legal basis,
for how long, and who receives it; Pledge renders the policy, enforces it and proves it.
"""

from pledge.declaration import Declaration, Finding, Severity, load, loads
from pledge.errors import DeclarationError, PledgeError, UsageError

__version__ = "0.1.0"

__all__ = [
    "Declaration",
    "DeclarationError",
    "Finding",
    "PledgeError",
    "Severity",
    "UsageError",
    "__version__",
    "load",
    "loads",
]
