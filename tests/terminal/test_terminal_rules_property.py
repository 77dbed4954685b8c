"""Property: offline approvals follow a simple model exactly (balance first, then the offline limit)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from terminal_helpers import Env

from sync.ids import format_short_id
from sync.keys import IssuerKey
from sync.schemas import EventSettings, StatementRow
from terminal.clock import FakeClock
from terminal.decisions import Cart, DeclineReason

W = 0x44_0000_0001
ISSUER = IssuerKey.generate(9)


@settings(max_examples=40)
@given(amounts=st.lists(st.integers(1, 1200), max_size=10), balance=st.integers(-500, 5000),
       limit=st.integers(0, 4000), token_newer=st.booleans())
def test_offline_decisions_match_the_model(amounts: list[int], balance: int, limit: int, token_newer: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = Env(Path(tmp), FakeClock(), ISSUER,
                  EventSettings(floor_limit=1200, offline_limit=limit, staff_idle_logout_s=86400))
        # the pulled statement is stale when the token is newer: the token's balance must win
        pulled = StatementRow(wallet_id=W, balance=10**6 if token_newer else balance, seq=1 if token_newer else 5)
        term = env.seed(statements=[pulled])
        env.login()
        text = env.wallet(W, balance, 5 if token_newer else 1, limit=10**6)
        approved = 0
        for amount in amounts:
            decision = term.sell(Cart.amount(amount), text if token_newer else format_short_id(W))
            if amount > balance - approved:
                assert decision.reason is DeclineReason.INSUFFICIENT_BALANCE
            elif approved + amount > limit:
                assert decision.reason is DeclineReason.OFFLINE_LIMIT
            else:
                assert decision.approved and decision.balance_after == balance - approved - amount
                approved += amount
        assert approved <= max(0, min(balance, limit))
        assert term.status().unsynced_amount == approved
        term.close()
