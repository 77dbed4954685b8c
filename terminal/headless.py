"""``ennichi terminal --headless``: drive an enrolled terminal with JSON lines, no window.

Reads one JSON command per line from stdin (or a script file) and writes one
JSON result per line to stdout, flushed at once.  A result is written only
after the engine returned, so an approved record is durable before its line
appears (the crash tests rely on this).  Background sync runs as in the app.

Commands (``tag`` is echoed back when present)::

    {"cmd": "enroll", "code": "EE1:...", "name": "Stall 3"}
    {"cmd": "login", "badge": "ES1:...", "pin": "1234"}
    {"cmd": "logout"}
    {"cmd": "sell", "wallet": "EW1:... or K7M2-QX4P-9", "items": [[product_id, qty], ...]}
    {"cmd": "sell", "wallet": "...", "amount": 500}
    {"cmd": "refund", "ref": "<sale id>", "amount": 100, "reason": "..."}
    {"cmd": "void", "ref": "<sale id>", "reason": "..."}
    {"cmd": "topup", "wallet": "...", "amount": 1000, "cash": 1000}
    {"cmd": "new_wallet"} (a top-up desk: a new empty wallet from the server; params: token, signin_url)
    {"cmd": "cashout", "wallet": "..."} (the whole balance) or {"cmd": "cashout", "wallet": "...", "amount": 500}
    {"cmd": "doubts"} (top-ups and cash-outs in doubt, or settled and not yet confirmed)
    {"cmd": "checkin", "ticket": "ET1:...", "direction": "in"}
    {"cmd": "catalog"} {"cmd": "recent", "limit": 20} {"cmd": "report", "whole": true}
    {"cmd": "status"} {"cmd": "sync"} {"cmd": "security"} {"cmd": "gate_counts"} {"cmd": "quit"}

A bad command answers ``{"ok": false, "error": "..."}`` and the loop goes on.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from terminal.decisions import Cart
from terminal.engine import Terminal
from terminal.errors import TerminalError

__all__ = ["Headless", "run_headless"]

log = logging.getLogger(__name__)
Handler = Callable[[dict[str, Any]], dict[str, Any]]


class BadCommand(ValueError):
    """A command line that cannot be run; the message goes back to the caller."""


def _int(cmd: dict[str, Any], name: str) -> int:
    value = cmd.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadCommand(f"'{name}' must be an integer")
    return value


def _str(cmd: dict[str, Any], name: str) -> str:
    value = cmd.get(name)
    if not isinstance(value, str):
        raise BadCommand(f"'{name}' must be a string")
    return value


class Headless:
    """Turns command dicts into engine calls and results into dicts."""

    def __init__(self, terminal: Terminal, *, sync: bool = True) -> None:
        self.terminal = terminal
        self.sync = sync
        self.handlers: dict[str, Handler] = {
            "enroll": self._enroll, "login": self._login, "logout": self._logout, "sell": self._sell,
            "refund": self._refund, "void": self._void, "topup": self._topup, "checkin": self._checkin,
            "cashout": self._cashout, "new_wallet": lambda _cmd: self.terminal.issue_wallet().to_json(),
            "doubts": lambda _cmd: {"ok": True, "doubts": [d.to_json() for d in self.terminal.topup_doubts()]},
            "catalog": self._catalog, "recent": self._recent, "report": self._report, "status": self._status,
            "gate_counts": lambda _cmd: {"ok": True, "counts": self.terminal.gate_counts().to_json()},
            "sync": self._sync, "security": self._security,
        }

    def start(self) -> None:
        """Start background sync if the terminal is enrolled."""
        if self.sync and self.terminal.enrolled:
            self.terminal.start_sync()

    def handle(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Run one command; returns its JSON result (errors included, never raised)."""
        name = cmd.get("cmd")
        handler = self.handlers.get(name) if isinstance(name, str) else None
        if handler is None:
            result: dict[str, Any] = {"ok": False, "error": f"unknown command {name!r}"}
        else:
            try:
                result = handler(cmd)
            except (BadCommand, TerminalError) as exc:
                result = {"ok": False, "error": str(exc)}
        if "tag" in cmd:
            result["tag"] = cmd["tag"]
        return result

    def _enroll(self, cmd: dict[str, Any]) -> dict[str, Any]:
        row = self.terminal.enroll(_str(cmd, "code"), name=str(cmd.get("name", "")))
        self.start()
        return {"ok": True, "terminal": row.model_dump(mode="json")}

    def _login(self, cmd: dict[str, Any]) -> dict[str, Any]:
        return self.terminal.login(_str(cmd, "badge"), _str(cmd, "pin")).to_json()

    def _logout(self, cmd: dict[str, Any]) -> dict[str, Any]:
        self.terminal.logout()
        return {"ok": True}

    def _sell(self, cmd: dict[str, Any]) -> dict[str, Any]:
        wallet = _str(cmd, "wallet")
        if "amount" in cmd:
            cart = Cart.amount(_int(cmd, "amount"))
        else:
            items = cmd.get("items")
            if not isinstance(items, list) or not all(
                    isinstance(i, list) and len(i) == 2 and all(isinstance(x, int) for x in i) for i in items):
                raise BadCommand("'items' must be a list of [product_id, qty]")
            cart = Cart.of([(int(p), int(q)) for p, q in items])
        return self.terminal.sell(cart, wallet).to_json()

    def _refund(self, cmd: dict[str, Any]) -> dict[str, Any]:
        return self.terminal.refund(_str(cmd, "ref"), _int(cmd, "amount"),
                                    reason=str(cmd.get("reason", ""))).to_json()

    def _void(self, cmd: dict[str, Any]) -> dict[str, Any]:
        return self.terminal.void(_str(cmd, "ref"), reason=str(cmd.get("reason", ""))).to_json()

    def _topup(self, cmd: dict[str, Any]) -> dict[str, Any]:
        cash = _int(cmd, "cash") if "cash" in cmd else None
        return self.terminal.topup(_str(cmd, "wallet"), _int(cmd, "amount"), cash_received=cash).to_json()

    def _cashout(self, cmd: dict[str, Any]) -> dict[str, Any]:
        amount = _int(cmd, "amount") if "amount" in cmd else None
        return self.terminal.cash_out(_str(cmd, "wallet"), amount).to_json()

    def _checkin(self, cmd: dict[str, Any]) -> dict[str, Any]:
        direction = cmd.get("direction", "in")
        if direction not in ("in", "out"):
            raise BadCommand("'direction' must be 'in' or 'out'")
        return self.terminal.check_in(_str(cmd, "ticket"), direction).to_json()

    def _catalog(self, cmd: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "products": [p.model_dump(mode="json") for p in self.terminal.catalog()]}

    def _recent(self, cmd: dict[str, Any]) -> dict[str, Any]:
        limit = _int(cmd, "limit") if "limit" in cmd else 20
        return {"ok": True, "records": [r.to_json() for r in self.terminal.recent(max(1, min(limit, 1000)))]}

    def _report(self, cmd: dict[str, Any]) -> dict[str, Any]:
        since = _int(cmd, "since_ms") if "since_ms" in cmd else None
        report = self.terminal.shift_report(since_ms=since, whole_terminal=bool(cmd.get("whole", False)))
        return {"ok": True, "report": report.to_json()}

    def _status(self, cmd: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "status": self.terminal.status().to_json()}

    def _sync(self, cmd: dict[str, Any]) -> dict[str, Any]:
        status = self.terminal.sync_now()
        return {"ok": status.last_error == "", "status": asdict(status)}

    def _security(self, cmd: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "events": self.terminal.store.security_events()}


def run_headless(terminal: Terminal, lines: Iterable[str], out: IO[str], *, sync: bool = True) -> int:
    """Run commands until ``quit`` or end of input; returns the exit code."""
    headless = Headless(terminal, sync=sync)
    headless.start()
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            cmd = json.loads(line)
            if not isinstance(cmd, dict):
                raise ValueError("a command is a JSON object")
        except ValueError as exc:
            _emit(out, {"ok": False, "error": f"not a JSON command: {exc}"})
            continue
        if cmd.get("cmd") == "quit":
            _emit(out, {"ok": True, "bye": True})
            break
        _emit(out, headless.handle(cmd))
    return 0


def _emit(out: IO[str], result: dict[str, Any]) -> None:
    out.write(json.dumps(result, separators=(",", ":"), default=str) + "\n")
    out.flush()


def main_headless(data_dir: Path, *, script: Path | None, sync: bool) -> int:
    """Open the terminal in ``data_dir`` and run commands from ``script`` or stdin."""
    terminal = Terminal.open(data_dir)
    try:
        if script is not None:
            with script.open(encoding="utf-8") as lines:
                return run_headless(terminal, lines, sys.stdout, sync=sync)
        return run_headless(terminal, sys.stdin, sys.stdout, sync=sync)
    finally:
        terminal.close()
