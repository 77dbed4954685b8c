"""UI fixtures: a real server on loopback with a seeded event (see ui_helpers for driving the app)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ui_helpers import PIN, Event

from server.testing import Seeder, init_test_event, run_server_in_thread


@pytest.fixture(scope="session")
def event(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Event]:
    """One event for the UI tests: stall 'Yakisoba' with products, a gate, staff of every role."""
    tmp = tmp_path_factory.mktemp("event")
    settings, _ = init_test_event(tmp)
    seeder = Seeder(settings)
    base_url, stop = run_server_in_thread(settings)
    ev = Event(tmp, settings, seeder, base_url, stop)
    ev.stall_id = seeder.stall("焼きそば屋", free_amount=True)
    ev.product_ids = [
        seeder.product(ev.stall_id, "焼きそば Yakisoba", 500),
        seeder.product(ev.stall_id, "ラムネ Ramune", 200),
        seeder.product(ev.stall_id, "フランク Frank", 300),
        seeder.product(ev.stall_id, "たこ焼き Takoyaki", 600, stock=0),
    ]
    ev.gate_id = seeder.gate("North gate")
    ev.ticket_types = {"single": seeder.ticket_type("One-day", "single"),
                       "reentry": seeder.ticket_type("Re-entry pass", "reentry")}
    ev.staff = {
        "cashier": seeder.staff("Hana", pin=PIN, roles=[("cashier", "stall", ev.stall_id)]),
        "supervisor": seeder.staff("Kenji", pin=PIN, roles=[("supervisor", "event", None)]),
        "topup": seeder.staff("Yui", pin=PIN, roles=[("topup", "event", None)]),
        "gate": seeder.staff("Sora", pin=PIN, roles=[("gatekeeper", "gate", ev.gate_id)]),
    }
    yield ev
    ev.stop_server()
    seeder.close()
