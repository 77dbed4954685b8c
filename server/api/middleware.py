"""ASGI middleware: shed load fast when saturated, refuse oversized bodies."""

from __future__ import annotations

import asyncio
import json
from typing import Any

__all__ = ["AdmissionControl", "BodyLimit"]

Scope = dict[str, Any]


async def _send_json(send: Any, status: int, body: dict[str, Any],
                     headers: list[tuple[bytes, bytes]] | None = None) -> None:
    data = json.dumps(body).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": data})


class AdmissionControl:
    """At most ``max_inflight`` requests at once; a request that waits longer than ``wait_s`` gets 503."""

    def __init__(self, app: Any, *, max_inflight: int, wait_s: float, exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_inflight = max_inflight
        self.wait_s = wait_s
        self.exempt = exempt
        self._sem: asyncio.Semaphore | None = None
        self.shed = 0  # requests answered 503 (for metrics and tests)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.max_inflight)
        try:
            await asyncio.wait_for(self._sem.acquire(), self.wait_s)
        except TimeoutError:
            self.shed += 1
            await _send_json(send, 503, {"detail": "the server is busy; retry shortly"}, [(b"retry-after", b"1")])
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self._sem.release()


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Answer 413 for a request body over ``max_bytes`` (by Content-Length, or while streaming)."""

    def __init__(self, app: Any, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = {"detail": f"request body too large: the limit is {self.max_bytes} bytes"}
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await _send_json(send, 413, message)
                    return
        seen = 0
        started = False
        over = False

        async def limited_receive() -> Any:
            nonlocal seen, over
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_bytes:
                    over = True
                    raise _TooLarge
            return msg

        async def tracking_send(msg: Any) -> None:
            nonlocal started
            if over:  # the app caught _TooLarge (FastAPI turns a body it cannot read into a 400): it is a 413
                if msg["type"] == "http.response.start" and not started:
                    started = True
                    await _send_json(send, 413, message)
                return
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send_json(send, 413, message)
