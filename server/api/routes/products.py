"""POST /api/v1/products/{product_id}/sold-out: a stall's till marks one of its products sold out, or back on sale.

Only an enrolled stall terminal of the product's own stall, for the person logged in there
holding ``product.sold_out`` for that stall: the rule ``product_sold_out`` of
``server.authority.ACTIONS``, judged like a record.  Online only (a till offline says it needs the
server, rather than queue a change that could undo a later one made on the dashboard).  It sets a
value, so asking again after a lost answer changes nothing; audited when it changes something.
The stall's other tills see it on their next pull, the dashboard at once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from sqlalchemy import Connection, select

from server import authority
from server.api.deps import ApiProblem, ServicesDep, TerminalDep
from server.api.schemas import ErrorBody
from server.audit import audit
from server.catalog import CatalogError, NoStockLeft, set_sold_out
from server.db import tables as t
from server.pull import product_row
from server.staff import load_access
from sync.schemas import SoldOutRequest, SoldOutResponse

router = APIRouter(prefix="/products", tags=["catalog"],
                   responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 404: {"model": ErrorBody},
                              409: {"model": ErrorBody}, 422: {"model": ErrorBody}})

ProductId = Annotated[int, Path(ge=1, lt=1 << 31)]


@router.post("/{product_id}/sold-out", response_model=SoldOutResponse)
def mark_sold_out(product_id: ProductId, body: SoldOutRequest, terminal: TerminalDep,
                  services: ServicesDep) -> SoldOutResponse:
    """Set the product's sold-out flag; 404 unknown product, 403 not this till or person, 409 no stock left."""
    now = services.clock()
    db = services.db
    with db.read() as conn:
        product = conn.execute(select(t.products.c.id, t.products.c.stall_id)
                               .where(t.products.c.id == product_id)).first()  # a product never moves stall
        if product is None:
            raise ApiProblem(404, f"unknown product {product_id}", reason="unknown_product")
        access = load_access(conn, [body.staff_id])
    verdict = authority.judge_action(terminal, "product_sold_out", body.staff_id, access, received_ms=now,
                                     subject=product)
    if verdict.breaches:
        raise ApiProblem(403, verdict.reason, reason="forbidden")

    def work(conn: Connection) -> SoldOutResponse:
        row, changed = set_sold_out(conn, product_id, sold_out=body.sold_out, lock=not db.is_sqlite)
        if changed:
            audit(conn, actor=f"terminal:{terminal.id}", action="product.sold_out" if body.sold_out else
                  "product.on_sale", now_ms=now, product_id=product_id, stall_id=int(row.stall_id),
                  staff_id=body.staff_id, terminal_id=terminal.id)
        shown = product_row(row).model_copy(update={"sold_out": body.sold_out})
        return SoldOutResponse(product=shown, changed=changed)

    try:
        return db.run_write(work)
    except NoStockLeft as exc:
        raise ApiProblem(409, str(exc), reason="no_stock_left") from exc
    except CatalogError as exc:  # deleted between the read and the write: as unknown
        raise ApiProblem(404, str(exc), reason="unknown_product") from exc
