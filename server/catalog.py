"""Stalls, products, gates and ticket types: what terminals sell and scan."""

from __future__ import annotations

import json
from typing import Any, Literal

from sqlalchemy import Connection, insert, select, update

from server.db import tables as t
from server.db.engine import reserve_changes
from server.ledger import ensure_account
from server.said import Said
from sync.schemas import CATEGORY_MAX, PRODUCT_COLOURS, PRODUCT_KINDS

__all__ = ["CatalogError", "NoStockLeft", "clean_category", "clean_colour", "create_gate", "create_product",
           "create_stall", "create_ticket_type", "set_sold_out", "set_stock"]

MAX_PRICE = 10**12  # sync.schemas.Amount: what a terminal's sale line accepts


class CatalogError(Said):
    """A catalog change with bad input; the message is safe to show."""


_JA_WHAT = {"stall": "模擬店", "product": "商品", "gate": "ゲート", "ticket type": "チケット種別"}  # for Said's ja
_JA_KIND = {"deposit": "保証金", "discount": "値引き", "normal": "通常"}


def _name(name: object, what: str) -> str:
    """A catalog name without its outer spaces; blank, only spaces or over 100 characters is refused."""
    text = name.strip() if isinstance(name, str) else ""
    if not text:
        raise CatalogError(f"a {what} needs a name (blank or only spaces is not one)",
                           ja=f"{_JA_WHAT.get(what, what)}の名前を入力してください（空白だけでは名前になりません）")
    if len(text) > 100:
        raise CatalogError(f"a {what} name has at most 100 characters",
                           ja=f"{_JA_WHAT.get(what, what)}の名前は100文字以内にしてください")
    return text


def clean_category(text: object) -> str:
    """A product category without its outer spaces ("" for none); over CATEGORY_MAX characters is refused."""
    value = " ".join(text.split()) if isinstance(text, str) else ""
    if len(value) > CATEGORY_MAX:
        raise CatalogError(f"a product category has at most {CATEGORY_MAX} characters",
                           ja=f"商品の分類は{CATEGORY_MAX}文字以内にしてください")
    return value


def clean_colour(value: object) -> str | None:
    """A product button's colour: a palette name (sync.schemas.PRODUCT_COLOURS), or None/"" for plain."""
    if value is None or value == "":
        return None
    if value not in PRODUCT_COLOURS:
        raise CatalogError(f"a product colour is one of {', '.join(PRODUCT_COLOURS)}, not {str(value)[:20]!r}",
                           ja="ボタンの色は一覧から選んでください")
    return str(value)


def _stock(stock: object) -> int | None:
    if stock is None:
        return None
    if isinstance(stock, bool) or not isinstance(stock, int) or not 0 <= stock <= 10**9:
        raise CatalogError("stock must be a whole number from 0 to 1,000,000,000 (or none: not counted)",
                           ja="在庫は0から1,000,000,000までの整数で入力してください（空欄: 数えない）")
    return stock


def create_stall(conn: Connection, *, name: str, now_ms: int, allow_free_amount: bool = False) -> int:
    """Create a stall and its revenue account; returns the stall id.  Raises CatalogError for a blank name."""
    name = _name(name, "stall")
    stall_id = int(conn.execute(insert(t.stalls).values(
        name=name, allow_free_amount=allow_free_amount, active=True,
        change_seq=reserve_changes(conn, 1)).returning(t.stalls.c.id)).scalar_one())
    ensure_account(conn, "stall_revenue", stall_id, now_ms=now_ms, name=name)
    ensure_account(conn, "stall_deposit", stall_id, now_ms=now_ms, name="deposits")
    ensure_account(conn, "stall_discount", stall_id, now_ms=now_ms, name="discounts")
    return stall_id


def create_product(conn: Connection, *, stall_id: int, name: str, price: int, stock: int | None = None,
                   sort: int = 0, kind: str = "normal", category: str = "", colour: str | None = None) -> int:
    """Create a product of a stall; raises CatalogError for an unknown stall, a blank name or a negative price.

    ``kind``: ``normal``; ``deposit`` (its price goes to the stall's deposit account, and a
    negative line of it, the return, pays it back); ``discount`` (only ever a negative line:
    it lowers the stall's sales, booked to the stall's discount account).  A deposit or a
    discount has a price above zero, and is never counted in stock.  ``category`` groups the
    terminal's buttons ("" for none); ``colour`` is a palette name (``sync.schemas.PRODUCT_COLOURS``).
    """
    name = _name(name, "product")
    if isinstance(price, bool) or not isinstance(price, int) or not 0 <= price <= MAX_PRICE:
        raise CatalogError("price must be a non-negative integer amount", ja="価格は0以上の金額で入力してください")
    if kind not in PRODUCT_KINDS:
        raise CatalogError(
            f"a product is of kind {', '.join(PRODUCT_KINDS)}, not {kind!r}",
            ja="商品の種類は一覧から選んでください")
    if kind != "normal" and price <= 0:
        raise CatalogError(f"a {kind} product needs a price above zero",
                           ja=f"{_JA_KIND.get(kind, kind)}の商品は0より大きい価格が必要です")
    if kind != "normal" and stock is not None:
        raise CatalogError(f"a {kind} product is not counted in stock",
                           ja=f"{_JA_KIND.get(kind, kind)}の商品には在庫数を設定できません")
    stock = _stock(stock)
    group, shade = clean_category(category), clean_colour(colour)
    if conn.execute(select(t.stalls.c.id).where(t.stalls.c.id == stall_id)).first() is None:
        raise CatalogError(f"unknown stall {stall_id}", ja=f"模擬店 {stall_id} は見つかりません")
    return int(conn.execute(insert(t.products).values(
        stall_id=stall_id, name=name, price=price, stock=stock, sold_out=stock is not None and stock <= 0,
        active=True, sort=sort, kind=kind, category=group, colour=shade,
        change_seq=reserve_changes(conn, 1)).returning(t.products.c.id)).scalar_one())


def set_stock(conn: Connection, product_id: int, *, stock: int | None, sold_out: bool | None = None) -> None:
    """Set a product's stock count (None: not counted) and sold-out flag."""
    if sold_out is None:
        sold_out = stock is not None and stock <= 0
    conn.execute(update(t.products).where(t.products.c.id == product_id).values(
        stock=stock, sold_out=sold_out, change_seq=reserve_changes(conn, 1)))


def create_gate(conn: Connection, *, name: str) -> int:
    """Create a gate; returns its id.  Raises CatalogError for a blank name."""
    name = _name(name, "gate")
    return int(conn.execute(insert(t.gates).values(name=name, active=True, change_seq=reserve_changes(conn, 1))
                            .returning(t.gates.c.id)).scalar_one())


def create_ticket_type(conn: Connection, *, name: str, policy: Literal["single", "reentry", "unlimited"],
                       gate_ids: list[int] | None = None, valid_from: int | None = None,
                       valid_until: int | None = None) -> int:
    """Create a ticket type (validity window in Unix s, None: open); raises CatalogError for a bad policy or window."""
    name = _name(name, "ticket type")
    if policy not in ("single", "reentry", "unlimited"):
        raise CatalogError(f"unknown entry policy {policy!r}", ja="入場ルールは一覧から選んでください")
    if valid_from is not None and valid_until is not None and valid_until <= valid_from:
        raise CatalogError(
            "the validity window must end after it starts",
            ja="有効期間の終わりは始まりより後にしてください")
    return int(conn.execute(insert(t.ticket_types).values(
        name=name, policy=policy, gate_ids=json.dumps(sorted(gate_ids or [])), active=True,
        valid_from=valid_from, valid_until=valid_until,
        change_seq=reserve_changes(conn, 1)).returning(t.ticket_types.c.id)).scalar_one())


class NoStockLeft(CatalogError):
    """A counted product with nothing left cannot go back on sale: its stock is set on the dashboard."""


def set_sold_out(conn: Connection, product_id: int, *, sold_out: bool, lock: bool) -> tuple[Any, bool]:
    """Mark a product sold out or back on sale; returns (the product's row as it was, whether it changed).

    ``lock`` (PostgreSQL): the product's row is locked before it is read, so two tills (or a till
    and the dashboard) decide one after the other.  Back on sale with a counted stock of 0 is
    refused (``NoStockLeft``), as the dashboard keeps such a product sold out.  Raises CatalogError
    for an unknown product.  Terminals pull the change (a new change number) only when it changed.
    """
    p = t.products
    query = select(p).where(p.c.id == product_id)
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise CatalogError(f"unknown product {product_id}", ja=f"商品 {product_id} は見つかりません")
    if not sold_out and row.stock is not None and row.stock <= 0:
        raise NoStockLeft(f"product {product_id} has no stock left: set its stock on the dashboard first",
                          ja=f"商品 {product_id} は在庫が0です。先に管理画面で在庫数を設定してください")
    if bool(row.sold_out) == sold_out:
        return row, False
    conn.execute(update(p).where(p.c.id == product_id).values(sold_out=sold_out,
                                                              change_seq=reserve_changes(conn, 1)))
    return row, True
