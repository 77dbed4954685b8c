"""Every error a page shows is said in Japanese and English (``server.said.Said``).

A table test over the server's source: a ``raise`` of one of the errors pages render
(``CatalogError``, ``WalletError``, ``StaffError``, ``NoStockLeft``, ``Said``; and in
``server/web`` a plain ``ValueError``) whose message is a literal or an f-string must also carry
``ja=``; a message made by the page's translator (``ctx.t``, ``say``, ``translate``) is already in
the reader's language.  The same errors through the real dashboard in Chromium, in both languages:
tests/web/test_said_pages.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

from server.said import Said

SERVER = Path(__file__).resolve().parents[2] / "server"
SAID = {"CatalogError", "WalletError", "StaffError", "NoStockLeft", "Said"}
# plain ValueErrors that never reach a page: a start-up setting, parsers whose caller words the message
NOT_SHOWN = {("server/web/session.py", "the web secret must be at least 16 bytes")}


def _unsaid() -> list[str]:
    found = []
    for path in sorted(SERVER.rglob("*.py")):
        rel = str(path.relative_to(SERVER.parent))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
                    and isinstance(node.exc.func, ast.Name)):
                continue
            name, call = node.exc.func.id, node.exc
            shown = name in SAID or (name == "ValueError" and rel.startswith("server/web/"))
            literal = bool(call.args) and isinstance(call.args[0], ast.Constant | ast.JoinedStr)
            if not (shown and literal) or any(k.arg == "ja" for k in call.keywords):
                continue
            text = ast.unparse(call.args[0])
            if (rel, text.strip("'\"")) not in NOT_SHOWN:
                found.append(f"{rel}:{node.lineno}: {name}({text})")
    return found


def test_every_error_a_page_shows_is_said_in_japanese_too() -> None:
    assert _unsaid() == []
    assert len(list(SERVER.rglob("*.py"))) > 50  # the walk saw the package


def test_said_keeps_english_for_logs_and_gives_each_language() -> None:
    exc = Said("a stall needs a name", ja="模擬店の名前を入力してください")
    assert str(exc) == "a stall needs a name" and exc.text("en") == str(exc)
    assert exc.text("ja") == "模擬店の名前を入力してください" and isinstance(exc, ValueError)
