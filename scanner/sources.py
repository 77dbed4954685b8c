"""Frame sources behind one small interface: a camera, a video file, a folder of images, memory.

A source is opened, read one frame at a time, and closed.  ``read`` returns
None at the end of a file and raises ``SourceLost`` when a camera stops
mid-session; ``open`` raises ``SourceUnavailable`` (with ``busy`` set when a
device exists but cannot be used).  Threads and reconnection live in
``scanner.capture``, not here.
"""

from __future__ import annotations

import os
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from scanner.errors import SourceLost, SourceUnavailable

__all__ = [
    "IMAGE_SUFFIXES",
    "CameraInfo",
    "CameraSource",
    "FrameSource",
    "ImageFolderSource",
    "MemorySource",
    "VideoFileSource",
    "list_cameras",
    "open_path",
]

Image = npt.NDArray[np.uint8]
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm")


class FrameSource(ABC):
    """Gives frames one at a time; a camera reconnects, a file ends."""

    name: str = "source"
    reconnects: bool = False  # True: a failure means "try again later", not "the end"

    @abstractmethod
    def open(self) -> None:
        """Open the source; raises SourceUnavailable when it cannot be used."""

    @abstractmethod
    def read(self) -> Image | None:
        """Return the next BGR frame, None at the end; raises SourceLost when a live source stops."""

    def close(self) -> None:  # noqa: B027 - most sources have nothing to release
        """Release the source; safe to call twice."""

    def position(self) -> float | None:
        """Return the media time of the last frame read, in seconds, or None for a live source."""
        return None


class MemorySource(FrameSource):
    """Frames held in memory, for tests and benchmarks; ``None`` entries simulate a lost camera."""

    def __init__(
        self, frames: Sequence[Image | None], *, name: str = "memory", fps: float = 30.0, paced: bool = False
    ) -> None:
        """Serve ``frames`` in order (``paced``: no faster than ``fps``, like a camera); None raises SourceLost."""
        self.name = name
        self._paced = paced
        self._due = 0.0
        self._frames = list(frames)
        self._index = 0
        self._fps = fps
        self.opened = False

    def open(self) -> None:
        """Mark the source open."""
        self.opened = True

    def read(self) -> Image | None:
        """Return the next frame; None when all are served."""
        if self._index >= len(self._frames):
            return None
        if self._paced:
            now = time.monotonic()
            if self._due > now:
                time.sleep(self._due - now)
            self._due = max(now, self._due) + 1.0 / self._fps
        frame = self._frames[self._index]
        self._index += 1
        if frame is None:
            raise SourceLost(f"{self.name}: simulated loss at frame {self._index - 1}")
        return frame

    def close(self) -> None:
        """Mark the source closed."""
        self.opened = False

    def position(self) -> float:
        """Return the time of the last frame served, at the source's frame rate."""
        return max(0, self._index - 1) / self._fps


class ImageFolderSource(FrameSource):
    """Every image in a folder (or a single image file), in name order."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        """Prepare to read images from ``path`` (a folder or one image file)."""
        self.path = Path(path)
        self.name = str(self.path)
        self._files: list[Path] = []
        self._index = 0
        self.current: Path | None = None

    def open(self) -> None:
        """List the images; raises SourceUnavailable when there are none."""
        if self.path.is_dir():
            self._files = sorted(p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        elif self.path.is_file():
            self._files = [self.path]
        else:
            raise SourceUnavailable(f"no such file or folder: {self.path}")
        if not self._files:
            raise SourceUnavailable(f"no images in {self.path}")
        self._index = 0

    def read(self) -> Image | None:
        """Return the next image; raises SourceLost for a file that is not a readable image."""
        if self._index >= len(self._files):
            return None
        self.current = self._files[self._index]
        self._index += 1
        image: Any = cv2.imread(str(self.current), cv2.IMREAD_COLOR)
        if image is None:
            raise SourceLost(f"not a readable image: {self.current}")
        frame: Image = image
        return frame


class VideoFileSource(FrameSource):
    """Frames of a video file, read with OpenCV."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        """Prepare to read ``path``."""
        self.path = Path(path)
        self.name = str(self.path)
        self._cap: Any = None
        self._fps = 30.0
        self._count = 0

    def open(self) -> None:
        """Open the file; raises SourceUnavailable when it is missing or not a video."""
        if not self.path.is_file():
            raise SourceUnavailable(f"no such video file: {self.path}")
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            cap.release()
            raise SourceUnavailable(f"not a readable video: {self.path}")
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self._fps = fps if 1.0 <= fps <= 240.0 else 30.0
        self._cap = cap
        self._count = 0

    def read(self) -> Image | None:
        """Return the next frame, None at the end of the file."""
        if self._cap is None:
            return None
        ok, image = self._cap.read()
        if not ok or image is None:
            return None
        self._count += 1
        frame: Image = image
        return frame

    def close(self) -> None:
        """Release the file."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def position(self) -> float:
        """Return the time of the last frame read, from the frame count and the file's frame rate."""
        return max(0, self._count - 1) / self._fps


class CameraSource(FrameSource):
    """A webcam through OpenCV, by device index or path; ``opener`` is the seam for tests."""

    reconnects = True

    def __init__(
        self,
        device: int | str = 0,
        *,
        width: int | None = 1280,
        height: int | None = 720,
        opener: Callable[[int | str], Any] | None = None,
    ) -> None:
        """Prepare to open ``device`` at the requested resolution."""
        self.device = device
        self.name = f"camera {device}"
        self._width = width
        self._height = height
        self._opener = opener if opener is not None else _open_capture
        self._cap: Any = None

    def _device_node(self) -> Path | None:
        """Return the device file behind the camera, where the platform has one."""
        if isinstance(self.device, str):
            return Path(self.device)
        if sys.platform.startswith("linux"):
            return Path(f"/dev/video{self.device}")
        return None

    def open(self) -> None:
        """Open the camera and read one frame; raises SourceUnavailable (busy or missing)."""
        self.close()
        node = self._device_node()
        if node is not None and not node.exists():
            raise SourceUnavailable(f"{self.name}: no device at {node}")
        try:
            cap = self._opener(self.device)
        except Exception as exc:  # OpenCV backends raise their own errors
            raise SourceUnavailable(f"{self.name}: cannot open: {exc}", busy=node is not None) from exc
        if not cap.isOpened():
            cap.release()
            # The device is there but will not open: in use by another program, or no permission.
            raise SourceUnavailable(f"{self.name}: cannot open", busy=node is not None)
        if self._width and self._height:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self._width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self._height)
        ok, _image = cap.read()
        if not ok:
            cap.release()
            raise SourceUnavailable(f"{self.name}: opens but gives no frames (in use?)", busy=True)
        self._cap = cap

    def read(self) -> Image | None:
        """Return the newest frame; raises SourceLost when the camera stops answering."""
        if self._cap is None:
            raise SourceLost(f"{self.name}: not open")
        ok, image = self._cap.read()
        if not ok or image is None:
            self.close()
            raise SourceLost(f"{self.name}: stopped giving frames")
        frame: Image = image
        return frame

    def close(self) -> None:
        """Release the camera."""
        if self._cap is not None:
            try:
                self._cap.release()
            finally:
                self._cap = None


def _open_capture(device: int | str) -> Any:
    """Open a cv2.VideoCapture with a short buffer, so reads give the newest frame."""
    cap = cv2.VideoCapture(device)
    cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
    return cap


def open_path(path: str | os.PathLike[str]) -> FrameSource:
    """Return the source for ``path``: a folder or image file, or else a video file."""
    p = Path(path)
    if p.is_dir() or p.suffix.lower() in IMAGE_SUFFIXES:
        return ImageFolderSource(p)
    return VideoFileSource(p)


@dataclass(frozen=True)
class CameraInfo:
    """A video capture device the system reports: the OpenCV index and the name the driver gives."""

    index: int
    name: str


def list_cameras(sysfs: str | os.PathLike[str] = "/sys/class/video4linux") -> list[CameraInfo]:
    """Return the webcams Linux lists (``/dev/videoN`` capture nodes with their names), by index.

    A USB webcam usually brings two nodes (picture and metadata); only the node whose
    ``index`` attribute is 0 captures pictures.  Nothing is opened, so a camera in use by
    another program is still listed.  Elsewhere (Windows, macOS) or without sysfs this
    returns an empty list and callers offer device numbers instead.
    """
    root = Path(sysfs)
    found: list[CameraInfo] = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return []
    for entry in entries:
        number = entry.name.removeprefix("video")
        if not entry.name.startswith("video") or not (number.isascii() and number.isdigit()):
            continue
        try:
            node_index = (entry / "index").read_text().strip()
        except OSError:
            node_index = "0"
        if node_index != "0":
            continue
        try:
            name = (entry / "name").read_text().strip()
        except OSError:
            name = ""
        found.append(CameraInfo(int(number), name or f"video{number}"))
    return sorted(found, key=lambda c: c.index)
