"""Top-ups are never left in doubt: a lost answer is asked again, then held and settled by the next push.

A real server on loopback behind the fault proxy: ``lose_responses`` lets the
server book the top-up and drops its answer; ``stall`` swallows the request
(so the server never books it, but the desk cannot know that); a closed proxy
refuses the connection (surely not sent, nothing booked).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update
from terminal_live import PIN, Live

from server.db import tables as t
from sync.ids import format_short_id
from terminal.decisions import DeclineReason as R
from terminal.engine import Terminal


def _desk(live: Live, data_dir: Path, *, on_pause: object = None) -> Terminal:
    """A top-up desk whose retry pause runs ``on_pause`` (no real wait)."""
    def pause(_seconds: float) -> None:
        if callable(on_pause):
            on_pause()

    term = Terminal.open(data_dir, pause=pause)
    term.enroll(live.code("topup"), name=data_dir.name)
    assert term.sync_now().online
    assert term.login(live.seed.badge(live.cashier), PIN).ok
    return term


def _topups(live: Live) -> list[dict[str, object]]:
    return [r for r in live.records() if r["kind"] == "topup"]


def test_a_lost_answer_is_asked_again_with_the_same_id_and_booked_once(live: Live, tmp_path: Path) -> None:
    wallet = live.seed.wallet(0)
    desk = _desk(live, tmp_path / "desk", on_pause=lambda: live.proxy.set_mode("pass"))
    live.proxy.set_mode("lose_responses")  # the first answer is lost; the retry gets through
    decision = desk.topup(format_short_id(wallet), 1000, cash_received=5000)
    assert decision.approved and decision.mode == "online", decision
    assert decision.params["change"] == 4000 and decision.balance_after == 1000
    booked = _topups(live)
    assert [r["id"] for r in booked] == [decision.record_id]  # the retry was a duplicate, not a second top-up
    assert live.wallet(wallet)["balance"] == 1000
    assert desk.topup_doubts() == [] and desk.status().topups_in_doubt == 0
    assert desk.sync_now().unsynced_count == 0
    assert live.wallet(wallet)["balance"] == 1000
    desk.close()


def test_answers_lost_every_time_hold_it_in_doubt_and_the_next_push_settles_it_booked(live: Live,
                                                                                        tmp_path: Path) -> None:
    wallet = live.seed.wallet(0)
    desk = _desk(live, tmp_path / "desk")
    live.proxy.set_mode("lose_responses")  # booked at the server on the first try; every answer lost
    decision = desk.topup(format_short_id(wallet), 1000, cash_received=5000)
    assert not decision.approved and decision.reason is R.TOPUP_IN_DOUBT
    assert decision.params["in_doubt"] and decision.record_id
    assert len(_topups(live)) == 1 and live.wallet(wallet)["balance"] == 1000  # booked, though the desk cannot know
    (doubt,) = desk.topup_doubts()
    assert (doubt.id, doubt.state, doubt.amount, doubt.cash_received) == (decision.record_id, "in_doubt", 1000, 5000)
    report = desk.shift_report()
    assert (report.doubts_open_count, report.doubts_open_amount) == (1, 1000)
    assert report.topups_amount == 0 and report.cash_received == 0  # not in the totals while in doubt
    assert desk.status().topups_in_doubt == 1

    live.proxy.set_mode("pass")
    assert desk.sync_now().unsynced_count == 0  # the next contact: the same record pushed
    (doubt,) = desk.topup_doubts()  # settled, shown until the cashier confirms
    assert doubt.state == "booked" and doubt.resolved_at is not None
    stored = desk.store.record(str(decision.record_id))
    assert stored is not None and stored.ack_status == "duplicate"  # the lost answer had booked it
    assert len(_topups(live)) == 1 and live.wallet(wallet)["balance"] == 1000
    report = desk.shift_report()
    assert (report.doubts_open_count, report.doubts_booked_count, report.doubts_booked_amount) == (0, 1, 1000)
    assert (report.topups_count, report.topups_amount, report.cash_received, report.change_given) == (1, 1000, 5000,
                                                                                                      4000)
    assert desk.confirm_doubt(doubt.id)
    assert desk.topup_doubts() == [] and desk.status().doubts_to_show == 0
    desk.close()


def test_a_swallowed_request_is_held_in_doubt_and_booked_by_the_push(live: Live, tmp_path: Path) -> None:
    wallet = live.seed.wallet(0)
    desk = _desk(live, tmp_path / "desk")
    live.proxy.set_mode("stall")  # sent, never answered: the server never saw it, the desk cannot know
    decision = desk.topup(format_short_id(wallet), 2000)
    assert decision.reason is R.TOPUP_IN_DOUBT
    assert _topups(live) == []
    live.proxy.set_mode("pass")
    desk.sync_now()
    (doubt,) = desk.topup_doubts()
    assert doubt.state == "booked"  # the cashier kept the cash: it is loaded now
    assert desk.store.record(str(decision.record_id)).ack_status == "applied"  # type: ignore[union-attr]
    assert live.wallet(wallet)["balance"] == 2000 and len(_topups(live)) == 1
    desk.close()


def test_a_doubt_the_server_refuses_tells_the_cashier_to_hand_the_cash_back(live: Live, tmp_path: Path) -> None:
    wallet = live.seed.wallet(0)
    desk = _desk(live, tmp_path / "desk")
    live.proxy.set_mode("stall")
    decision = desk.topup(format_short_id(wallet), 1000, cash_received=2000)
    assert decision.reason is R.TOPUP_IN_DOUBT
    with live.seed.db.write() as conn:  # meanwhile the admin disabled the cashier: the server refuses the push
        conn.execute(update(t.staff).where(t.staff.c.id == live.cashier).values(active=False))
    live.proxy.set_mode("pass")
    desk.sync_now()
    (doubt,) = desk.topup_doubts()
    assert doubt.state == "refused" and doubt.reason and "forbidden" in doubt.reason
    assert _topups(live) == [] and live.wallet(wallet)["balance"] == 0
    report = desk.shift_report(whole_terminal=True)
    assert (report.doubts_refused_count, report.doubts_refused_amount) == (1, 1000)
    assert report.topups_amount == 0 and report.cash_received == 0
    desk.close()


def test_a_request_that_never_left_is_not_sent_and_nothing_is_held(live: Live, tmp_path: Path) -> None:
    wallet = live.seed.wallet(0)
    desk = _desk(live, tmp_path / "desk")
    live.proxy.close()  # nothing listens: the connection is refused, the request surely never left
    decision = desk.topup(format_short_id(wallet), 1000)
    assert decision.reason is R.TOPUP_NOT_SENT
    assert desk.topup_doubts() == [] and desk.status().unsynced_count == 0
    assert _topups(live) == [] and live.wallet(wallet)["balance"] == 0
    desk.close()


def test_a_crash_before_the_answer_holds_the_topup_in_doubt_on_restart(live: Live, tmp_path: Path) -> None:
    """The note written before sending survives a crash; the restarted desk holds it and the push settles it."""
    from sync.ids import new_record_id
    from sync.schemas import TopUpRecord

    wallet = live.seed.wallet(0)
    desk = _desk(live, tmp_path / "desk")
    identity = desk.identity()
    assert identity is not None
    ctx = desk._context()
    assert not isinstance(ctx, R)
    record = TopUpRecord(id=new_record_id(), terminal_id=identity.terminal_id, staff_id=live.cashier,
                         created_at=desk.clock.now_ms(), wallet_id=wallet, amount=500, cash_received=1000)
    row = ctx.sign(record, mode="online")
    desk.store.begin_authorization(row)  # what topup() writes before the request, then "the power went"
    desk.close()
    again = Terminal.open(tmp_path / "desk")
    (doubt,) = again.topup_doubts()
    assert (doubt.id, doubt.state, doubt.cash_received) == (row.id, "in_doubt", 1000)
    again.sync_now()
    assert again.topup_doubts()[0].state == "booked"
    assert live.wallet(wallet)["balance"] == 500
    again.close()
