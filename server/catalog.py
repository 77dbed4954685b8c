"""Stalls, products, gates and ticket types: what terminals sell and scan."""

from __future__ import annotations

import json
from typing import Literal

from sqlalchemy import Connection, insert, update

from server.db import tables as t
from server.db.engine import reserve_changes
from server.ledger import ensure_account

__all__ = ["CatalogError", "create_gate", "create_product", "create_stall", "create_ticket_type",
           "set_stock"]


class CatalogError(ValueError):
    """A catalog change with bad input; the message is safe to show."""


def create_stall(conn: Connection, *, name: str, now_ms: int, allow_free_amount: bool = False) -> int:
    """Create a stall and its revenue account; returns the stall id."""
    if not name.strip():
        raise CatalogError("a stall needs a name")
    stall_id = int(conn.execute(insert(t.stalls).values(
        name=name, allow_free_amount=allow_free_amount, active=True,
        change_seq=reserve_changes(conn, 1)).returning(t.stalls.c.id)).scalar_one())
    ensure_account(conn, "stall_revenue", stall_id, now_ms=now_ms, name=name)
    return stall_id


def create_product(conn: Connection, *, stall_id: int, name: str, price: int, stock: int | None = None,
                   sort: int = 0) -> int:
    """Create a product of a stall; raises CatalogError for a negative price."""
    if isinstance(price, bool) or not isinstance(price, int) or price < 0:
        raise CatalogError("price must be a non-negative integer amount")
    return int(conn.execute(insert(t.products).values(
        stall_id=stall_id, name=name, price=price, stock=stock, sold_out=stock is not None and stock <= 0,
        active=True, sort=sort, change_seq=reserve_changes(conn, 1)).returning(t.products.c.id)).scalar_one())


def set_stock(conn: Connection, product_id: int, *, stock: int | None, sold_out: bool | None = None) -> None:
    """Set a product's stock count (None: not counted) and sold-out flag."""
    if sold_out is None:
        sold_out = stock is not None and stock <= 0
    conn.execute(update(t.products).where(t.products.c.id == product_id).values(
        stock=stock, sold_out=sold_out, change_seq=reserve_changes(conn, 1)))


def create_gate(conn: Connection, *, name: str) -> int:
    """Create a gate; returns its id."""
    return int(conn.execute(insert(t.gates).values(name=name, active=True, change_seq=reserve_changes(conn, 1))
                            .returning(t.gates.c.id)).scalar_one())


def create_ticket_type(conn: Connection, *, name: str, policy: Literal["single", "reentry", "unlimited"],
                       gate_ids: list[int] | None = None, valid_from: int | None = None,
                       valid_until: int | None = None) -> int:
    """Create a ticket type (validity window in Unix s, None: open); raises CatalogError for a bad policy or window."""
    if policy not in ("single", "reentry", "unlimited"):
        raise CatalogError(f"unknown entry policy {policy!r}")
    if valid_from is not None and valid_until is not None and valid_until <= valid_from:
        raise CatalogError("the validity window must end after it starts")
    return int(conn.execute(insert(t.ticket_types).values(
        name=name, policy=policy, gate_ids=json.dumps(sorted(gate_ids or [])), active=True,
        valid_from=valid_from, valid_until=valid_until,
        change_seq=reserve_changes(conn, 1)).returning(t.ticket_types.c.id)).scalar_one())
