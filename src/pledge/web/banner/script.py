"""``/banner.js`` as served: the static ``banner.js`` with the notice and translations filled in.

The script is built once per declaration (a runtime's declaration never changes): the notice
from :func:`~pledge.web.banner.notice.banner_notice`, and the messages of English (always, the
fallback) and of every other language the policy is published in that the banner has
messages for (``i18n/<language>.json``).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from pledge.declaration.model import Declaration
from pledge.web.banner.notice import banner_notice

NOTICE_SLOT = "/*pledge:notice*/ null"
MESSAGES_SLOT = "/*pledge:messages*/ null"
FALLBACK_LANGUAGE = "en"


@dataclass(frozen=True, slots=True)
class BannerScript:
    """The banner's script for one declaration, ready to serve.

    Attributes:
        body: the JavaScript, UTF-8.
        gzipped: the same, gzip-compressed (what most browsers are sent).
        etag: a strong entity tag naming this exact script.
    """

    body: bytes
    gzipped: bytes
    etag: str


_DOC_COMMENT = re.compile(r"^[ \t]*/\*\*.*?\*/[ \t]*\n", re.MULTILINE | re.DOTALL)
_LINE_COMMENT = re.compile(r"^[ \t]*//.*\n", re.MULTILINE)
_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)


def compact(source: str) -> str:
    """``banner.js`` without its comments (whole lines only) and indentation: smaller, the
    same program (the source keeps no string or regular expression that starts a line)."""
    for pattern in (_DOC_COMMENT, _LINE_COMMENT, _INDENT):
        source = pattern.sub("", source)
    return source


@cache
def _source() -> str:
    return compact(resources.files("pledge.web.banner").joinpath("banner.js").read_text("utf-8"))


@cache
def available_languages() -> tuple[str, ...]:
    """The languages the banner has messages for (``i18n/*.json``), sorted."""
    folder = resources.files("pledge.web.banner").joinpath("i18n")
    return tuple(
        sorted(
            item.name.removesuffix(".json")
            for item in folder.iterdir()
            if item.name.endswith(".json")
        )
    )


@cache
def messages(language: str) -> dict[str, Any]:
    """The banner's messages in ``language`` (one of :func:`available_languages`).

    Treat the result as read-only: it is shared.
    """
    folder = resources.files("pledge.web.banner").joinpath("i18n")
    loaded: dict[str, Any] = json.loads(folder.joinpath(f"{language}.json").read_text("utf-8"))
    return loaded


def banner_languages(declaration: Declaration) -> list[str]:
    """English, then each language of the policy the banner has messages for.

    A regional tag (``de-AT``) is served the messages of its language (``de``).
    """
    chosen = [FALLBACK_LANGUAGE]
    for tag in declaration.policy.languages:
        language = tag.split("-")[0].lower()
        if language in available_languages() and language not in chosen:
            chosen.append(language)
    return chosen


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def build_script(declaration: Declaration) -> BannerScript:
    """The banner's script for ``declaration``.

    Args:
        declaration: the declaration in force.

    Returns:
        The script, compressed and with its entity tag.
    """
    source = _source()
    for slot in (NOTICE_SLOT, MESSAGES_SLOT):
        if source.count(slot) != 1:  # pragma: no cover - guards an edit of banner.js
            raise RuntimeError(f"banner.js must contain {slot!r} exactly once")
    translations = {language: messages(language) for language in banner_languages(declaration)}
    text = source.replace(NOTICE_SLOT, _json(banner_notice(declaration))).replace(
        MESSAGES_SLOT, _json(translations)
    )
    body = text.encode("utf-8")
    digest = hashlib.sha256(body).hexdigest()[:32]
    return BannerScript(body=body, gzipped=gzip.compress(body, 9, mtime=0), etag=f'"{digest}"')
