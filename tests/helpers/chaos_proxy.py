"""An HTTP-aware loopback proxy that drops, delays, replays (duplicates) requests, loses answers and cuts.

``tests/terminal/terminal_proxy.py`` fails whole connections in one global mode; this
one reads each HTTP/1.1 request (headers and ``Content-Length`` body) and picks a
fault per request from seeded weights, so a request can be sent to the server
twice (a replay), or answered and the answer lost.  Threaded and bounded: every
socket has a timeout, every thread is a daemon, ``close()`` ends them all.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable

FAULTS = ("pass", "drop", "delay", "duplicate", "lose")


class ChaosProxy:
    """Listens on 127.0.0.1:<port>, forwards each request to 127.0.0.1:<upstream> with a seeded fault."""

    def __init__(self, upstream_port: int, *, seed: int, weights: dict[str, float] | None = None,
                 max_delay: float = 0.4) -> None:
        self.upstream_port = upstream_port
        self.rng = random.Random(seed)
        self.weights = dict(weights or {"pass": 1.0})
        self.max_delay = max_delay
        self.down = False  # refuse (RST) every request while set
        self.on_request: Callable[[str], None] | None = None  # called with the path before forwarding
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._closed = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(256)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, name="chaos-proxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_weights(self, **weights: float) -> None:
        """Change the fault mix for the next requests."""
        with self._lock:
            self.weights = dict(weights)

    def cut(self) -> None:
        """Close every open client connection now."""
        with self._lock:
            socks, self._open = list(self._open), set()
        for s in socks:
            _close(s, reset=True)

    def set_down(self, down: bool) -> None:
        """Cut the network (refuse everything) or bring it back."""
        self.down = down
        if down:
            self.cut()

    def close(self) -> None:
        self._closed.set()
        _close(self._listener)
        self.cut()
        self._thread.join(5)

    def _pick(self) -> str:
        with self._lock:
            if self.down:
                return "drop"
            names = list(self.weights)
            return self.rng.choices(names, weights=[self.weights[n] for n in names])[0]

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._open.add(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

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
            with self._lock:
                self._open.discard(client)
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
    try:
        if reset:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    except OSError:
        pass
