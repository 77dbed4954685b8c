"""Running an admin action: one write transaction, the audit entry in it, then back to the page.

Domain writes are the server's functions (catalog, staff, wallets, enroll,
...).  The few writes the server has no function for yet live at the bottom
of this module, each marked, so they can move into the server's modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from starlette.requests import Request

from server.audit import audit
from server.catalog import CatalogError, clean_category, clean_colour
from server.db import tables as t
from server.db.engine import reserve_changes
from server.ledger import LedgerBatch
from server.said import Said
from server.staff import StaffError
from server.wallets import WalletError
from server.web.access import Admin
from server.web.deps import clock_ms, database
from server.web.render import PageContext, page

__all__ = ["FORM_KEY_PREFIX", "UserError", "back_to", "claim_form", "perform", "refund_sale", "said",
           "update_product", "update_stall"]

FORM_KEY_PREFIX = "web.form:"  # counters rows named web.form:<area>:<key>: forms already applied

# Errors whose message the server promises is safe to show to an admin.
UserError: tuple[type[Exception], ...] = (CatalogError, StaffError, WalletError, ValueError)


def said(exc: Exception, lang: str) -> str:
    """What a refused input's error says in ``lang``: a ``Said`` in that language, else its own text.

    A plain ValueError reaching a page carries a message the page translated already
    (``ctx.t``); the domain's errors are ``Said`` (English and Japanese).
    """
    return exc.text(lang) if isinstance(exc, Said) else str(exc)


def back_to(path: str, **params: object) -> Response:
    """A 303 redirect after a POST (so reloading does not repeat the action)."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=303)


def claim_form(conn: Connection, request: Request, *, now_ms: int) -> bool:
    """Take the POSTed form's idempotency key in this write transaction; False when it was applied before.

    The key is a ``counters`` row (its name the primary key), inserted first,
    ON CONFLICT DO NOTHING: on PostgreSQL a second submission waits for the
    first's transaction and finds the row if it committed (or takes the key if
    it rolled back); SQLite's one writer orders them.  A form without a key
    (an old page, a script) is applied as before.
    """
    state = getattr(request.state, "web", None)
    if state is None or not state.form_key:
        return True
    row = {"name": f"{FORM_KEY_PREFIX}{state.area}:{state.form_key}", "value": now_ms}
    if conn.dialect.name == "postgresql":
        stmt: Any = pg_insert(t.counters).values(**row).on_conflict_do_nothing()
    else:
        stmt = sqlite_insert(t.counters).values(**row).on_conflict_do_nothing()
    return conn.execute(stmt.returning(t.counters.c.name)).first() is not None  # (psycopg's rowcount is -1 here)


def perform(request: Request, ctx: PageContext, admin: Admin, audit_action: str,
            fn: Callable[[Connection, int], Any], /, *, back: str, done: str, **detail: Any) -> Response:
    """Run ``fn(conn, now_ms)`` and audit ``action`` in one transaction; a refused input shows the error page."""
    now_ms = clock_ms(request)
    try:
        with database(request).write() as conn:
            if not claim_form(conn, request, now_ms=now_ms):
                return back_to(back, done=done)  # this very form was applied already: once is enough
            result = fn(conn, now_ms)
            if isinstance(result, dict):
                detail.update(result)
            audit(conn, actor=admin.actor, action=audit_action, now_ms=now_ms, **detail)
    except UserError as exc:
        return page(request, "error.html", ctx, status_code=422, status=422, heading=ctx.t("error.invalid"),
                    message=said(exc, ctx.lang), back=back)
    return back_to(back, done=done)


# ------------------------------------------------- writes the server lacks (move to server.catalog)

_JA_KIND = {"deposit": "保証金", "discount": "値引き", "normal": "通常"}  # product kinds, for Said's ja
KEEP: Any = object()  # update_product: leave this field as it is


def update_stall(conn: Connection, stall_id: int, *, name: str, active: bool, allow_free_amount: bool) -> None:
    """Rename, (de)activate a stall; terminals pull the change. Raises CatalogError."""
    if not name.strip():
        raise CatalogError("a stall needs a name", ja="模擬店の名前を入力してください")
    done = conn.execute(update(t.stalls).where(t.stalls.c.id == stall_id).values(
        name=name.strip(), active=active, allow_free_amount=allow_free_amount,
        change_seq=reserve_changes(conn, 1))).rowcount
    if not done:
        raise CatalogError(f"unknown stall {stall_id}", ja=f"模擬店 {stall_id} は見つかりません")


def update_product(conn: Connection, product_id: int, *, name: str, price: int, stock: int | None,
                   sold_out: bool, active: bool, category: Any = KEEP, colour: Any = KEEP) -> None:
    """Change a product's name, price, stock, sold-out and active flags; raises CatalogError.

    ``category`` and ``colour`` left at KEEP stay as they are; a category "" removes it, a
    colour None or "" makes the button plain (``server.catalog.clean_category``/``clean_colour``).
    """
    if not name.strip():
        raise CatalogError("a product needs a name", ja="商品の名前を入力してください")
    if not 0 <= price <= 10**12:  # sync.schemas.Amount: what a terminal's sale line accepts
        raise CatalogError("price must be a non-negative integer amount", ja="価格は0以上の金額で入力してください")
    kind = conn.execute(select(t.products.c.kind).where(t.products.c.id == product_id)).scalar()
    if kind in ("deposit", "discount") and price <= 0:  # the same rules as server.catalog.create_product
        raise CatalogError(f"a {kind} product needs a price above zero",
                           ja=f"{_JA_KIND.get(kind, kind)}の商品は0より大きい価格が必要です")
    if kind in ("deposit", "discount") and stock is not None:
        raise CatalogError(f"a {kind} product is not counted in stock",
                           ja=f"{_JA_KIND.get(kind, kind)}の商品には在庫数を設定できません")
    look: dict[str, str | None] = {}
    if category is not KEEP:
        look["category"] = clean_category(category)
    if colour is not KEEP:
        look["colour"] = clean_colour(colour)
    done = conn.execute(update(t.products).where(t.products.c.id == product_id).values(
        name=name.strip(), price=price, stock=stock, sold_out=sold_out or (stock is not None and stock <= 0),
        active=active, change_seq=reserve_changes(conn, 1), **look)).rowcount
    if not done:
        raise CatalogError(f"unknown product {product_id}", ja=f"商品 {product_id} は見つかりません")


def refund_sale(conn: Connection, wallet_id: int, txn_id: int, amount: int, *, lock: bool, now_ms: int,
                reason: str, staff_id: int) -> dict[str, int]:
    """Give (part of) a sale back to the wallet from the stall's revenue: a new refund transaction.

    Posted through the server's ``LedgerBatch``; raises WalletError when the
    sale is not this wallet's, or the amount is more than is left to refund.
    """
    if amount <= 0:
        raise WalletError("a refund amount must be positive", ja="返金額は0より大きくしてください")
    if not reason.strip():
        raise WalletError("a refund needs a reason", ja="返金には理由が必要です")
    from server.authority import Split
    from server.records import give_back, refunded_of

    a, p, x = t.accounts, t.postings, t.transactions
    # The sale itself never changes: read it, lock the accounts, then read what is left (refunded_of).
    legs = {(row.kind, int(row.ref)): -int(row.amount) for row in conn.execute(
        select(a.c.kind, a.c.ref, p.c.amount).join(a, a.c.id == p.c.account_id).join(x, x.c.id == p.c.txn_id)
        .where(p.c.txn_id == txn_id, x.c.kind == "sale"))}
    stall = next((ref for kind, ref in legs if kind in ("stall_revenue", "stall_deposit", "stall_discount")), None)
    if ("wallet", wallet_id) not in legs or stall is None:
        raise WalletError("that is not a sale of this wallet", ja="このウォレットの販売ではありません")
    batch = LedgerBatch(conn, lock=lock, now_ms=now_ms)
    batch.load([("wallet", wallet_id), ("stall_revenue", stall), ("stall_deposit", stall)])
    done = refunded_of(conn, [txn_id]).get(txn_id, 0)
    left = legs[("wallet", wallet_id)] - done
    if amount > left:
        raise WalletError(
            f"only {left} is left to refund of this sale",
            ja=f"この販売で返金できる残りは {left} だけです")
    wallet = batch.account("wallet", wallet_id)
    assert wallet is not None
    split = Split(-legs.get(("stall_revenue", stall), 0), legs.get(("stall_discount", stall), 0),
                  -legs.get(("stall_deposit", stall), 0))
    out = [(wallet, amount)]
    for kind, part in give_back(split, done, amount).items():  # the same rule as a terminal's refund
        acc = batch.account(kind, stall)
        if part:
            assert acc is not None
            out.append((acc, -part))
    batch.post("refund", out, ref_txn=txn_id, staff_id=staff_id, note=reason.strip(), amount=amount)
    batch.flush()
    return {"balance": wallet.balance, "seq": wallet.seq}


def reset_pin(conn: Connection, staff_id: int, *, pin: str) -> None:
    """Set a new PIN (terminals pull the new hash); raises StaffError."""
    from server.staff import hash_secret, touch_staff

    if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 12):
        raise StaffError("a PIN is 4 to 12 digits", ja="PINは4〜12桁の数字です")
    if not conn.execute(update(t.staff).where(t.staff.c.id == staff_id).values(pin_hash=hash_secret(pin))).rowcount:
        raise StaffError(f"unknown staff {staff_id}", ja=f"スタッフ {staff_id} は見つかりません")
    touch_staff(conn, [staff_id])


def set_staff_active(conn: Connection, staff_id: int, *, active: bool) -> None:
    """Deactivate (or reactivate) a person everywhere; raises StaffError."""
    from server.staff import touch_staff

    if not conn.execute(update(t.staff).where(t.staff.c.id == staff_id).values(active=active)).rowcount:
        raise StaffError(f"unknown staff {staff_id}", ja=f"スタッフ {staff_id} は見つかりません")
    touch_staff(conn, [staff_id])


def set_role_permissions(conn: Connection, role: str, permissions: list[str]) -> None:
    """Create a role or replace its permissions; holders are re-sent to terminals. Raises StaffError."""
    import json

    from sqlalchemy import insert, select

    from server.staff import touch_staff
    from sync.permissions import Permission

    role = role.strip().lower()
    if not role or len(role) > 40 or not all(c.isalnum() or c in "-_" for c in role):
        raise StaffError(
            "a role name is letters, digits, - and _",
            ja="役割の名前には英字・数字・-・_ だけを使ってください")
    perms = sorted({Permission(p).value for p in permissions})
    encoded = json.dumps(perms)
    if not conn.execute(update(t.roles).where(t.roles.c.name == role).values(permissions=encoded)).rowcount:
        conn.execute(insert(t.roles).values(name=role, permissions=encoded))
    holders = conn.execute(select(t.staff_roles.c.staff_id).where(t.staff_roles.c.role == role)).scalars()
    touch_staff(conn, list(holders))


def remove_assignment(conn: Connection, staff_id: int, assignment_id: int) -> None:
    """Take one role assignment away; raises StaffError."""
    from sqlalchemy import delete

    from server.staff import touch_staff

    sr = t.staff_roles
    if not conn.execute(delete(sr).where(sr.c.id == assignment_id, sr.c.staff_id == staff_id)).rowcount:
        raise StaffError("unknown role assignment", ja="その役割の割り当ては見つかりません")
    touch_staff(conn, [staff_id])


def remove_override(conn: Connection, staff_id: int, override_id: int) -> None:
    """Withdraw one grant or denial; raises StaffError."""
    from sqlalchemy import delete

    from server.staff import touch_staff

    so = t.staff_overrides
    if not conn.execute(delete(so).where(so.c.id == override_id, so.c.staff_id == staff_id)).rowcount:
        raise StaffError("unknown override", ja="その個別の許可・禁止は見つかりません")
    touch_staff(conn, [staff_id])
