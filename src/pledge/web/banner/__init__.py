"""The cookie banner: ``/banner.js``, one script a site adds with one ``<script>`` tag.

``notice.py`` turns the declaration's ``cookies:`` (and the purposes behind them) into what the
banner shows and records; ``script.py`` builds the script from the static ``banner.js`` and its
translations (``i18n/``); ``router.py`` serves it with cache headers. The banner records the
choices through ``POST /api/v1/public/consent`` (``pledge.web.api.public``).
"""

from pledge.web.banner.notice import CONSENT_COOKIE, banner_notice, category_purposes, cookies_hash
from pledge.web.banner.router import router
from pledge.web.banner.script import BannerScript, build_script

__all__ = [
    "CONSENT_COOKIE",
    "BannerScript",
    "banner_notice",
    "build_script",
    "category_purposes",
    "cookies_hash",
    "router",
]
