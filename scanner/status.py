"""The camera's state as the stall sees it, with a human message in English and Japanese."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["CameraState", "CameraStatus"]


class CameraState(Enum):
    """Where a frame source is in its life."""

    OPENING = "opening"
    LIVE = "live"
    MISSING = "missing"
    BUSY = "busy"
    LOST = "lost"
    RECONNECTING = "reconnecting"
    ENDED = "ended"  # a file or folder has no more frames
    STOPPED = "stopped"


_MESSAGES: dict[CameraState, tuple[str, str]] = {
    CameraState.OPENING: ("Starting the camera…", "カメラを起動しています…"),
    CameraState.LIVE: ("Camera ready: show the code", "カメラ準備完了：コードをかざしてください"),
    CameraState.MISSING: (
        "No camera found. Plug in the camera; it will start by itself.",
        "カメラが見つかりません。接続すると自動で再開します。",
    ),
    CameraState.BUSY: (
        "The camera is in use by another program. Close it; scanning resumes by itself.",
        "カメラが他のアプリで使用中です。そのアプリを閉じると自動で再開します。",
    ),
    CameraState.LOST: (
        "The camera stopped (unplugged?). Waiting for it to come back…",
        "カメラが停止しました（抜けましたか？）。再接続を待っています…",
    ),
    CameraState.RECONNECTING: ("Reconnecting the camera…", "カメラに再接続しています…"),
    CameraState.ENDED: ("No more frames.", "フレームの終わりです。"),
    CameraState.STOPPED: ("Scanning stopped.", "読み取りを停止しました。"),
}


@dataclass(frozen=True)
class CameraStatus:
    """A state, when it began (clock seconds), and a detail for the logs (not for the kiosk)."""

    state: CameraState
    since: float
    detail: str = ""

    @property
    def message(self) -> str:
        """Return the English message for the stall's screen."""
        return _MESSAGES[self.state][0]

    @property
    def message_ja(self) -> str:
        """Return the Japanese message for the stall's screen."""
        return _MESSAGES[self.state][1]

    @property
    def scanning(self) -> bool:
        """Return True when frames are arriving."""
        return self.state is CameraState.LIVE
