"""Authorization on the terminal: every decline reason, the caps, and statement precedence."""

from __future__ import annotations

import httpx
import pytest
from terminal_helpers import CASHIER, NOBODY, STALL_ID, Env

from sync.ids import format_short_id
from sync.keys import IssuerKey
from sync.schemas import (
    EventSettings,
    ItemStatus,
    OfflineFallback,
    OpenPeriod,
    PushItemResult,
    RevocationKind,
    RevocationRow,
    StallRow,
    StatementRow,
    TerminalMode,
)
from sync.tokens import WalletToken, encode_token
from terminal.decisions import Cart, DeclineReason
from terminal.engine import Terminal

W = 0x12_3456_789A  # a wallet id
R = DeclineReason


def sell(env: Env, amount: int, wallet: str) -> object:
    assert env.terminal is not None
    return env.terminal.sell(Cart.amount(amount), wallet)


@pytest.fixture
def term(env: Env) -> Terminal:
    t = env.seed(statements=[StatementRow(wallet_id=W, balance=5000, seq=10)])
    env.login()
    return t


# ------------------------------------------------------------ the code shown


@pytest.mark.parametrize(("text", "reason"), [
    ("hello", R.NOT_A_CODE),
    ("", R.NOT_A_CODE),
    ("https://example.com/pay", R.NOT_A_CODE),
    ("EW1:%%%%", R.DAMAGED),
    ("EW1:" + "A" * 30, R.DAMAGED),
])
def test_unreadable_codes_are_declined_with_their_reason(env: Env, term: Terminal, text: str,
                                                         reason: DeclineReason) -> None:
    decision = term.sell(Cart.amount(100), text)
    assert not decision.approved and decision.reason is reason
    assert term.status().unsynced_count == 0


def test_a_token_signed_by_a_stranger_is_forged_and_logged(env: Env, term: Terminal) -> None:
    stranger = IssuerKey(env.issuer.key_id, IssuerKey.generate(0).key)  # same key id, other key
    decision = sell(env, 100, env.wallet(W, 5000, 10, issuer=stranger))
    assert decision.reason is R.FORGED  # type: ignore[attr-defined]
    events = term.store.security_events()
    assert events[0]["event"] == "forged_token" and events[0]["reason"] == "bad_signature"
    assert "EW1" not in events[0]["fingerprint"]  # a hash, never the token
    assert term.status().security_events == 1


def test_a_token_from_an_unknown_key_is_forged(env: Env, term: Terminal) -> None:
    decision = sell(env, 100, env.wallet(W, 5000, 10, issuer=IssuerKey.generate(77)))
    assert decision.reason is R.FORGED  # type: ignore[attr-defined]
    assert term.store.security_events()[0]["reason"] == "unknown_key"


def test_an_expired_token_is_declined(env: Env, term: Terminal) -> None:
    text = env.wallet(W, 5000, 10, ttl=60)
    env.clock.advance(61)
    assert sell(env, 100, text).reason is R.EXPIRED  # type: ignore[attr-defined]


def test_a_ticket_on_the_payment_screen_is_the_wrong_kind(env: Env, term: Terminal) -> None:
    assert sell(env, 100, env.ticket(5)).reason is R.WRONG_KIND  # type: ignore[attr-defined]


def test_a_revoked_wallet_is_declined_even_with_a_good_token(env: Env, term: Terminal) -> None:
    env.pull(revocations=[RevocationRow(kind=RevocationKind.WALLET, id=W)])
    assert sell(env, 100, env.wallet(W, 5000, 10)).reason is R.WALLET_REVOKED  # type: ignore[attr-defined]
    env.pull(revocations=[RevocationRow(kind=RevocationKind.WALLET, id=W, revoked=False)])
    assert sell(env, 100, env.wallet(W, 5000, 10)).approved  # type: ignore[attr-defined]


def test_a_blocked_statement_declines(env: Env, term: Terminal) -> None:
    env.pull(statements=[StatementRow(wallet_id=W, balance=5000, seq=11, blocked=True)])
    assert sell(env, 100, env.wallet(W, 5000, 10)).reason is R.WALLET_REVOKED  # type: ignore[attr-defined]


def test_a_typed_wallet_id_uses_the_pulled_statement_only(env: Env, term: Terminal) -> None:
    decision = term.sell(Cart.amount(700), format_short_id(W))
    assert decision.approved and decision.balance_after == 4300 and decision.params["source"] == "statement"
    unknown = term.sell(Cart.amount(100), format_short_id(W + 37))
    assert unknown.reason is R.NO_STATEMENT


# ------------------------------------------------------------ the cart and the till


@pytest.mark.parametrize(("cart", "reason"), [
    (Cart.of([(99, 1)]), R.INVALID_CART),  # unknown product
    (Cart.of([(4, 1)]), R.INVALID_CART),  # another stall's product
    (Cart.of([(3, 1)]), R.INVALID_CART),  # sold out
    (Cart.of([(1, 0)]), R.INVALID_CART),
    (Cart.of([]), R.INVALID_CART),
    (Cart.amount(0), R.INVALID_AMOUNT),
    (Cart.amount(-5), R.INVALID_AMOUNT),
])
def test_bad_carts_are_declined(env: Env, term: Terminal, cart: Cart, reason: DeclineReason) -> None:
    assert term.sell(cart, env.wallet(W, 5000, 10)).reason is reason


def test_free_amount_only_where_the_stall_allows_it(env: Env, term: Terminal) -> None:
    env.pull(stalls=[StallRow(id=STALL_ID, name="Yatai", allow_free_amount=False)])
    assert sell(env, 100, env.wallet(W, 5000, 10)).reason is R.FREE_AMOUNT_NOT_ALLOWED  # type: ignore[attr-defined]
    ok = term.sell(Cart.of([(1, 1), (2, 2)]), env.wallet(W, 5000, 10))
    assert ok.approved and ok.amount == 900


def test_selling_needs_a_login_and_the_permission(env: Env, term: Terminal) -> None:
    term.logout()
    assert sell(env, 100, env.wallet(W, 5000, 10)).reason is R.NOT_LOGGED_IN  # type: ignore[attr-defined]
    env.login(NOBODY)
    decision = sell(env, 100, env.wallet(W, 5000, 10))
    assert decision.reason is R.NOT_PERMITTED  # type: ignore[attr-defined]


def test_a_gate_terminal_does_not_sell(env: Env) -> None:
    env.mode = TerminalMode.GATE
    env.seed(statements=[StatementRow(wallet_id=W, balance=5000, seq=10)])
    env.login(CASHIER)
    assert sell(env, 100, env.wallet(W, 5000, 10)).reason is R.WRONG_MODE  # type: ignore[attr-defined]


def test_an_unenrolled_terminal_declines(env: Env) -> None:
    term = env.open()
    assert term.sell(Cart.amount(100), "x").reason is R.NOT_ENROLLED


def test_a_revoked_terminal_declines_and_forgets_personal_data(env: Env, term: Terminal) -> None:
    assert sell(env, 100, env.wallet(W, 5000, 10)).approved  # type: ignore[attr-defined]
    env.pull(revoked=True)
    assert sell(env, 100, env.wallet(W, 5000, 10)).reason is R.TERMINAL_REVOKED  # type: ignore[attr-defined]
    assert term.store.staff(CASHIER) is None and term.store.statement(W) is None
    assert term.status().revoked
    assert term.login(env.badge(CASHIER), "2468").reason == "terminal_revoked"
    assert len(term.recent()) == 1  # the terminal's own signed records are kept


# ------------------------------------------------------------ money and caps


def test_insufficient_balance_counts_this_terminals_unsynced_sales(env: Env, term: Terminal) -> None:
    token = env.wallet(W, 5000, 10, limit=10_000)
    for _ in range(2):
        assert sell(env, 1000, token).approved  # type: ignore[attr-defined]
    env.settings = EventSettings(floor_limit=1000, offline_limit=10_000, staff_idle_logout_s=86400)
    env.pull()
    for _ in range(3):
        assert sell(env, 1000, token).approved  # type: ignore[attr-defined]
    decision = sell(env, 1, token)
    assert decision.reason is R.INSUFFICIENT_BALANCE and decision.params["available"] == 0  # type: ignore[attr-defined]


def test_offline_limit_per_wallet_per_terminal(env: Env, term: Terminal) -> None:
    other = W + 1
    env.pull(statements=[StatementRow(wallet_id=other, balance=5000, seq=1)])
    for _ in range(3):
        assert sell(env, 1000, env.wallet(W, 5000, 10)).approved  # type: ignore[attr-defined]
    assert sell(env, 1, env.wallet(W, 5000, 10)).reason is R.OFFLINE_LIMIT  # type: ignore[attr-defined]
    assert sell(env, 1000, env.wallet(other, 5000, 1)).approved  # type: ignore[attr-defined]


def test_the_tokens_own_lower_offline_limit_applies(env: Env, term: Terminal) -> None:
    token = env.wallet(W, 5000, 10, limit=500)
    assert sell(env, 500, token).approved  # type: ignore[attr-defined]
    assert sell(env, 1, token).reason is R.OFFLINE_LIMIT  # type: ignore[attr-defined]


def test_acknowledged_sales_leave_the_offline_limit_once_a_statement_includes_them(env: Env, term: Terminal) -> None:
    token = env.wallet(W, 5000, 10)
    ids = [sell(env, 1000, token).record_id for _ in range(3)]  # type: ignore[attr-defined]
    assert sell(env, 1000, token).reason is R.OFFLINE_LIMIT  # type: ignore[attr-defined]
    results = [PushItemResult(id=i, status=ItemStatus.APPLIED, code=200, wallet_id=W, balance=4000 - 1000 * n,
                              seq=11 + n) for n, i in enumerate(ids)]
    term.store.apply_push_results(results, now_ms=env.clock.now_ms())
    assert term.store.statement(W) == StatementRow(wallet_id=W, balance=2000, seq=13)
    decision = sell(env, 1000, token)
    assert decision.approved and decision.balance_after == 1000  # type: ignore[attr-defined]


def test_unsynced_cap(env: Env) -> None:
    env.settings = EventSettings(floor_limit=1000, offline_limit=3000, unsynced_cap=2500, staff_idle_logout_s=86400)
    term = env.seed(statements=[StatementRow(wallet_id=w, balance=5000, seq=1) for w in (W, W + 1, W + 2)])
    env.login()
    assert sell(env, 1000, env.wallet(W, 5000, 1)).approved  # type: ignore[attr-defined]
    assert sell(env, 1000, env.wallet(W + 1, 5000, 1)).approved  # type: ignore[attr-defined]
    decision = sell(env, 1000, env.wallet(W + 2, 5000, 1))
    assert decision.reason is R.UNSYNCED_CAP  # type: ignore[attr-defined]
    first = term.recent(10)[-1]
    term.store.apply_push_results([PushItemResult(id=first.id, status=ItemStatus.APPLIED, code=200,
                                                  wallet_id=W, balance=4000, seq=2)], now_ms=env.clock.now_ms())
    assert sell(env, 1000, env.wallet(W + 2, 5000, 1)).approved  # type: ignore[attr-defined]


def test_too_long_since_the_last_sync(env: Env, term: Terminal) -> None:
    env.clock.advance(3600)
    assert sell(env, 100, env.wallet(W, 5000, 10)).approved  # type: ignore[attr-defined]
    env.clock.advance(2)
    assert sell(env, 100, env.wallet(W, 5000, 10)).reason is R.SYNC_TOO_OLD  # type: ignore[attr-defined]
    env.pull()  # a successful sync
    assert sell(env, 100, env.wallet(W, 5000, 10)).approved  # type: ignore[attr-defined]


def test_a_never_synced_terminal_counts_from_enrollment(env: Env) -> None:
    term = env.open()
    from terminal_helpers import KEY_NAME, SigningKey, save_private_key

    save_private_key(SigningKey.generate(), term.data_dir / KEY_NAME)
    env.terminal = term
    from sync.keys import public_key_to_b64
    from sync.schemas import EnrollResponse, IssuerKeyRow

    keys = [IssuerKeyRow(key_id=env.issuer.key_id, public_key=public_key_to_b64(env.issuer.public))]
    term.store.save_enrollment("http://127.0.0.1:9", EnrollResponse(
        terminal=env.me(), api_token="t" * 32, issuer_keys=keys, settings=env.settings,
        server_time_ms=env.clock.now_ms()), now_ms=env.clock.now_ms())
    env.pull(more=True, statements=[StatementRow(wallet_id=W, balance=5000, seq=1)])  # first pull interrupted
    assert term.store.last_sync_ms() is None and not term.store.pull_complete()
    env.login()
    assert sell(env, 100, env.wallet(W, 5000, 1)).approved  # type: ignore[attr-defined]
    env.clock.advance(3601)
    assert sell(env, 100, env.wallet(W, 5000, 1)).reason is R.SYNC_TOO_OLD  # type: ignore[attr-defined]


# ------------------------------------------------------------ above the floor limit


def test_above_the_floor_limit_unreachable_server_declines_with_decline_fallback(env: Env) -> None:
    env.settings = EventSettings(floor_limit=1000, offline_fallback=OfflineFallback.DECLINE)
    env.seed(statements=[StatementRow(wallet_id=W, balance=5000, seq=10)])
    env.login()
    assert sell(env, 1000, env.wallet(W, 5000, 10)).approved  # type: ignore[attr-defined]
    decision = sell(env, 1001, env.wallet(W, 5000, 10))
    assert decision.reason is R.SERVER_UNREACHABLE  # type: ignore[attr-defined]


def test_above_the_floor_limit_unreachable_server_approves_within_the_offline_limit(env: Env, term: Terminal) -> None:
    decision = sell(env, 2500, env.wallet(W, 5000, 10))
    assert decision.approved and decision.mode == "offline" and decision.params["server_unreachable"]  # type: ignore[attr-defined]
    second = sell(env, 1500, env.wallet(W, 5000, 10))
    assert second.reason is R.OFFLINE_LIMIT and second.params["server_unreachable"]  # type: ignore[attr-defined]


def test_a_stalled_server_counts_as_unreachable(env: Env) -> None:
    def stall(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    env.transport = httpx.MockTransport(stall)
    env.settings = EventSettings(floor_limit=100, offline_fallback=OfflineFallback.DECLINE)
    env.seed(statements=[StatementRow(wallet_id=W, balance=5000, seq=10)])
    env.login()
    assert sell(env, 500, env.wallet(W, 5000, 10)).reason is R.SERVER_UNREACHABLE  # type: ignore[attr-defined]


# ------------------------------------------------------------ statement precedence


def test_a_newer_token_beats_an_older_pulled_statement(env: Env, term: Terminal) -> None:
    decision = sell(env, 1000, env.wallet(W, 9000, 11))  # topped up elsewhere: seq 11 > 10
    assert decision.approved and decision.params["source"] == "token" and decision.balance_after == 8000  # type: ignore[attr-defined]


def test_a_newer_pulled_statement_beats_an_older_token(env: Env, term: Terminal) -> None:
    env.pull(statements=[StatementRow(wallet_id=W, balance=300, seq=12)])  # spent at another stall
    decision = sell(env, 500, env.wallet(W, 5000, 10))
    assert decision.reason is R.INSUFFICIENT_BALANCE and decision.params["source"] == "statement"  # type: ignore[attr-defined]


def test_a_pulled_statement_never_goes_back_in_sequence(env: Env, term: Terminal) -> None:
    env.pull(statements=[StatementRow(wallet_id=W, balance=100, seq=9)])
    assert term.store.statement(W) == StatementRow(wallet_id=W, balance=5000, seq=10)


@pytest.mark.parametrize(("ack_seq", "counted"), [(None, True), (10, False), (11, True)])
def test_own_records_count_unless_the_statement_includes_them(env: Env, term: Terminal, ack_seq: int | None,
                                                               counted: bool) -> None:
    first = sell(env, 1000, env.wallet(W, 5000, 10))
    if ack_seq is not None:
        # the push result says the wallet was at ack_seq right after this sale; keep the statement at seq 10
        term.store.conn.execute("UPDATE ledger SET ack_status = 'applied', ack_seq = ? WHERE id = ?",
                                (ack_seq, first.record_id))  # type: ignore[attr-defined]
        term.store.conn.execute("DELETE FROM outbox")
    decision = sell(env, 100, env.wallet(W, 5000, 10))
    assert decision.params["available"] == (4000 if counted else 5000)  # type: ignore[attr-defined]


def test_refunds_add_back_to_the_available_balance(env: Env) -> None:
    from terminal_helpers import SUPERVISOR

    env.settings = EventSettings(floor_limit=5000, offline_limit=5000)
    term = env.seed(statements=[StatementRow(wallet_id=W, balance=5000, seq=10)])
    env.login(SUPERVISOR)
    sale = sell(env, 4000, env.wallet(W, 5000, 10, limit=5000))
    assert term.refund(sale.record_id, 1500).approved  # type: ignore[attr-defined]
    assert sell(env, 100, env.wallet(W, 5000, 10, limit=5000)).params["available"] == 2500  # type: ignore[attr-defined]


def test_token_balance_field_is_signed(env: Env, term: Terminal) -> None:
    token = WalletToken(W, 10**6, 99, env.now_s - 1, env.now_s + 60, 3000)
    text = encode_token(token, env.issuer)
    tampered = text[:-3] + ("AAA" if text[-3:] != "AAA" else "BBB")
    assert sell(env, 100, tampered).reason in (R.FORGED, R.DAMAGED)  # type: ignore[attr-defined]


# ------------------------------------------------------------ unanswered online authorizations


def test_a_timeout_with_decline_fallback_reverses_the_sale(env: Env) -> None:
    def stall(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    env.transport = httpx.MockTransport(stall)
    env.settings = EventSettings(floor_limit=100, offline_fallback=OfflineFallback.DECLINE,
                                 staff_idle_logout_s=86400)
    term = env.seed(statements=[StatementRow(wallet_id=W, balance=5000, seq=10)])
    env.login()
    decision = sell(env, 500, env.wallet(W, 5000, 10))
    assert decision.reason is R.SERVER_UNREACHABLE  # type: ignore[attr-defined]
    sale, void = sorted(term.recent(), key=lambda r: r.kind)
    assert (sale.kind, void.kind, void.ref_id, void.amount) == ("sale", "void", sale.id, 500)
    assert [r.id for r in term.store.outbox_batch(10)] == [sale.id, void.id]  # the sale first
    assert sell(env, 100, env.wallet(W, 5000, 10)).params["available"] == 5000  # type: ignore[attr-defined]
    report = term.shift_report(whole_terminal=True)
    assert (report.sales_count, report.sales_amount, report.voids_count) == (1, 100, 0)  # the 100 only
    assert report.reversals_count == 1


def test_a_refused_connection_needs_no_reversal(env: Env) -> None:
    env.settings = EventSettings(floor_limit=100, offline_fallback=OfflineFallback.DECLINE,
                                 staff_idle_logout_s=86400)
    term = env.seed(statements=[StatementRow(wallet_id=W, balance=5000, seq=10)])
    env.login()
    assert sell(env, 500, env.wallet(W, 5000, 10)).reason is R.SERVER_UNREACHABLE  # type: ignore[attr-defined]
    assert term.recent() == [] and term.store.pending_authorizations() == []


def test_a_crash_during_authorize_is_reversed_on_restart(env: Env) -> None:
    from sync.ids import new_record_id
    from sync.schemas import SaleRecord
    from terminal.store import LedgerRow

    term = env.seed(statements=[StatementRow(wallet_id=W, balance=5000, seq=10)])
    record = SaleRecord(id=new_record_id(), terminal_id=env.terminal_id, staff_id=CASHIER,
                        created_at=env.clock.now_ms(), stall_id=STALL_ID, wallet_id=W, amount=1500, lines=[],
                        token_seq=10)
    from sync.keys import load_private_key
    from sync.records import sign_record
    from terminal.engine import KEY_NAME

    body = record.model_dump(mode="json")
    row = LedgerRow.from_signed(body, sign_record(body, load_private_key(term.data_dir / KEY_NAME)), mode="online")
    term.store.begin_authorization(row)  # ... and the process dies here
    term.close()
    reopened = env.open()
    kinds = sorted(r.kind for r in reopened.recent())
    assert kinds == ["sale", "void"] and reopened.store.pending_authorizations() == []
    assert reopened.status().unsynced_count == 2


def test_the_terminal_warns_before_the_unsynced_cap_declines(env: Env) -> None:
    env.settings = EventSettings(floor_limit=1000, offline_limit=3000, unsynced_cap=2500, staff_idle_logout_s=86400)
    term = env.seed(statements=[StatementRow(wallet_id=w, balance=5000, seq=1) for w in (W, W + 1, W + 2)])
    env.login()
    first = sell(env, 1000, env.wallet(W, 5000, 1))  # 1000 of 2500: 40 %
    assert first.approved and "warning" not in first.params  # type: ignore[attr-defined]
    assert term.status().warning == ""
    second = sell(env, 1000, env.wallet(W + 1, 5000, 1))  # 2000 of 2500: 80 %, the next may be refused
    assert second.approved and second.params["warning"] == "unsynced_near_cap"  # type: ignore[attr-defined]
    status = term.status()
    assert status.warning == "unsynced_near_cap"
    assert (status.unsynced_offline_amount, status.unsynced_cap) == (2000, 2500)
    for record in term.recent(10):  # the server acknowledged them: the warning goes away
        term.store.apply_push_results([PushItemResult(id=record.id, status=ItemStatus.APPLIED, code=200,
                                                      wallet_id=record.wallet_id, balance=4000, seq=2)],
                                      now_ms=env.clock.now_ms())
    assert term.status().warning == ""


@pytest.mark.parametrize(("currency", "cap"), [("JPY", 300_000), ("USD", 200_000), ("EUR", 200_000)])
def test_the_default_unsynced_cap_fits_the_currency_minor_unit(currency: str, cap: int) -> None:
    settings = EventSettings(currency=currency)  # type: ignore[arg-type]
    assert settings.unsynced_cap == cap  # JPY: 300,000 yen; two-decimal currencies: 2,000.00
    assert EventSettings.model_validate(settings.model_dump()).unsynced_cap == cap
    assert EventSettings(currency=currency, unsynced_cap=5000).unsynced_cap == 5000  # type: ignore[arg-type]


# ------------------------------------------------------------ opening hours


def test_sales_only_within_the_events_opening_hours(env: Env, term: Terminal) -> None:
    """Before the day opens and after it closes a sale is declined (with the next opening); within, approved."""
    now = env.clock.now_ms()
    hour = 3600_000
    env.settings = EventSettings(floor_limit=1000, offline_limit=10_000, staff_idle_logout_s=86400, opening_hours=[
        OpenPeriod(opens_ms=now + hour, closes_ms=now + 3 * hour),
        OpenPeriod(opens_ms=now + 24 * hour, closes_ms=now + 26 * hour)])
    env.pull()
    token = env.wallet(W, 5000, 10, limit=10_000)
    early = sell(env, 500, token)
    assert early.reason is R.CLOSED and early.params["opens_at"] == now + hour  # type: ignore[attr-defined]
    env.clock.advance(3600)  # the opening minute itself sells
    assert sell(env, 500, env.wallet(W, 5000, 10, limit=10_000)).approved  # type: ignore[attr-defined]
    env.clock.advance(2 * 3600)  # the closing minute does not: the end is not included
    late = sell(env, 500, env.wallet(W, 5000, 10, limit=10_000))
    assert late.reason is R.CLOSED and late.params["opens_at"] == now + 24 * hour  # type: ignore[attr-defined]
    env.clock.advance(23 * 3600)  # after the last day: closed, and no later opening
    over = sell(env, 500, env.wallet(W, 5000, 10, limit=10_000))
    assert over.reason is R.CLOSED and "opens_at" not in over.params  # type: ignore[attr-defined]
    assert len([r for r in term.store.recent(50) if r.kind == "sale"]) == 1  # only the sale within the hours
