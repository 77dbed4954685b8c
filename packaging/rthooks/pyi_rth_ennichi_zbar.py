"""PyInstaller runtime hook: make pyzbar load the libzbar bundled with the app, not whatever the system has."""

from __future__ import annotations

import ctypes.util
import os
import sys


def _install() -> None:
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is None:
        return
    names = ("libzbar.so.0", "libzbar.0.dylib", "libzbar.dylib")
    bundled = next((os.path.join(bundle, n) for n in names if os.path.isfile(os.path.join(bundle, n))), None)
    if bundled is None:  # Windows: pyzbar loads its own DLLs from its package folder
        return
    original = ctypes.util.find_library

    def find_library(name: str) -> str | None:
        return bundled if name == "zbar" else original(name)

    ctypes.util.find_library = find_library


_install()
