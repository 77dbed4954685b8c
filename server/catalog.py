"""Stalls, products, gates and ticket types: what terminals sell and scan."""

from __future__ import annotations

import json
from typing import Any, Literal

from sqlalchemy import Connection, insert, select, update

from server.db import tables as t
from server.db.engine import reserve_changes
from server.ledger import ensure_account
from sync.schemas import CATEGORY_MAX, PRODUCT_COLOURS, PRODUCT_KINDS

__all__ = ["CatalogError", "NoStockLeft", "clean_category", "clean_colour", "create_gate", "create_product",
           "create_stall", "create_ticket_type", "set_sold_out", "set_stock"]

MAX_PRICE = 10**12  # sync.schemas.Amount: what a terminal's sale line accepts


class CatalogError(ValueError):
    """A catalog change with bad input; the message is safe to show."""


def _name(name: object, what: str) -> str:
    """A catalog name without its outer spaces; blank, only spaces or over 100 characters is refused."""
    text = name.strip() if isinstance(name, str) else ""
    if not text:
        raise CatalogError(f"a {what} needs a name (blank or only spaces is not one)")
    if len(text) > 100:
        raise CatalogError(f"a {what} name has at most 100 characters")
    return text


def clean_category(text: object) -> str:
    """A product category without its outer spaces ("" for none); over CATEGORY_MAX characters is refused."""
    value = " ".join(text.split()) if isinstance(text, str) else ""
    if len(value) > CATEGORY_MAX:
        raise CatalogError(f"a product category has at most {CATEGORY_MAX} characters")
    return value


def clean_colour(value: object) -> str | None:
    """A product button's colour: a palette name (sync.schemas.PRODUCT_COLOURS), or None/"" for plain."""
    if value is None or value == "":
        return None
    if value not in PRODUCT_COLOURS:
        raise CatalogError(f"a product colour is one of {', '.join(PRODUCT_COLOURS)}, not {str(value)[:20]!r}")
    return str(value)


def _stock(stock: object) -> int | None:
    if stock is None:
        return None
    if isinstance(stock, bool) or not isinstance(stock, int) or not 0 <= stock <= 10**9:
        raise CatalogError("stock must be a whole number from 0 to 1,000,000,000 (or none: not counted)")
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
        raise CatalogError("price must be a non-negative integer amount")
    if kind not in PRODUCT_KINDS:
        raise CatalogError(f"a product is of kind {', '.join(PRODUCT_KINDS)}, not {kind!r}")
    if kind != "normal" and price <= 0:
        raise CatalogError(f"a {kind} product needs a price above zero")
    if kind != "normal" and stock is not None:
        raise CatalogError(f"a {kind} product is not counted in stock")
    stock = _stock(stock)
    group, shade = clean_category(category), clean_colour(colour)
    if conn.execute(select(t.stalls.c.id).where(t.stalls.c.id == stall_id)).first() is None:
        raise CatalogError(f"unknown stall {stall_id}")
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
        raise CatalogError(f"unknown entry policy {policy!r}")
    if valid_from is not None and valid_until is not None and valid_until <= valid_from:
        raise CatalogError("the validity window must end after it starts")
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
        raise CatalogError(f"unknown product {product_id}")
    if not sold_out and row.stock is not None and row.stock <= 0:
        raise NoStockLeft(f"product {product_id} has no stock left: set its stock on the dashboard first")
    if bool(row.sold_out) == sold_out:
        return row, False
    conn.execute(update(p).where(p.c.id == product_id).values(sold_out=sold_out,
                                                              change_seq=reserve_changes(conn, 1)))
    return row, True
