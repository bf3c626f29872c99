"""Settings, read from the environment (``PLEDGE_*``).

Only what this release needs: where the declaration is. Later rooms (the store, the server)
add their settings here, so that there is one place to look.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pledge.declaration import DEFAULT_FILE


@dataclass(frozen=True)
class Settings:
    """Pledge's settings.

    Args:
        declaration: path of ``pledge.yaml``; ``PLEDGE_CONFIG`` overrides the default name.
    """

    declaration: Path = Path(DEFAULT_FILE)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Settings from ``PLEDGE_*`` environment variables, defaults for the rest."""
        env = os.environ if environ is None else environ
        return cls(declaration=Path(env.get("PLEDGE_CONFIG") or DEFAULT_FILE))
