"""Errors whose message is safe to show to a person, said in English and Japanese.

``str(exc)`` is the English text (the CLI, logs and the terminal API's JSON ``detail`` keep it);
``exc.text(lang)`` is what a page shows in the reader's language.  The dashboard and My page
render ``text`` (``server.web.actions.perform``); tests/server/test_said.py fails on any raise
of such an error with a literal message and no ``ja=``.
"""

from __future__ import annotations

__all__ = ["Said"]


class Said(ValueError):
    """A refused input or action with a message for people, in both languages."""

    def __init__(self, en: str, *, ja: str | None = None) -> None:
        super().__init__(en)
        self.en = en
        self.ja = ja if ja is not None else en

    def text(self, lang: str) -> str:
        """The message in ``lang`` ("ja" or "en")."""
        return self.ja if lang == "ja" else self.en
