"""Audit and anomaly details as sentences in the page's language, never as raw JSON.

The details are stored as JSON (``server.audit``, ``server.anomalies``): a
mapping of what the action or the anomaly was about.  ``describe`` turns one
into text a Japanese or English admin reads: a sentence of its own for the
common anomaly kinds and audit actions (catalog ``say.<kind>``), else each
field as "label: value" with the label from the catalog (``detail.<key>``),
amounts in the event's currency, times in its zone, ids as short codes, and
nested values (a record's body, a settings change) in the same way.
"""

from __future__ import annotations

import json
import string
from typing import Any

from server.web.i18n import MESSAGES
from server.web.render import PageContext
from sync.ids import format_short_id

__all__ = ["action_label", "describe"]

MONEY = frozenset({"amount", "balance", "tolerance", "total", "price", "unit_price", "cash_received", "received",
                   "spent", "floor_limit", "offline_limit", "unsynced_cap", "overdraft_tolerance", "topup", "sale",
                   "refund"})
SHORT_IDS = frozenset({"wallet_id", "ticket_id", "staff_id", "supervisor_id", "display_id"})
HIDDEN = frozenset({"sig", "stored_hash", "sent_hash", "token", "pin", "password", "csrf", "form_key"})
MAX_TEXT = 600


def _label(ctx: PageContext, key: str) -> str:
    for prefix in ("detail.", "event."):
        if f"{prefix}{key}" in MESSAGES["en"]:
            return ctx.t(f"{prefix}{key}")
    return key.replace("_", " ")


def _value(ctx: PageContext, key: str, value: Any, depth: int) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return ctx.t("common.yes") if value else ctx.t("common.no")
    if isinstance(value, int):
        if key in MONEY:
            return ctx.money(value)
        if key in SHORT_IDS and value > 0:
            return format_short_id(value)
        if key.endswith(("_at", "_ms", "_until", "_from")) and value > 10**9:
            return ctx.time(value if value > 10**11 else value * 1000, "%Y-%m-%d %H:%M")
        return f"{value:,}" if abs(value) >= 10_000 and not key.endswith("_id") else str(value)
    if isinstance(value, str):
        word = f"word.{value}"
        return ctx.t(word) if word in MESSAGES["en"] else value
    if isinstance(value, list):
        return ", ".join(_value(ctx, key, v, depth + 1) for v in value[:20]) + (" …" if len(value) > 20 else "")
    if isinstance(value, dict):
        return "(" + _fields(ctx, value, depth + 1) + ")" if depth < 3 else "…"
    return str(value)


def _fields(ctx: PageContext, data: dict[str, Any], depth: int = 0) -> str:
    parts = []
    for key, value in data.items():
        if key in HIDDEN:
            continue
        if key == "changes" and isinstance(value, dict):
            for field, change in value.items():
                if isinstance(change, list) and len(change) == 2:
                    old, new = (_value(ctx, field, v, depth) for v in change)
                    parts.append(ctx.t("detail.changed", field=_label(ctx, field), old=old, new=new))
            if not value:
                parts.append(ctx.t("detail.no_change"))
            continue
        parts.append(f"{_label(ctx, key)}{ctx.t('detail.colon')}{_value(ctx, key, value, depth)}")
    return ctx.t("detail.sep").join(parts)


def _sentence(ctx: PageContext, kind: str, data: dict[str, Any]) -> str | None:
    """The catalog's own sentence for ``kind`` when every field it names is in ``data``."""
    key = f"say.{kind}"
    if key not in MESSAGES["en"]:
        return None
    names = {name for _, name, _, _ in string.Formatter().parse(MESSAGES["en"][key]) if name}
    if not names <= set(data):
        return None
    return ctx.t(key, **{n: _value(ctx, n, data[n], 1) for n in names})


def describe(ctx: PageContext, kind: str, detail: str) -> str:
    """``detail`` (JSON, or plain text) of an anomaly or audit entry of ``kind``, as sentences in ctx's language."""
    text = (detail or "").strip()
    if not text:
        return ""
    try:
        data = json.loads(text)
    except ValueError:
        return text[:MAX_TEXT]
    if not isinstance(data, dict):
        return _value(ctx, "", data, 0)[:MAX_TEXT]
    said = _sentence(ctx, kind, data)
    rest = {k: v for k, v in data.items() if said is None or f"{{{k}}}" not in MESSAGES["en"][f"say.{kind}"]}
    out = [said] if said else []
    if rest:
        out.append(_fields(ctx, rest))
    return " ".join(s for s in out if s)[:MAX_TEXT]


def action_label(ctx: PageContext, action: str) -> str:
    """An audit action (``wallet.topup``) in the page's language; an action the catalog lacks shows as it is."""
    key = f"act.{action}"
    return ctx.t(key) if key in MESSAGES["en"] else action
