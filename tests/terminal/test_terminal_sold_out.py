"""Sold out from the till (``Terminal.set_sold_out``, terminal/soldout.py) against a real server behind a fault proxy.

Approved: the server's product row changes and this till's catalog shows it at once (before any
pull).  A person without ``product.sold_out`` is refused here, without a call; another stall's
product is not this till's to mark; a lost answer asked again is harmless (it sets a value);
offline, or with the server unreachable, the till says it needs the server and nothing changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from terminal_live import PIN

from server.db import tables as t
from terminal.decisions import DeclineReason


def _server_sold_out(live: Any, product_id: int) -> bool:
    with live.seed.db.read() as conn:
        return bool(conn.execute(select(t.products.c.sold_out).where(t.products.c.id == product_id)).scalar_one())


def _here(term: Any, product_id: int) -> bool:
    return next(p for p in term.catalog() if p.id == product_id).sold_out


def test_marked_on_the_server_and_shown_here_at_once(live: Any, tmp_path: Path) -> None:
    term = live.terminal(tmp_path / "t")
    yakisoba = live.products[0]
    decision = term.set_sold_out(yakisoba, True)
    assert decision.approved and decision.params == {"name": "Yakisoba", "sold_out": True, "changed": True}
    assert _server_sold_out(live, yakisoba) and _here(term, yakisoba)
    again = term.set_sold_out(yakisoba, True)  # asked again (a lost answer): nothing more happens
    assert again.approved and again.params["changed"] is False
    back = term.set_sold_out(yakisoba, False)
    assert back.approved and not _server_sold_out(live, yakisoba) and not _here(term, yakisoba)


def test_who_and_what_the_till_refuses_before_asking(live: Any, tmp_path: Path) -> None:
    term = live.terminal(tmp_path / "t")
    cashier = live.seed.staff("Ken", pin=PIN, roles=[("cashier", "stall", live.stall)])
    term.sync_now()
    assert term.login(live.seed.badge(cashier), PIN).ok
    refused = term.set_sold_out(live.products[0], True)
    assert refused.reason == DeclineReason.NOT_PERMITTED and refused.params["permission"] == "product.sold_out"
    assert term.login(live.seed.badge(live.cashier), PIN).ok
    other = live.seed.product(live.seed.stall("Crepes"), "Crepe", 400)
    term.sync_now()
    assert term.set_sold_out(other, True).reason == DeclineReason.INVALID_CART  # not a product of this stall
    assert not _server_sold_out(live, other) and not _server_sold_out(live, live.products[0])


def test_no_stock_left_stays_sold_out(live: Any, tmp_path: Path) -> None:
    term = live.terminal(tmp_path / "t")
    ramune = live.products[1]
    with live.seed.db.write() as conn:
        conn.execute(update(t.products).where(t.products.c.id == ramune).values(stock=0, sold_out=True))
    decision = term.set_sold_out(ramune, False)
    assert decision.reason == DeclineReason.NO_STOCK_LEFT and decision.params["name"] == "Ramune"
    assert _server_sold_out(live, ramune)


def test_offline_it_needs_the_server_and_changes_nothing(live: Any, tmp_path: Path) -> None:
    term = live.terminal(tmp_path / "t")
    yakisoba = live.products[0]
    live.proxy.set_mode("drop")  # the uplink refuses every connection
    decision = term.set_sold_out(yakisoba, True)
    assert decision.reason == DeclineReason.SOLD_OUT_NEEDS_SERVER and decision.params["name"] == "Yakisoba"
    assert not _server_sold_out(live, yakisoba) and not _here(term, yakisoba)
    live.proxy.set_mode("stall")  # accepted, never answered: the request's own timeout, then the same words
    assert term.set_sold_out(yakisoba, True).reason == DeclineReason.SOLD_OUT_NEEDS_SERVER
    live.proxy.set_mode("pass")
    assert term.set_sold_out(yakisoba, True).approved and _server_sold_out(live, yakisoba)
