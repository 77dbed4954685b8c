"""Refunds, voids and top-ups at the till, and the shift report."""

from __future__ import annotations

import json

import pytest
from terminal_helpers import CASHIER, SUPERVISOR, TOPUPPER, Env

from sync.schemas import StatementRow, TerminalMode
from terminal.decisions import Cart, DeclineReason
from terminal.engine import Terminal

W = 0x55_0000_0001
R = DeclineReason


@pytest.fixture
def term(env: Env) -> Terminal:
    t = env.seed(statements=[StatementRow(wallet_id=W, balance=5000, seq=1)])
    env.login(SUPERVISOR)
    return t


def test_refunds_never_exceed_the_original(env: Env, term: Terminal) -> None:
    sale = term.sell(Cart.of([(1, 2)]), env.wallet(W, 5000, 1))
    assert sale.approved and sale.record_id
    assert term.refund(sale.record_id, 1001).reason is R.ABOVE_ORIGINAL
    assert term.refund(sale.record_id, 600).approved
    over = term.refund(sale.record_id, 401)
    assert over.reason is R.ABOVE_ORIGINAL and over.params["left"] == 400
    assert term.refund(sale.record_id, 400).approved
    assert term.refund(sale.record_id, 1).reason is R.ABOVE_ORIGINAL
    assert term.void(sale.record_id).reason is R.ABOVE_ORIGINAL  # partly refunded: no void


def test_void_cancels_the_whole_sale_once(env: Env, term: Terminal) -> None:
    sale = term.sell(Cart.amount(700), env.wallet(W, 5000, 1))
    assert sale.record_id
    void = term.void(sale.record_id, reason="wrong item")
    assert void.approved and void.amount == 700
    assert term.void(sale.record_id).reason is R.ALREADY_VOIDED
    assert term.refund(sale.record_id, 1).reason is R.ALREADY_VOIDED


@pytest.mark.parametrize("ref", ["nonsense", "01900000-0000-7000-8000-000000000000"])
def test_refund_of_an_unknown_sale(env: Env, term: Terminal, ref: str) -> None:
    assert term.refund(ref, 100).reason is R.REF_NOT_FOUND


def test_refund_needs_the_permission(env: Env, term: Terminal) -> None:
    sale = term.sell(Cart.amount(700), env.wallet(W, 5000, 1))
    env.login(CASHIER)
    assert term.refund(str(sale.record_id), 100).reason is R.NOT_PERMITTED
    assert term.void(str(sale.record_id)).reason is R.NOT_PERMITTED


def test_refund_amount_must_be_positive(env: Env, term: Terminal) -> None:
    sale = term.sell(Cart.amount(700), env.wallet(W, 5000, 1))
    assert term.refund(str(sale.record_id), 0).reason is R.INVALID_AMOUNT


def test_topup_only_at_a_topup_desk(env: Env, term: Terminal) -> None:
    env.login(TOPUPPER)
    assert term.topup(env.wallet(W, 5000, 1), 1000).reason is R.WRONG_MODE


def test_topup_is_online_and_not_sent_when_unreachable(env: Env) -> None:
    env.mode = TerminalMode.TOPUP
    term = env.seed(statements=[StatementRow(wallet_id=W, balance=5000, seq=1)])
    env.login(TOPUPPER)
    decision = term.topup(env.wallet(W, 5000, 1), 1000, cash_received=2000)
    assert decision.reason is R.TOPUP_NOT_SENT and decision.params["change"] == 1000  # never sent: hand it back
    assert term.topup_doubts() == []
    assert term.topup(env.wallet(W, 5000, 1), 1000, cash_received=500).reason is R.INVALID_AMOUNT
    env.login(CASHIER)
    assert term.topup(env.wallet(W, 5000, 1), 1000).reason is R.NOT_PERMITTED
    assert term.status().unsynced_count == 0


def test_shift_report(env: Env, term: Terminal) -> None:
    env.clock.advance(1)
    a = term.sell(Cart.of([(1, 2), (2, 1)]), env.wallet(W, 5000, 1))
    b = term.sell(Cart.of([(2, 3)]), env.wallet(W, 5000, 1))
    c = term.sell(Cart.amount(300), env.wallet(W, 5000, 1))
    declined = term.sell(Cart.amount(10_000), env.wallet(W, 5000, 1))
    assert a.approved and b.approved and c.approved and not declined.approved
    assert term.refund(str(a.record_id), 200).approved
    assert term.void(str(c.record_id)).approved
    report = term.shift_report()
    assert report.staff_id == SUPERVISOR
    assert (report.sales_count, report.sales_amount) == (3, 1200 + 600 + 300)
    assert (report.refunds_count, report.refunds_amount) == (1, 200)
    assert (report.voids_count, report.voids_amount) == (1, 300)
    assert report.net_sales == 2100 - 500
    assert report.offline_count == 5 and report.unsynced_count == 5
    assert [(p.product_id, p.qty, p.amount) for p in report.products] == [(None, 1, 300), (1, 2, 1000),
                                                                            (2, 4, 800)]
    env.login(CASHIER)  # a new shift for someone else starts empty
    assert term.shift_report().sales_count == 0
    assert term.shift_report(whole_terminal=True).sales_count == 3
    assert term.shift_report().to_json()["net_sales"] == 0


def test_supervisor_approved_refund_and_void_are_in_the_cashiers_shift(env: Env, term: Terminal) -> None:
    """A supervisor approving at the cashier's till (their badge, for one action) books under their id;
    the refund was made at the cashier's till in the cashier's shift, so it is in the cashier's report."""
    env.login(CASHIER)
    env.clock.advance(1)
    a = term.sell(Cart.of([(1, 2)]), env.wallet(W, 5000, 1))
    b = term.sell(Cart.of([(2, 1)]), env.wallet(W, 5000, 1))
    assert a.approved and b.approved
    cashier = term.sessions.session
    env.login(SUPERVISOR)  # what ui/screens/supervisor.py does for the one action
    assert term.refund(str(a.record_id), 300).approved
    assert term.void(str(b.record_id)).approved
    term.sessions.session = cashier
    report = term.shift_report()
    assert report.staff_id == CASHIER
    assert (report.refunds_count, report.refunds_amount, report.voids_count, report.voids_amount) == (1, 300, 1, 200)
    assert report.approved_count == 2 and report.net_sales == 1200 - 500


def test_refund_by_item_follows_the_lines_and_counts_earlier_refunds(env: Env, term: Terminal) -> None:
    sale = term.sell(Cart.of([(1, 2), (2, 3)]), env.wallet(W, 5000, 1))  # 2 yakisoba 500 + 3 ramune 200
    assert sale.approved and sale.record_id and sale.amount == 1600
    items = {i.product_id: (i.name, i.unit_price, i.sold, i.left) for i in term.refundable_items(sale.record_id)}
    assert items == {1: ("Yakisoba", 500, 2, 2), 2: ("Ramune", 200, 3, 3)}
    first = term.refund(sale.record_id, 0, items={1: 1, 2: 2})
    assert first.approved and first.amount == 900
    assert term.store.lines_of(first.record_id) == [(1, 1, 500), (2, 2, 200)]
    body = json.loads(term.store.record(first.record_id).body)
    assert body["lines"] == [{"product_id": 1, "qty": 1, "unit_price": 500},
                             {"product_id": 2, "qty": 2, "unit_price": 200}] and body["amount"] == 900
    over = term.refund(sale.record_id, 0, items={1: 2})
    assert over.reason is R.ITEM_ABOVE_LEFT and over.params["left"] == 1 and over.params["name"] == "Yakisoba"
    assert term.refund(sale.record_id, 0, items={4: 1}).reason is R.ITEM_NOT_IN_SALE
    assert term.refund(sale.record_id, 0, items={1: 0}).reason is R.INVALID_AMOUNT
    assert term.refund(sale.record_id, 0, items={1: -1}).reason is R.INVALID_AMOUNT
    left = {i.product_id: i.left for i in term.refundable_items(sale.record_id)}
    assert left == {1: 1, 2: 1}
    by_amount = term.refund(sale.record_id, 500)  # by amount stays, capped by what is left of the sale
    assert by_amount.approved and "lines" not in json.loads(term.store.record(by_amount.record_id).body)
    assert term.refund(sale.record_id, 0, items={1: 1, 2: 1}).reason is R.ABOVE_ORIGINAL  # 700 > 200 left
    assert term.refund(sale.record_id, 0, items={2: 1}).approved
    assert term.refund(sale.record_id, 0, items={2: 1}).reason is R.ITEM_ABOVE_LEFT


def test_a_free_amount_sale_has_nothing_to_refund_by_item(env: Env, term: Terminal) -> None:
    sale = term.sell(Cart.amount(700), env.wallet(W, 5000, 1))
    assert sale.record_id and term.refundable_items(sale.record_id) == []
    assert term.refund(sale.record_id, 0, items={1: 1}).reason is R.ITEM_NOT_IN_SALE
