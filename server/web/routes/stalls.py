"""Stalls and their products: prices, stock, sold-out; terminals pull every change."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from server.catalog import create_product, create_stall
from server.web import actions, queries
from server.web.access import Admin
from server.web.authz import EVENT_OBJECT, Visible, product_in_path, require, stall_in_path
from server.web.deps import PageDep, database
from server.web.forms import category_field, checkbox, colour_field, money_field, optional_int, required_name
from server.web.render import page
from sync.permissions import Permission, Scope
from sync.schemas import PRODUCT_COLOURS

router = APIRouter()
P = Permission.STALLS_MANAGE


@router.get("/admin/stalls")
def stalls_page(request: Request, ctx: PageDep, admin: Admin = require(P)) -> Response:
    """Every stall the admin may manage, with its products."""
    with database(request).read() as conn:
        ids = sorted(Visible(admin.grants, P).stalls(queries.all_stall_ids(conn)))
        stalls = queries.stalls_with_products(conn, ids)
    return page(request, "stalls.html", ctx, active="stalls", stalls=stalls, can_create=admin.can(P, Scope()),
                colours=PRODUCT_COLOURS)


@router.post("/admin/stalls")
def stall_create(request: Request, ctx: PageDep, name: Annotated[str, Form(max_length=100)],
                 allow_free_amount: Annotated[str | None, Form()] = None,
                 admin: Admin = require(P, on=EVENT_OBJECT)) -> Response:
    """Create a stall (an event-wide permission)."""
    free = checkbox(allow_free_amount)
    return actions.perform(
        request, ctx, admin, "stall.create",
        lambda conn, now: {"stall_id": create_stall(conn, name=required_name(ctx, name), now_ms=now,
                                                    allow_free_amount=free)},
        back="/admin/stalls", done="saved", name=name)


@router.post("/admin/stalls/{stall_id}")
def stall_update(request: Request, ctx: PageDep, stall_id: int, name: Annotated[str, Form(max_length=100)],
                 active: Annotated[str | None, Form()] = None, allow_free_amount: Annotated[str | None, Form()] = None,
                 admin: Admin = require(P, on=stall_in_path)) -> Response:
    """Rename or (de)activate a stall."""
    values: dict[str, Any] = {"name": name, "active": checkbox(active),
                              "allow_free_amount": checkbox(allow_free_amount)}
    return actions.perform(request, ctx, admin, "stall.update",
                           lambda conn, now: actions.update_stall(conn, stall_id, **(values | {
                               "name": required_name(ctx, name)})),
                           back="/admin/stalls", done="saved", stall_id=stall_id, **values)


@router.post("/admin/stalls/{stall_id}/products")
def product_create(request: Request, ctx: PageDep, stall_id: int, name: Annotated[str, Form(max_length=100)],
                   price: Annotated[str, Form(max_length=20)], stock: Annotated[str, Form(max_length=12)] = "",
                   kind: Annotated[str, Form(max_length=12)] = "normal",
                   category: Annotated[str, Form(max_length=200)] = "",
                   colour: Annotated[str, Form(max_length=20)] = "",
                   admin: Admin = require(P, on=stall_in_path)) -> Response:
    """Add a product to a stall (a deposit or a discount: ``server.catalog.create_product``)."""

    def run(conn: object, now: int) -> dict[str, object]:
        amount, count = money_field(ctx, price), optional_int(stock, ctx)
        group, shade = category_field(ctx, category), colour_field(ctx, colour)
        pid = create_product(conn, stall_id=stall_id, name=required_name(ctx, name), price=amount,  # type: ignore[arg-type]
                             stock=count, kind=kind, category=group, colour=shade)
        return {"product_id": pid, "price": amount, "stock": count, "kind": kind, "category": group, "colour": shade}

    return actions.perform(request, ctx, admin, "product.create", run, back="/admin/stalls", done="saved",
                           stall_id=stall_id, name=name)


@router.post("/admin/products/{product_id}")
def product_update(request: Request, ctx: PageDep, product_id: int, name: Annotated[str, Form(max_length=100)],
                   price: Annotated[str, Form(max_length=20)], stock: Annotated[str, Form(max_length=12)] = "",
                   sold_out: Annotated[str | None, Form()] = None, active: Annotated[str | None, Form()] = None,
                   category: Annotated[str | None, Form(max_length=200)] = None,
                   colour: Annotated[str | None, Form(max_length=20)] = None,
                   admin: Admin = require(P, on=product_in_path)) -> Response:
    """Change a product's price, stock, sold-out or active flag, its category and button colour."""
    with database(request).read() as conn:
        stall_id = queries.product_stall(conn, product_id)

    def run(conn: object, now: int) -> dict[str, object]:
        values = {"name": required_name(ctx, name), "price": money_field(ctx, price), "stock": optional_int(stock, ctx),
                  "sold_out": checkbox(sold_out), "active": checkbox(active)}
        if category is not None:  # a form without the field (an older page) leaves it as it is
            values["category"] = category_field(ctx, category)
        if colour is not None:
            values["colour"] = colour_field(ctx, colour)
        actions.update_product(conn, product_id, **values)  # type: ignore[arg-type]
        return values

    return actions.perform(request, ctx, admin, "product.update", run, back="/admin/stalls", done="saved",
                           product_id=product_id, stall_id=stall_id)
