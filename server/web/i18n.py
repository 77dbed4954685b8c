"""Every user-facing string of the web pages, in English and Japanese.

Templates call ``t("key")``; Python code calls ``translate(lang, "key")``.
Strings may carry ``{name}`` placeholders, filled with ``str.format``.  The
language comes from the ``lang`` cookie (set by the switch in the header),
else from the browser's Accept-Language, else Japanese.
"""

from __future__ import annotations

from starlette.requests import Request

from server.web.catalog import ENTRIES as _PAGES
from server.web.catalog_close import ENTRIES as _CLOSE
from server.web.catalog_setup import ENTRIES as _SETUP

ENTRIES = _PAGES + _CLOSE + _SETUP

__all__ = ["LANGS", "MESSAGES", "pick_lang", "translate"]

LANGS = ("ja", "en")
LANG_COOKIE = "lang"
MESSAGES: dict[str, dict[str, str]] = {
    lang: {key: pair[i] for key, *pair in ENTRIES} for i, lang in enumerate(("en", "ja"))
}


def translate(lang: str, key: str, /, **values: object) -> str:
    """Return the text of ``key`` in ``lang``; an unknown key shows itself (and fails the catalog test)."""
    text = MESSAGES.get(lang, MESSAGES["ja"]).get(key) or MESSAGES["en"].get(key) or key
    return text.format(**values) if values else text


def pick_lang(request: Request) -> str:
    """The language for this request: cookie, then Accept-Language, then Japanese."""
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in LANGS:
        return cookie
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGS:
            return code
    return "ja"
