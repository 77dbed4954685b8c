"""A headless terminal as a real child process (``ennichi terminal --headless``), fed JSON lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


class HeadlessProcess:
    """Spawns the headless terminal; a reader thread collects every result line."""

    def __init__(self, data_dir: Path, *, log: Path, sync: bool = True) -> None:
        args = [sys.executable, "-m", "terminal.cli", "terminal", "--headless", "--data-dir", str(data_dir)]
        if not sync:
            args.append("--no-sync")
        self._log = log.open("ab")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
                                     cwd=REPO, env=env)
        self.results: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            try:
                result = json.loads(raw)
            except ValueError:  # a line cut by SIGKILL: it was never reported
                continue
            with self._cond:
                self.results.append(result)
                self._cond.notify_all()

    def send(self, *commands: dict[str, Any]) -> bool:
        """Write commands; returns False once the process has gone."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(b"".join(json.dumps(c).encode() + b"\n" for c in commands))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return False
        return True

    def wait_results(self, count: int, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Wait until ``count`` results arrived; raises TimeoutError."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.results) >= count or self.proc.poll() is not None,
                                       timeout):
                raise TimeoutError(f"{len(self.results)} of {count} results")
            if len(self.results) < count:
                self._reader.join(5)
            return list(self.results)

    def call(self, command: dict[str, Any], timeout: float = 60.0) -> dict[str, Any]:
        """Send one command and return its result."""
        before = len(self.results)
        self.send(command)
        results = self.wait_results(before + 1, timeout)
        if len(results) <= before:
            raise RuntimeError(f"the terminal exited with {self.proc.returncode}")
        return results[before]

    def kill(self) -> None:
        """SIGKILL: no cleanup, no flush, no goodbye."""
        self.proc.send_signal(signal.SIGKILL)
        self.finish()

    def quit(self, timeout: float = 60.0) -> None:
        """Ask to quit and wait."""
        self.send({"cmd": "quit"})
        self.proc.wait(timeout)
        self.finish()

    def finish(self) -> None:
        self.proc.wait(30)
        self._reader.join(10)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        self._log.close()
