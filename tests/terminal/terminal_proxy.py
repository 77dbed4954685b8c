"""A TCP proxy on loopback that passes, drops, stalls or loses responses: the network's failures, faked.

Threaded and bounded: every socket has a short timeout, every thread is a
daemon and ``close()`` ends them all.  Changing the mode cuts the open
connections, so a keep-alive connection from before does not dodge the fault.
"""

from __future__ import annotations

import socket
import threading
from typing import Literal

Mode = Literal["pass", "drop", "stall", "lose_responses"]


class FaultProxy:
    """Listens on 127.0.0.1:<port> and forwards to 127.0.0.1:<upstream> according to ``mode``."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.mode: Mode = "pass"
        self.connections = 0
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(256)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, name="fault-proxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_mode(self, mode: Mode) -> None:
        """Switch behaviour for new connections and cut the open ones."""
        self.mode = mode
        self.cut()

    def set_upstream(self, port: int) -> None:
        """Forward to another port (a restarted server) and cut the open connections."""
        self.upstream_port = port
        self.cut()

    def cut(self) -> None:
        """Close every open connection now (both sides)."""
        with self._lock:
            socks, self._open = list(self._open), set()
        for s in socks:
            _close(s)

    def close(self) -> None:
        """Stop listening and cut everything."""
        self._closed.set()
        _close(self._listener)
        self.cut()
        self._thread.join(5)

    def _track(self, *socks: socket.socket) -> None:
        with self._lock:
            self._open.update(socks)

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(client, self.mode), daemon=True).start()

    def _serve(self, client: socket.socket, mode: Mode) -> None:
        client.settimeout(0.5)
        if mode == "drop":
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            _close(client)  # RST: connection reset by peer
            return
        self._track(client)
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
        back = threading.Thread(target=self._pump, args=(upstream, None if mode == "lose_responses" else client),
                                kwargs={"close_on_data": client if mode == "lose_responses" else None},
                                daemon=True)
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


def _close(s: socket.socket) -> None:
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass
