"""The sync client: library errors translated at the boundary; backoff with jitter; the loop's status."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Sequence

import httpx
import pytest

from sync.client import SyncClient
from sync.errors import ApiError, Conflict, Forbidden, SyncError, SyncUnavailable, Unauthorized
from sync.loop import Backoff, SyncService
from sync.schemas import (
    EventSettings,
    ItemStatus,
    PullRequest,
    PullResponse,
    PushItemResult,
    PushResponse,
    SecurityEvent,
    SignedRecord,
    TerminalMode,
    TerminalRow,
)

Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler) -> SyncClient:
    return SyncClient("http://server.test", "tok", transport=httpx.MockTransport(handler))


def raising(exc: type[Exception]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc("boom", request=request)  # type: ignore[call-arg]
    return handler


RECORD = SignedRecord(body={"id": str(uuid.uuid4()), "kind": "sale"}, sig="x")


@pytest.mark.parametrize("exc", [httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadTimeout, httpx.ReadError,
                                 httpx.RemoteProtocolError, httpx.WriteError, httpx.PoolTimeout])
def test_network_failures_become_sync_unavailable(exc: type[Exception]) -> None:
    with pytest.raises(SyncUnavailable) as info:
        client(raising(exc)).push([RECORD])
    assert isinstance(info.value.__cause__, httpx.HTTPError)


@pytest.mark.parametrize(("status", "error"), [(401, Unauthorized), (403, Forbidden), (409, Conflict),
                                               (422, ApiError), (400, ApiError), (500, SyncUnavailable),
                                               (502, SyncUnavailable), (503, SyncUnavailable),
                                               (429, SyncUnavailable)])
def test_statuses_map_to_project_errors(status: int, error: type[SyncError]) -> None:
    c = client(lambda r: httpx.Response(status, json={"detail": "nope"}))
    with pytest.raises(error) as info:
        c.pull(PullRequest())
    if isinstance(info.value, ApiError):
        assert info.value.status == status and info.value.message == "nope"


def test_retry_after_is_kept() -> None:
    c = client(lambda r: httpx.Response(503, headers={"Retry-After": "7"}))
    with pytest.raises(SyncUnavailable) as info:
        c.health()
    assert info.value.retry_after == 7.0


@pytest.mark.parametrize("body", [b"not json", b"{}", b'{"results": [{"id": 1}]}', b"[]"])
def test_a_garbled_success_is_an_api_error(body: bytes) -> None:
    with pytest.raises(ApiError):
        client(lambda r: httpx.Response(200, content=body)).push([RECORD])


def test_requests_carry_the_token_and_the_exact_record() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"results": [{"id": RECORD.body["id"], "status": "applied", "code": 200}]})

    result = client(handler).push([RECORD])
    assert result.results[0].status is ItemStatus.APPLIED
    assert seen[0].headers["Authorization"] == "Bearer tok"
    assert seen[0].url.path == "/api/v1/push"
    assert json.loads(seen[0].content)["records"][0] == RECORD.model_dump(mode="json")


def test_backoff_grows_with_jitter_and_resets() -> None:
    backoff = Backoff(base=0.5, cap=8.0, fast_window_s=0, rng=random.Random(1))
    delays = [backoff.next() for _ in range(10)]
    assert all(0.5 <= d <= 8.0 for d in delays)
    assert max(delays[5:]) > 2.0  # it grew
    assert len(set(delays)) == len(delays)  # jittered
    backoff.reset()
    assert backoff.next() <= 0.5 + 1e-9


def test_backoff_stays_short_for_the_first_minute_of_an_outage_then_grows() -> None:
    backoff = Backoff(rng=random.Random(2))  # defaults: 0.5 s base, 1.5 s cap for 60 s, then up to 30 s
    delays = [backoff.next() for _ in range(200)]
    young = []
    waited = 0.0
    for d in delays:
        if waited >= 60:
            break
        young.append(d)
        waited += d
    assert len(young) >= 40 and all(0.5 <= d <= 1.5 for d in young)  # a reconnect within 1.5 s
    assert max(delays[len(young):]) > 20 and max(delays) <= 30.0  # a long outage backs off to the cap
    backoff.reset()
    assert backoff.next() <= 0.5 + 1e-9


class FakeTarget:
    """An in-memory target: the loop's logic without SQLite."""

    def __init__(self, records: int) -> None:
        self.outbox = [SignedRecord(body={"id": f"r{i}"}, sig="s") for i in range(records)]
        self.acked: list[str] = []
        self.pages = 0
        self.is_revoked = False
        self.revoked_message = ""

    def outbox_batch(self, limit: int) -> list[SignedRecord]:
        return self.outbox[:limit]

    def apply_push(self, results: Sequence[PushItemResult]) -> None:
        done = {r.id for r in results}
        self.acked += [r.id for r in results]
        self.outbox = [r for r in self.outbox if r.body["id"] not in done]

    def pull_request(self) -> PullRequest:
        return PullRequest(cursor=str(self.pages))

    def apply_pull(self, page: PullResponse) -> None:
        self.pages += 1

    def unsynced(self) -> tuple[int, int]:
        return len(self.outbox), 0

    def last_sync_ms(self) -> int | None:
        return None

    def revoked(self) -> bool:
        return self.is_revoked

    def on_revoked(self, message: str) -> None:
        self.is_revoked = True
        self.revoked_message = message

    def timing(self) -> tuple[float, float]:
        return 0.0, 3.0

    def server_epoch(self, epoch: str) -> bool:
        return False

    def security_batch(self, limit: int) -> list[SecurityEvent]:
        return []

    def security_reported(self, numbers: Sequence[int]) -> None:
        raise AssertionError("nothing to report")


class Clock:
    def now_ms(self) -> int:
        return 1_000


def server(fail: list[bool]) -> Handler:
    """A server double that answers push and pull (3 pages) unless told to fail."""
    def handler(request: httpx.Request) -> httpx.Response:
        if fail and fail[0]:
            raise httpx.ConnectError("down", request=request)
        body = json.loads(request.content)
        if request.url.path.endswith("/push"):
            return httpx.Response(200, json=PushResponse(results=[
                PushItemResult(id=r["body"]["id"], status=ItemStatus.APPLIED, code=200)
                for r in body["records"]]).model_dump(mode="json"))
        cursor = int(body["cursor"] or 0)
        return httpx.Response(200, json=PullResponse(
            cursor=str(cursor + 1), more=cursor < 2, server_time_ms=1, issuer_keys=[], settings=EventSettings(),
            terminal=TerminalRow(terminal_id=1, name="t", mode=TerminalMode.STALL)).model_dump(mode="json"))
    return handler


def test_a_cycle_drains_the_outbox_in_batches_and_pulls_every_page() -> None:
    target = FakeTarget(1200)
    service = SyncService(target, client(server([False])), clock=Clock())
    status = service.sync_now()
    assert target.outbox == [] and len(target.acked) == 1200 and target.pages == 3
    assert status.online and status.last_error == "" and status.unsynced_count == 0


def test_offline_then_online_status() -> None:
    fail = [True]
    target = FakeTarget(2)
    seen = []
    service = SyncService(target, client(server(fail)), clock=Clock(), on_status=seen.append)
    status = service.sync_now()
    assert not status.online and status.offline_since_ms == 1_000 and "cannot reach" in status.last_error
    assert status.unsynced_count == 2 and target.outbox
    fail[0] = False
    status = service.sync_now()
    assert status.online and status.offline_since_ms is None and target.outbox == []
    assert [s.online for s in seen] == [False, True]


def test_unauthorized_revokes_and_stops() -> None:
    target = FakeTarget(1)
    service = SyncService(target, client(lambda r: httpx.Response(401, json={"detail": "revoked"})), clock=Clock())
    status = service.sync_now()
    assert target.is_revoked and target.revoked_message == "revoked" and not status.online
    assert service.sync_now().revoked  # no further contact


def test_the_background_thread_pushes_after_a_poke() -> None:
    target = FakeTarget(0)
    service = SyncService(target, client(server([False])), clock=Clock())
    import threading

    done = threading.Event()
    service.on_status = lambda s: done.set() if target.acked else None
    service.start()
    try:
        target.outbox.append(SignedRecord(body={"id": "late"}, sig="s"))
        service.poke()
        assert done.wait(10)
    finally:
        service.stop()
    assert "late" in target.acked


@pytest.mark.parametrize(("headers", "epoch"), [
    ({"Ennichi-Restore-Epoch": "2-00ff"}, "2-00ff"),
    ({}, None),  # a server from before epochs: unknown, the terminal does nothing
    ({"Ennichi-Restore-Epoch": "x" * 65}, None),  # garbled: ignored, never a crash
])
def test_the_restore_epoch_comes_from_the_push_answers_header(headers: dict[str, str], epoch: str | None) -> None:
    c = client(lambda r: httpx.Response(200, headers=headers, content=b'{"results": []}'))
    response = c.push([SignedRecord(body={"id": "r"}, sig="s")])
    assert response.epoch == epoch
    assert "epoch" not in response.model_dump(mode="json")  # never in a body: older terminals still parse it
