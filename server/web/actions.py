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
from sqlalchemy import Connection, update
from starlette.requests import Request

from server.audit import audit
from server.catalog import CatalogError
from server.db import tables as t
from server.db.engine import reserve_changes
from server.staff import StaffError
from server.wallets import WalletError
from server.web.access import Admin
from server.web.deps import clock_ms, database
from server.web.render import PageContext, page

__all__ = ["UserError", "back_to", "perform", "update_product", "update_stall"]

# Errors whose message the server promises is safe to show to an admin.
UserError: tuple[type[Exception], ...] = (CatalogError, StaffError, WalletError, ValueError)


def back_to(path: str, **params: object) -> Response:
    """A 303 redirect after a POST (so reloading does not repeat the action)."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=303)


def perform(request: Request, ctx: PageContext, admin: Admin, action: str, fn: Callable[[Connection, int], Any],
            *, back: str, done: str, **detail: Any) -> Response:
    """Run ``fn(conn, now_ms)`` and audit ``action`` in one transaction; a refused input shows the error page."""
    now_ms = clock_ms(request)
    try:
        with database(request).write() as conn:
            result = fn(conn, now_ms)
            if isinstance(result, dict):
                detail.update(result)
            audit(conn, actor=admin.actor, action=action, now_ms=now_ms, **detail)
    except UserError as exc:
        return page(request, "error.html", ctx, status_code=422, status=422, heading=ctx.t("error.invalid"),
                    message=str(exc), back=back)
    return back_to(back, done=done)


# ------------------------------------------------- writes the server lacks (move to server.catalog)


def update_stall(conn: Connection, stall_id: int, *, name: str, active: bool, allow_free_amount: bool) -> None:
    """Rename, (de)activate a stall; terminals pull the change. Raises CatalogError."""
    if not name.strip():
        raise CatalogError("a stall needs a name")
    done = conn.execute(update(t.stalls).where(t.stalls.c.id == stall_id).values(
        name=name.strip(), active=active, allow_free_amount=allow_free_amount,
        change_seq=reserve_changes(conn, 1))).rowcount
    if not done:
        raise CatalogError(f"unknown stall {stall_id}")


def update_product(conn: Connection, product_id: int, *, name: str, price: int, stock: int | None,
                   sold_out: bool, active: bool) -> None:
    """Change a product's name, price, stock, sold-out and active flags; raises CatalogError."""
    if not name.strip():
        raise CatalogError("a product needs a name")
    if price < 0:
        raise CatalogError("price must be a non-negative integer amount")
    done = conn.execute(update(t.products).where(t.products.c.id == product_id).values(
        name=name.strip(), price=price, stock=stock, sold_out=sold_out or (stock is not None and stock <= 0),
        active=active, change_seq=reserve_changes(conn, 1))).rowcount
    if not done:
        raise CatalogError(f"unknown product {product_id}")
