"""The cascade of cheap tricks around a decoder: grayscale, centre crop, scaling, inverted retry.

A cascade is a short list of attempts; each attempt prepares the frame one way
and asks the decoder, and the first attempt that reads a code wins.  The
order and the presets below were chosen by measurement (bench/scanner.py,
figures in docs/scanner.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from scanner.decoders import Detection, QrDecoder
from scanner.errors import UnknownDecoder

__all__ = ["CASCADES", "DEFAULT_CASCADE", "Attempt", "Cascade", "CascadeResult", "make_cascade"]

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Attempt:
    """One way to prepare a frame: crop, grayscale, scale, invert."""

    roi: float | None = None  # side of the centre square, as a fraction of the frame height; None: whole frame
    max_height: int | None = None  # scale down (never up) so the image is at most this tall
    gray: bool = True
    invert: bool = False
    stretch: bool = False  # stretch the contrast to the full 0-255 range (dim tents, dark screens)

    def prepare(self, frame: Image) -> Image:
        """Return ``frame`` cropped, converted, scaled and inverted as this attempt says."""
        img: Any = frame
        height, width = img.shape[:2]
        if self.roi is not None:
            side = min(width, height, max(16, int(height * self.roi)))
            side_w = min(width, max(side, int(side * 1.0)))
            y0 = (height - side) // 2
            x0 = (width - side_w) // 2
            img = img[y0 : y0 + side, x0 : x0 + side_w]
        if self.gray and img.ndim == 3:
            img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        if self.max_height is not None and img.shape[0] > self.max_height:
            factor = self.max_height / img.shape[0]
            img = cv2.resize(img, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        if self.stretch:
            img = cv2.normalize(img, np.empty_like(img), 0, 255, cv2.NORM_MINMAX)
        if self.invert:
            img = cv2.bitwise_not(img)
        prepared: Image = img
        return prepared


@dataclass(frozen=True)
class CascadeResult:
    """What a cascade read from one frame, and which attempt read it (-1: none did)."""

    detections: tuple[Detection, ...]
    attempt: int


class Cascade:
    """Runs a decoder over a frame through a list of attempts, stopping at the first that reads."""

    def __init__(self, decoder: QrDecoder, attempts: tuple[Attempt, ...], *, name: str = "custom") -> None:
        """Wrap ``decoder`` with ``attempts``; raises ValueError when there are none."""
        if not attempts:
            raise ValueError("a cascade needs at least one attempt")
        self.decoder = decoder
        self.attempts = attempts
        self.name = name

    def decode(self, frame: Image) -> CascadeResult:
        """Return the codes read from ``frame`` by the first attempt that reads any."""
        for index, attempt in enumerate(self.attempts):
            found = self.decoder.decode(attempt.prepare(frame))
            if found:
                unique = tuple({d.text: d for d in found}.values())
                return CascadeResult(unique, index)
        return CascadeResult((), -1)


# The presets the benchmark compares.  "default" is what the pipeline uses.
CASCADES: dict[str, tuple[Attempt, ...]] = {
    "plain": (Attempt(gray=False),),
    "gray": (Attempt(),),
    "roi": (Attempt(roi=1.0),),
    "roi+invert": (Attempt(roi=1.0), Attempt(roi=1.0, invert=True)),
    "small+invert": (Attempt(roi=1.0, max_height=480), Attempt(roi=1.0, max_height=480, invert=True)),
    "roi+invert+stretch": (
        Attempt(roi=1.0),
        Attempt(roi=1.0, invert=True),
        Attempt(roi=1.0, stretch=True),
    ),
    "default": (
        Attempt(roi=1.0),
        Attempt(roi=1.0, invert=True),
        Attempt(roi=1.0, stretch=True),
        Attempt(roi=None, max_height=480),
    ),
}
DEFAULT_CASCADE = "default"


def make_cascade(decoder: QrDecoder, name: str = DEFAULT_CASCADE) -> Cascade:
    """Return the preset cascade ``name`` around ``decoder``; raises UnknownDecoder for an unknown name."""
    attempts = CASCADES.get(name)
    if attempts is None:
        raise UnknownDecoder(f"unknown cascade {name!r}; choose one of: {', '.join(CASCADES)}")
    return Cascade(decoder, attempts, name=name)
