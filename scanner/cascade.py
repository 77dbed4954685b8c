"""The cascade around a decoder: one plain whole-frame call first, then fallbacks only where they can help.

A cascade is a short list of whole-frame *attempts* (the default has one: the
grayscale frame, exactly one plain zxing-cpp call with its inverted retry)
and a list of *fallbacks* (unsharp mask, gamma, local contrast, upscaling,
...).  The first attempt that reads a code wins.  When none reads, the
fallbacks run, but only on crops around *regions*: the symbols the decoder
located but could not decode in this frame (zxing-cpp's ``return_errors``)
and, in a stream, where a code was seen in the last few frames.  With
``texture_gate`` (on in the default) a patch of dense fine texture found on a
~96-row thumbnail counts as a region too (a moire-striped, dim or blurred code
that zxing-cpp does not even locate); the check costs about a tenth of a plain
call.  A frame with neither, the idle terminal's frame, costs one plain call
and that check.

The fallbacks of one frame may decode at most ``budget`` (0.8 in the presets) times the
frame's area in pixels, so a frame a plain call misses costs at most about 1.8 plain calls.
``Cascade.decode`` is stateless and starts with the fallback that recovered
most on the corpus (for single images).  ``Cascade.stream()`` returns a
``CascadeStream`` for camera and video frames: it remembers where the code
was for half a second, so a frame where the moving or blurred code is not
even located still gets its fallbacks there, and it starts each frame with
the next fallback, so within a few frames every fallback has been tried
while each frame stays within budget.

The order and the presets were chosen by measurement (bench/scanner.py,
figures in docs/scanner.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from scanner.decoders import Box, Detection, QrDecoder
from scanner.errors import UnknownDecoder

__all__ = [
    "CASCADES",
    "DEFAULT_CASCADE",
    "FALLBACKS",
    "Attempt",
    "Cascade",
    "CascadeResult",
    "CascadeStream",
    "make_cascade",
    "textured_regions",
]

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Attempt:
    """One way to prepare a whole frame: crop, grayscale, scale, invert."""

    roi: float | None = None  # side of the centre square, as a fraction of the frame height; None: whole frame
    max_height: int | None = None  # scale down (never up) so the image is at most this tall
    gray: bool = True
    invert: bool = False
    stretch: bool = False  # stretch the contrast to the full 0-255 range (dim tents, dark screens)

    def prepare(self, frame: Image) -> Image:
        """Return ``frame`` cropped, converted, scaled and inverted as this attempt says."""
        return self.prepare_mapped(frame)[0]

    def prepare_mapped(self, frame: Image) -> tuple[Image, tuple[int, int, float]]:
        """Return the prepared image and how to map its pixels back: (x offset, y offset, scale)."""
        img: Any = frame
        height, width = img.shape[:2]
        x0 = y0 = 0
        factor = 1.0
        if self.roi is not None:
            side = min(width, height, max(16, int(height * self.roi)))
            y0 = (height - side) // 2
            x0 = (width - side) // 2
            img = img[y0 : y0 + side, x0 : x0 + side]
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
        return prepared, (x0, y0, factor)


def _unsharp(img: Image) -> Image:
    """Sharpen: add back 1.5x the difference to a Gaussian blur (defocus, soft JPEG)."""
    soft = cv2.GaussianBlur(img, (0, 0), 2.0)
    sharp: Any = cv2.addWeighted(img, 2.5, soft, -1.5, 0)
    return np.asarray(sharp, dtype=np.uint8)


def _gamma_lut(gamma: float) -> Image:
    table: Image = np.asarray(np.clip(((np.arange(256) / 255.0) ** gamma) * 255.0, 0, 255), dtype=np.uint8)
    return table


_BRIGHTEN = _gamma_lut(0.5)
_DARKEN = _gamma_lut(2.0)
_CLAHE = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4))


def _brighten(img: Image) -> Image:
    """Gamma 0.5: lifts dark modules apart in a dim or blurred code."""
    out: Any = cv2.LUT(img, _BRIGHTEN)
    return np.asarray(out, dtype=np.uint8)


def _darken(img: Image) -> Image:
    """Gamma 2: pulls washed-out modules apart under glare."""
    out: Any = cv2.LUT(img, _DARKEN)
    return np.asarray(out, dtype=np.uint8)


def _local_contrast(img: Image) -> Image:
    """CLAHE: evens out a glare spot or a dim corner across the crop."""
    out: Any = _CLAHE.apply(img)
    return np.asarray(out, dtype=np.uint8)


def _upscale(img: Image) -> Image:
    """Twice the size, cubic: 2-3 px modules become 4-6 px, which the binariser keeps apart."""
    out: Any = cv2.resize(img, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)
    return np.asarray(out, dtype=np.uint8)


def _smooth(img: Image) -> Image:
    """Median 3x3: removes a screen's fine pixel grid (moire) and sensor speckle."""
    out: Any = cv2.medianBlur(img, 3)
    return np.asarray(out, dtype=np.uint8)


def _smooth_sharpen(img: Image) -> Image:
    """Median 3x3, then the unsharp mask: a screen's moire or sensor speckle removed before sharpening."""
    return _unsharp(_smooth(img))


def _otsu(img: Image) -> Image:
    """One global threshold over the crop (Otsu): for codes the local binariser breaks up."""
    _thr, out = cv2.threshold(img, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return np.asarray(out, dtype=np.uint8)


# Fallbacks run on a grayscale crop around a region; measured one by one in bench/scanner.py --fallbacks.
FALLBACKS: dict[str, Callable[[Image], Image]] = {
    "sharpen": _unsharp,
    "brighten": _brighten,
    "contrast": _local_contrast,
    "upscale": _upscale,
    "smooth": _smooth,
    "darken": _darken,
    "otsu": _otsu,
    "smooth+sharpen": _smooth_sharpen,
}


@dataclass(frozen=True)
class CascadeResult:
    """What a cascade read from one frame, which step read it, and where symbols were seen.

    ``attempt`` is the index of the whole-frame attempt that read, ``len(attempts) + i`` for
    fallback ``i``, -1 when nothing read.  ``regions`` are frame boxes of symbols seen
    (read or not); a stream remembers them.
    """

    detections: tuple[Detection, ...]
    attempt: int
    regions: tuple[Box, ...] = ()
    step: str = ""


def _grow(box: Box, width: int, height: int, *, margin: float = 0.25) -> Box:
    """Return ``box`` grown by ``margin`` of its size on every side (and at least 16 px), clipped to the frame."""
    x0, y0, x1, y1 = box
    pad_x = max(16, int((x1 - x0) * margin))
    pad_y = max(16, int((y1 - y0) * margin))
    return (max(0, x0 - pad_x), max(0, y0 - pad_y), min(width, x1 + pad_x), min(height, y1 + pad_y))


_K3 = np.ones((3, 3), np.uint8)


def textured_regions(
    gray: Image, *, limit: int = 1, rows: int = 96, spread: int = 10, density: float = 0.8, min_side: float = 0.15
) -> list[Box]:
    """Return up to ``limit`` boxes of ``gray`` covered by dense fine texture, as a QR code's modules are.

    Works on a ~``rows``-row nearest-neighbour thumbnail (about 50 us at 640x480, 100 us at
    1280x720, a tenth of a plain zxing-cpp call): a 3x3 dilate-minus-erode gradient above
    ``spread`` grey levels (low enough for a dim, blurred or low-contrast code) must cover at
    least ``density`` of a 9x9 window; the densest such patch is flood-filled into a box.
    A bare desk, wall or dark tent gives nothing; a very elongated patch (an edge, a stripe)
    and a patch narrower than ``min_side`` of the frame height (desk clutter; measured, no
    code the fallbacks recover is that small) are rejected.
    """
    height, width = gray.shape[:2]
    step = max(1, height // rows)
    thumb = cv2.resize(gray, (max(1, width // step), max(1, height // step)), interpolation=cv2.INTER_NEAREST)
    gradient = cv2.subtract(cv2.dilate(thumb, _K3), cv2.erode(thumb, _K3))
    busy = cv2.threshold(gradient, spread, 255, cv2.THRESH_BINARY)[1]
    dense = cv2.blur(busy, (9, 9))
    cut = int(255 * density)
    boxes: list[Box] = []
    for _ in range(limit):
        _low, peak, _where_low, (px, py) = cv2.minMaxLoc(dense)
        if peak < cut:
            break
        patch = cv2.threshold(dense, cut - 1, 255, cv2.THRESH_BINARY)[1]
        mask = np.zeros((dense.shape[0] + 2, dense.shape[1] + 2), np.uint8)
        flags = 4 | cv2.FLOODFILL_MASK_ONLY | (255 << 8)
        _n, _img, _mask, (x, y, w, h) = cv2.floodFill(patch, mask, (px, py), 128, 0, 0, flags)
        dense[mask[1:-1, 1:-1] > 0] = 0  # the next peak is elsewhere
        x, y, w, h = x - 4, y - 4, w + 8, h + 8  # the 9x9 window shrank the patch by 4 samples on each side
        if max(w, h) > 2.5 * min(w, h) or min(w, h) * step < min_side * height:
            continue
        boxes.append((max(0, x * step), max(0, y * step), min(width, (x + w) * step), min(height, (y + h) * step)))
    return boxes


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class Cascade:
    """Runs a decoder over a frame: whole-frame attempts, then fallbacks on crops around seen symbols."""

    def __init__(
        self,
        decoder: QrDecoder,
        attempts: tuple[Attempt, ...],
        fallbacks: tuple[str, ...] = (),
        *,
        name: str = "custom",
        max_regions: int = 1,
        texture_gate: bool = False,
        budget: float = 0.45,
    ) -> None:
        """Wrap ``decoder``; raises ValueError when there are no attempts, UnknownDecoder for an unknown fallback."""
        if not attempts:
            raise ValueError("a cascade needs at least one attempt")
        unknown = [f for f in fallbacks if f not in FALLBACKS]
        if unknown:
            raise UnknownDecoder(f"unknown fallback {unknown[0]!r}; choose from: {', '.join(FALLBACKS)}")
        self.decoder = decoder
        self.attempts = attempts
        self.fallbacks = fallbacks
        self.name = name
        self.max_regions = max_regions
        self.texture_gate = texture_gate
        self.budget = budget

    def decode(self, frame: Image, *, hints: tuple[Box, ...] = (), turn: int = 0) -> CascadeResult:
        """Return the codes read from ``frame``.

        Whole-frame attempts first.  If none reads: fallbacks on crops around the symbols
        the frame shows, then around ``hints`` (regions remembered from earlier frames),
        starting with fallback number ``turn`` and going round, until the fallbacks have
        decoded ``budget`` times the frame's area in pixels.
        """
        seen: list[Box] = []
        gray: Image | None = None
        for index, attempt in enumerate(self.attempts):
            image, (dx, dy, factor) = attempt.prepare_mapped(frame)
            if attempt.gray and attempt.roi is None and attempt.max_height is None and not attempt.invert:
                gray = image if not attempt.stretch else None
            reading = self.decoder.read(image)
            boxes = [_unmap(b, dx, dy, factor) for b in (*reading.found, *reading.suspects)]
            if reading.detections:
                unique = tuple({d.text: d for d in reading.detections}.values())
                return CascadeResult(unique, index, tuple(boxes), "whole frame")
            seen.extend(b for b in boxes if not any(_overlaps(b, s) for s in seen))
        if not self.fallbacks:
            return CascadeResult((), -1, tuple(seen))
        if gray is None:
            gray = frame if frame.ndim == 2 else np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
        guesses = list(hints)
        if self.texture_gate and not seen:
            guesses.extend(b for b in textured_regions(gray) if not any(_overlaps(b, h) for h in hints))
        if not (seen or guesses):
            return CascadeResult((), -1, ())
        height, width = gray.shape[:2]
        regions = [_grow(box, width, height) for box in seen]
        for box in guesses:
            if not any(_overlaps(box, s) for s in seen):
                regions.append(_grow(box, width, height, margin=0.3))
        allowance = self.budget * width * height
        count = len(self.fallbacks)
        for region in regions[: self.max_regions]:
            x0, y0, x1, y1 = region
            crop = np.ascontiguousarray(gray[y0:y1, x0:x1])
            if crop.shape[0] < 16 or crop.shape[1] < 16:
                continue
            for k in range(count):
                i = (turn + k) % count
                name = self.fallbacks[i]
                cost = crop.size * (4 if name == "upscale" else 1)
                if cost > allowance and k > 0:
                    break  # this frame's budget is spent; a stream tries the rest on the next frames
                allowance -= cost
                found = self.decoder.read(FALLBACKS[name](crop)).detections
                if found:
                    unique = tuple({d.text: d for d in found}.values())
                    return CascadeResult(unique, len(self.attempts) + i, (region, *seen), name)
        return CascadeResult((), -1, tuple(seen))

    def stream(self, *, memory: int = 15) -> CascadeStream:
        """Return a stateful decoder for consecutive frames of one camera or video."""
        return CascadeStream(self, memory=memory)


def _unmap(box: Box, dx: int, dy: int, factor: float) -> Box:
    x0, y0, x1, y1 = box
    return (int(x0 / factor) + dx, int(y0 / factor) + dy, int(x1 / factor) + dx, int(y1 / factor) + dy)


class CascadeStream:
    """A cascade over a stream of frames: remembers where a code was seen for ``memory`` frames.

    Not thread-safe; one per pipeline (the decoding thread owns it).
    """

    def __init__(self, cascade: Cascade, *, memory: int = 15) -> None:
        """Decode with ``cascade``; forget a region after ``memory`` frames without a sighting there."""
        self.cascade = cascade
        self.memory = memory
        self._regions: tuple[Box, ...] = ()
        self._age = 0
        self._turn = 0

    def decode(self, frame: Image) -> CascadeResult:
        """Decode one frame, using (and updating) what the previous frames showed."""
        hints = self._regions if self._regions and self._age < self.memory else ()
        result = self.cascade.decode(frame, hints=hints, turn=self._turn)
        self._turn += 1  # the next frame tries the next fallback on a guessed region
        if result.regions:
            self._regions = result.regions[: self.cascade.max_regions]
            self._age = 0
        else:
            self._age += 1
        return result

    def reset(self) -> None:
        """Forget every remembered region."""
        self._regions, self._age, self._turn = (), 0, 0


# The presets the benchmark compares.  "default" is what the pipeline and `ennichi scan` use.
_WHOLE = (Attempt(),)
DEFAULT_FALLBACKS = ("smooth+sharpen", "brighten", "sharpen", "contrast", "darken", "otsu", "smooth")
CASCADES: dict[str, tuple[tuple[Attempt, ...], tuple[str, ...], bool]] = {
    "plain": (_WHOLE, (), False),  # one zxing-cpp call on the grayscale frame: the reference
    # fallbacks around located symbols and, where zxing-cpp located nothing, around dense fine texture
    "default": (_WHOLE, DEFAULT_FALLBACKS, True),
    # the same, kept under its earlier name
    "texture": (_WHOLE, DEFAULT_FALLBACKS, True),
    # fallbacks only around symbols zxing-cpp located (the previous default)
    "located": (_WHOLE, DEFAULT_FALLBACKS, False),
    # the old default (centre crops, then a scaled whole frame), kept for comparison
    "centre": (
        (
            Attempt(roi=1.0),
            Attempt(roi=1.0, invert=True),
            Attempt(roi=1.0, stretch=True),
            Attempt(roi=None, max_height=480),
        ),
        (),
        False,
    ),
}
DEFAULT_CASCADE = "default"
PRESET_BUDGET = 0.8  # measured: 0.45 left half the texture-gated reads at 640x480 unread


def make_cascade(decoder: QrDecoder, name: str = DEFAULT_CASCADE) -> Cascade:
    """Return the preset cascade ``name`` around ``decoder``; raises UnknownDecoder for an unknown name."""
    preset = CASCADES.get(name)
    if preset is None:
        raise UnknownDecoder(f"unknown cascade {name!r}; choose one of: {', '.join(CASCADES)}")
    attempts, fallbacks, texture = preset
    return Cascade(decoder, attempts, fallbacks, name=name, texture_gate=texture, budget=PRESET_BUDGET)
