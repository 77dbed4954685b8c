"""Borrowing a supervisor's authority for one action, with their badge and PIN.

The engine's actions act as the logged-in staff member and it has no
"approved by" parameter yet, so the supervisor is logged in for the one action
and the cashier's session is put back afterwards, all on the worker thread
under the engine's own lock order (one call after the other on the one worker).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from terminal.decisions import LoginResult
from ui.screens.login import staff_view

__all__ = ["as_supervisor"]

T = TypeVar("T")


def as_supervisor(engine: Any, badge: str, pin: str, permission: str,
                  action: Callable[[Any], T]) -> LoginResult | T:
    """Run ``action(engine)`` as the supervisor; a refused badge/PIN or permission returns a LoginResult."""
    sessions = engine.sessions
    saved = sessions.session
    try:
        result: LoginResult = engine.login(badge, pin)
        if not result.ok:
            return result
        view = staff_view(engine)
        if view is None or not view.may(permission):
            return LoginResult(False, "not_permitted", staff_id=result.staff_id, name=result.name)
        return action(engine)
    finally:
        sessions.session = saved
