"""The event's opening hours on the server: an online sale outside them is declined, a pushed one booked and raised.

Both engines (the ``event`` fixture), through the real app's /authorize and /push.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient
from server_harness import Event

from server.anomalies import list_anomalies
from server.event import get_event_settings, set_event_settings
from server.wallets import wallet_view
from sync.schemas import OpenPeriod

HOUR = 3600_000


def _hours(event: Event, *periods: tuple[int, int]) -> None:
    with event.seed.db.write() as conn:
        current = get_event_settings(conn)
        set_event_settings(conn, current.model_copy(update={
            "opening_hours": [OpenPeriod(opens_ms=a, closes_ms=b) for a, b in periods]}))


def _authorize(client: TestClient, term: Any, record: dict[str, Any]) -> dict[str, Any]:
    r = client.post("/api/v1/authorize", json={"record": record}, headers=term.headers)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


def test_online_sales_outside_the_opening_hours_are_declined(event: Event, client: TestClient) -> None:
    _, cashier, wallet, term = event.stall_setup(5000)
    now = int(time.time() * 1000)
    _hours(event, (now + HOUR, now + 2 * HOUR))  # opens in an hour: closed now
    answer = _authorize(client, term, term.sale(wallet_id=wallet, amount=1500, staff_id=cashier))
    assert not answer["approved"] and answer["reason"] == "closed", answer
    with event.seed.db.read() as conn:
        assert wallet_view(conn, wallet).balance == 5000  # nothing booked
    _hours(event, (now - HOUR, now + HOUR))  # open now
    answer = _authorize(client, term, term.sale(wallet_id=wallet, amount=1500, staff_id=cashier))
    assert answer["approved"] and answer["balance"] == 3500, answer
    _hours(event)  # no hours: always open
    assert _authorize(client, term, term.sale(wallet_id=wallet, amount=500, staff_id=cashier))["approved"]


def test_a_pushed_sale_made_outside_the_hours_is_booked_and_raised(event: Event, client: TestClient) -> None:
    _, cashier, wallet, term = event.stall_setup(5000)
    now = int(time.time() * 1000)
    _hours(event, (now - 10 * HOUR, now - 9 * HOUR), (now - HOUR, now + HOUR))
    inside = term.sale(wallet_id=wallet, amount=300, staff_id=cashier)
    outside = term.sale(wallet_id=wallet, amount=200, staff_id=cashier)
    outside["body"]["created_at"] = now - 5 * HOUR  # between the two periods (an offline sale, made then)
    outside = term.sign(outside["body"])
    r = client.post("/api/v1/push", json={"records": [inside, outside]}, headers=term.headers)
    assert [x["status"] for x in r.json()["results"]] == ["applied", "applied"], r.text  # handed over: facts
    with event.seed.db.read() as conn:
        assert wallet_view(conn, wallet).balance == 4500
        raised = [a for a in list_anomalies(conn) if a["kind"] == "outside_hours"]
    assert [a["record_id"] for a in raised] == [outside["body"]["id"]], raised
