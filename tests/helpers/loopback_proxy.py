"""Loopback proxies that fake the network's failures between a terminal and the server.

Two proxies share one base (listener, open-connection bookkeeping, ``cut``, ``close``):

* ``FaultProxy`` fails whole connections in one global mode (pass, drop, stall,
  lose responses); changing the mode cuts the open connections, so a keep-alive
  connection from before does not dodge the fault.  The terminal tests use it.
* ``ChaosProxy`` reads each HTTP/1.1 request (headers and ``Content-Length`` body)
  and picks a fault per request from seeded weights, so a request can be sent to
  the server twice (a replay), or answered and the answer lost.  The fault runs
  use it.

Threaded and bounded: every socket has a timeout, every thread is a daemon,
``close()`` ends them all.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Literal

__all__ = ["FAULTS", "ChaosProxy", "FaultProxy", "Mode"]

Mode = Literal["pass", "drop", "stall", "lose_responses"]
FAULTS = ("pass", "drop", "delay", "duplicate", "lose")
_RST = b"\x01\x00\x00\x00\x00\x00\x00\x00"  # SO_LINGER on, 0 s: close() sends a reset


class _LoopbackProxy:
    """Listens on 127.0.0.1:<port>; subclasses forward to 127.0.0.1:<upstream_port> in ``_serve``."""

    name = "loopback-proxy"
    reset_on_cut = False  # close cut connections with a reset (RST) rather than an orderly shutdown

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.connections = 0
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._closed = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(256)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, name=self.name, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_upstream(self, port: int) -> None:
        """Forward to another port (a restarted server) and cut the open connections."""
        self.upstream_port = port
        self.cut()

    def cut(self) -> None:
        """Close every open connection now."""
        with self._lock:
            socks, self._open = list(self._open), set()
        for s in socks:
            _close(s, reset=self.reset_on_cut)

    def close(self) -> None:
        """Stop listening and cut everything."""
        self._closed.set()
        _close(self._listener)
        self.cut()
        self._thread.join(5)

    def _track(self, *socks: socket.socket) -> None:
        with self._lock:
            self._open.update(socks)

    def _untrack(self, s: socket.socket) -> None:
        with self._lock:
            self._open.discard(s)

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self._accepted(client)

    def _accepted(self, client: socket.socket) -> None:
        self._track(client)
        threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        raise NotImplementedError


class FaultProxy(_LoopbackProxy):
    """Forwards whole connections according to ``mode`` (the mode at the time a connection opens)."""

    name = "fault-proxy"

    def __init__(self, upstream_port: int) -> None:
        self.mode: Mode = "pass"
        super().__init__(upstream_port)

    def set_mode(self, mode: Mode) -> None:
        """Switch behaviour for new connections and cut the open ones."""
        self.mode = mode
        self.cut()

    def _accepted(self, client: socket.socket) -> None:
        mode = self.mode
        if mode == "drop":
            _close(client, reset=True)  # connection reset by peer
            return
        self._track(client)
        threading.Thread(target=self._relay, args=(client, mode), daemon=True).start()

    def _relay(self, client: socket.socket, mode: Mode) -> None:
        client.settimeout(0.5)
        if mode == "stall":
            self._pump(client, None)  # read and discard, never answer
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=2)
        except OSError:
            _close(client)
            return
        upstream.settimeout(0.5)
        self._track(upstream)
        lose = mode == "lose_responses"
        back = threading.Thread(target=self._pump, args=(upstream, None if lose else client),
                                kwargs={"close_on_data": client if lose else None}, daemon=True)
        back.start()
        self._pump(client, upstream)
        back.join(5)

    def _pump(self, src: socket.socket, dst: socket.socket | None, *,
              close_on_data: socket.socket | None = None) -> None:
        while not self._closed.is_set():
            try:
                data = src.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            if close_on_data is not None:  # the server answered; the answer is lost on the way
                _close(close_on_data)
                break
            if dst is not None:
                try:
                    dst.sendall(data)
                except OSError:
                    break
        _close(src)
        if dst is not None:
            _close(dst)


class ChaosProxy(_LoopbackProxy):
    """Forwards each HTTP request with a fault drawn from seeded ``weights`` (names in ``FAULTS``)."""

    name = "chaos-proxy"
    reset_on_cut = True

    def __init__(self, upstream_port: int, *, seed: int, weights: dict[str, float] | None = None,
                 max_delay: float = 0.4) -> None:
        self.rng = random.Random(seed)
        self.weights = dict(weights or {"pass": 1.0})
        self.max_delay = max_delay
        self.down = False  # refuse (RST) every request while set
        self.on_request: Callable[[str], None] | None = None  # called with the path before forwarding
        self.counts: Counter[str] = Counter()
        super().__init__(upstream_port)

    def set_weights(self, **weights: float) -> None:
        """Change the fault mix for the next requests."""
        with self._lock:
            self.weights = dict(weights)

    def set_down(self, down: bool) -> None:
        """Cut the network (refuse everything) or bring it back."""
        self.down = down
        if down:
            self.cut()

    def _pick(self) -> str:
        with self._lock:
            if self.down:
                return "drop"
            names = list(self.weights)
            return self.rng.choices(names, weights=[self.weights[n] for n in names])[0]

    def _serve(self, client: socket.socket) -> None:
        client.settimeout(5)
        buffer = b""
        try:
            while not self._closed.is_set():
                request, buffer = _read_message(client, buffer)
                if request is None:
                    break
                fault = self._pick()
                with self._lock:
                    self.counts[fault] += 1
                if fault == "drop":
                    break
                if self.on_request is not None:
                    self.on_request(request.split(b" ", 2)[1].decode("latin-1"))
                if fault == "delay":
                    time.sleep(self.rng.uniform(0.02, self.max_delay))
                if fault == "duplicate":  # the request reaches the server twice; the client sees the second answer
                    self._forward(request)
                response = self._forward(request)
                if response is None or fault == "lose":
                    break
                client.sendall(response)
        except OSError:
            pass
        finally:
            self._untrack(client)
            _close(client, reset=True)

    def _forward(self, request: bytes) -> bytes | None:
        try:
            with socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10) as upstream:
                upstream.sendall(request)
                response, _ = _read_message(upstream, b"")
                return response
        except OSError:
            return None


def _read_message(sock: socket.socket, buffer: bytes) -> tuple[bytes | None, bytes]:
    """Read one HTTP/1.1 message with a Content-Length body (or none); returns (message, leftover)."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        rest += chunk
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


def _close(s: socket.socket, *, reset: bool = False) -> None:
    """Close a socket: with a reset (RST), or shut down in both directions first."""
    try:
        if reset:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RST)
        else:
            s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass
