"""The cascade around a decoder: one plain whole-frame call first, then fallbacks only where they can help.

A cascade is a short list of whole-frame *attempts* (the default has one: the
grayscale frame, exactly one plain zxing-cpp call with its inverted retry)
and a list of *fallbacks* (deblurring, unsharp mask, gamma, local contrast,
a padded quiet zone, ...).  The first attempt that reads a code wins.  When
none reads, the fallbacks run, but only on crops around *regions*.  With
``texture_gate`` (on in the default) the densest patch of fine texture on a
~96-row thumbnail (a moire-striped, dim or blurred code zxing-cpp does not
even locate) is the first region, grown to take in the symbols zxing-cpp
located there but could not decode (``return_errors``: often a single finder
pattern).  In a stream, where a code was seen in the last half second comes
first.  Then the other located symbols.

The gate costs about a tenth of a plain call.  A single image the plain call
misses always gets it; a stream (a camera) runs it on one idle frame in eight,
so an idle camera costs the plain call and about 1-2 % more.

``unblur`` runs first on every crop, but declines (about a tenth of a plain
call) unless the crop's gradients run one way, as motion blur leaves them
(then it estimates the blur's direction and length), or the whole crop is
soft, as defocus leaves it (then a disk); either way it deconvolves (Wiener).
The other fallbacks of one frame may decode at most ``budget`` (1.0 in the
presets) times the frame's area in pixels.  ``Cascade.decode`` is stateless
and starts with the fallback that recovered most on the corpus (for single
images).  ``Cascade.stream()`` returns a ``CascadeStream`` for camera and
video frames: it remembers where the code was for half a second and starts
each frame with the next fallback, so within a few frames every fallback has
been tried while each frame stays within budget.

The order and the presets were chosen by measurement (bench/scanner.py,
figures in docs/scanner.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

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


def _pad(img: Image) -> Image:
    """A border of the crop's own light grey: a code cut by the frame's edge gets back a quiet zone."""
    margin = max(8, img.shape[0] // 12)
    light = int(np.percentile(img, 90))
    out: Any = cv2.copyMakeBorder(img, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=light)
    return np.asarray(out, dtype=np.uint8)


def _otsu(img: Image) -> Image:
    """One global threshold over the crop (Otsu): for codes the local binariser breaks up."""
    _thr, out = cv2.threshold(img, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return np.asarray(out, dtype=np.uint8)


_MOST_SIDE = 360  # deblurring works on the crop scaled down to at most this many pixels a side


def _fit(img: Image, side: int) -> Image:
    """``img`` scaled down (INTER_AREA, never up) so that its longer side is at most ``side``."""
    if max(img.shape[:2]) <= side:
        return img
    factor = side / max(img.shape[:2])
    return np.asarray(cv2.resize(img, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA), dtype=np.uint8)


_ONE_WAY = 0.32  # below this ratio of the weaker to the stronger gradient direction the crop is motion-blurred


Gradients = tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]


def _gradients(img: Image) -> Gradients:
    """The crop's x and y Sobel derivatives, shared by the motion and the defocus tests."""
    gx = np.asarray(cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=3), dtype=np.float32)
    gy = np.asarray(cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=3), dtype=np.float32)
    return gx, gy


def _blur_direction(img: Image, gradients: Gradients | None = None) -> tuple[float, float]:
    """Return the direction of motion blur in degrees and how one-way the crop's gradients are (0-1).

    The structure tensor of the whole crop: blur along a direction wipes out the gradients
    along it, so its smaller eigenvalue over the larger is low (measured on the corpus:
    0.15-0.29 for motion-blurred codes, 0.36 and above for every other frame, moire screens,
    checkerboards and covered codes included).
    """
    gx, gy = gradients if gradients is not None else _gradients(img)
    xx = float(cv2.mean(cv2.multiply(gx, gx))[0])
    yy = float(cv2.mean(cv2.multiply(gy, gy))[0])
    xy = float(cv2.mean(cv2.multiply(gx, gy))[0])
    spread = math.hypot((xx - yy) / 2, xy)
    strong, weak = (xx + yy) / 2 + spread, (xx + yy) / 2 - spread
    across = math.degrees(0.5 * math.atan2(2 * xy, xx - yy))  # where the gradients are strongest
    return (across + 90) % 180, weak / max(strong, 1e-6)


def _blur_length(img: Image, angle: float, longest: int) -> int:
    """Return the blur's length in pixels: the deepest dip of the autocorrelation of the derivative along it.

    A line blur of length L makes the derivative along it the difference of two copies of the
    sharp image L apart, so the derivative's autocorrelation is most negative at lag L.
    """
    height, width = img.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    level: Any = cv2.warpAffine(img, turn, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    inner = min(height, width) // 5  # the rotation's corners are reflections, not the code
    rows = np.asarray(level[inner : height - inner, inner : width - inner], dtype=np.float32)
    slope = np.diff(rows, axis=1)
    slope -= slope.mean(axis=1, keepdims=True)
    size = cv2.getOptimalDFTSize(2 * slope.shape[1])
    wide: Any = cv2.copyMakeBorder(slope, 0, 0, 0, size - slope.shape[1], cv2.BORDER_CONSTANT, value=0)
    spectrum = cv2.dft(wide, flags=cv2.DFT_ROWS | cv2.DFT_COMPLEX_OUTPUT)
    power = cv2.mulSpectrums(spectrum, spectrum, cv2.DFT_ROWS, conjB=True)
    lags = cv2.idft(power, flags=cv2.DFT_ROWS | cv2.DFT_REAL_OUTPUT)[:, : longest + 1].sum(axis=0)
    return int(np.argmin(lags[2 : longest + 1])) + 2


def _line_kernel(length: float, angle: float) -> npt.NDArray[np.float32]:
    size = max(3, math.ceil(length) | 1)
    kernel = np.zeros((size, size), dtype=np.float32)
    centre, half = size // 2, length / 2
    dx, dy = math.cos(math.radians(angle)) * half, math.sin(math.radians(angle)) * half
    start, end = (round(centre - dx), round(centre - dy)), (round(centre + dx), round(centre + dy))
    cv2.line(kernel, start, end, 1.0, 1, cv2.LINE_AA)
    kernel /= max(float(kernel.sum()), 1e-6)
    return kernel


def _wiener(img: Image, kernel: npt.NDArray[np.float32], noise: float = 0.02) -> Image:
    """Undo a known blur: Wiener deconvolution in the frequency domain, the crop padded by reflection."""
    height, width = img.shape[:2]
    pad = 16
    rows, cols = cv2.getOptimalDFTSize(height + 2 * pad), cv2.getOptimalDFTSize(width + 2 * pad)
    padded = cv2.copyMakeBorder(img, pad, rows - height - pad, pad, cols - width - pad, cv2.BORDER_REFLECT)
    image = np.asarray(padded, dtype=np.float32)
    spread = np.zeros_like(image)
    side = kernel.shape[0]
    spread[:side, :side] = kernel
    spread = np.roll(spread, (-(side // 2), -(side // 2)), axis=(0, 1))  # centred on pixel (0, 0)
    seen = cv2.dft(image, flags=cv2.DFT_COMPLEX_OUTPUT)
    blur = cv2.dft(spread, flags=cv2.DFT_COMPLEX_OUTPUT)
    power = cv2.mulSpectrums(blur, blur, 0, conjB=True)[..., 0] + noise
    sharp: Any = cv2.mulSpectrums(seen, blur, 0, conjB=True)
    sharp[..., 0] /= power
    sharp[..., 1] /= power
    out = cv2.idft(sharp, flags=cv2.DFT_SCALE | cv2.DFT_REAL_OUTPUT)[pad : pad + height, pad : pad + width]
    return np.asarray(np.clip(out, 0, 255), dtype=np.uint8)


def _sharpness(img: Image, gradients: Gradients) -> float:
    """Mean |Laplacian| over mean |gradient|: about 1/sigma of the blur, whatever the contrast.

    Measured on the corpus's crops: 0.24-0.36 for defocused codes, 0.51 and above for every
    other frame the plain call misses and every busy empty frame.
    """
    laplacian = cv2.Laplacian(img, cv2.CV_32F, ksize=3)
    gx, gy = gradients
    return float(cv2.mean(np.abs(laplacian))[0]) / max(float(cv2.mean(cv2.magnitude(gx, gy))[0]), 1e-6)


def _disk_kernel(radius: float) -> npt.NDArray[np.float32]:
    reach = math.ceil(radius)
    yy, xx = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    kernel = np.asarray(xx * xx + yy * yy <= radius * radius + 1e-6, dtype=np.float32)
    kernel /= float(kernel.sum())
    return kernel


_SOFT = 0.45  # below this sharpness the crop is out of focus
_DEFOCUS_RADIUS = 3.5  # px on the crop scaled to _MOST_SIDE: read 6 of 8 defocused misses (3-4 read the same)


def _unblur(img: Image) -> Image | None:
    """Motion blur or defocus: deconvolve (Wiener); None if the crop is neither blurred one way nor soft.

    About 2-5 ms a crop here (several plain calls), so it declines (for about a tenth of a
    plain call) unless the gradients clearly run one way (motion: the blur's direction and
    length are estimated) or the whole crop is soft (defocus: a disk of a fixed radius).
    """
    img = _fit(img, _MOST_SIDE)
    gradients = _gradients(img)
    angle, one_way = _blur_direction(img, gradients)
    if one_way < _ONE_WAY:
        return _wiener(img, _line_kernel(_blur_length(img, angle, 16), angle))
    if _sharpness(img, gradients) < _SOFT:
        return _wiener(img, _disk_kernel(_DEFOCUS_RADIUS), noise=0.03)
    return None


# Fallbacks run on a grayscale crop around a region; measured one by one in bench/scanner.py --fallbacks.
# A fallback that returns None does not apply to that crop: no decode, no budget spent.
FALLBACKS: dict[str, Callable[[Image], Image | None]] = {
    "sharpen": _unsharp,
    "brighten": _brighten,
    "contrast": _local_contrast,
    "upscale": _upscale,
    "smooth": _smooth,
    "darken": _darken,
    "otsu": _otsu,
    "smooth+sharpen": _smooth_sharpen,
    "pad": _pad,
    "unblur": _unblur,
}
FIRST = ("unblur",)  # tried first on every crop and every frame (it declines where it cannot help)
# A crop longer than this is scaled down first (a code that big has 7 px modules or more; measured at
# 1280x720: two more frames read and p95 1.16x instead of 1.29-1.43x the plain call; at 640x480 one fewer).
MOST_CROP_SIDE = 400
# What a fallback costs against the budget, in crop areas (the rest: 1): upscale decodes 4x the pixels,
# unblur runs two DFTs and a rotation before its decode.
COSTS = {"upscale": 4, "unblur": 4}


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


NO_READ = CascadeResult((), -1)  # nothing read, located or seen (shared: it is immutable)


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

    Works on a ~``rows``-row nearest-neighbour thumbnail (about 30 us at 640x480, 100 us at
    1280x720, a tenth of a plain zxing-cpp call): a 3x3 dilate-minus-erode gradient above
    ``spread`` grey levels (low enough for a dim, blurred or low-contrast code) must cover at
    least ``density`` of a 9x9 window; the densest such patch is flood-filled into a box.
    A bare desk, wall or dark tent gives nothing; a very elongated patch (an edge, a stripe)
    and a patch narrower than ``min_side`` of the frame height (desk clutter; measured, no
    code the fallbacks recover is that small) are rejected.
    """
    height, width = gray.shape[:2]
    step = max(1, height // rows)
    thumb = np.ascontiguousarray(gray[::step, ::step])  # nearest-neighbour, a tenth of cv2.resize's cost
    gradient = cv2.morphologyEx(thumb, cv2.MORPH_GRADIENT, _K3)  # dilate minus erode
    busy = cv2.threshold(gradient, spread, 255, cv2.THRESH_BINARY)[1]
    dense = cv2.blur(busy, (9, 9))
    cut = int(255 * density)
    boxes: list[Box] = []
    for turn in range(limit):
        _low, peak, _where_low, (px, py) = cv2.minMaxLoc(dense)
        if peak < cut:
            break
        patch = cv2.threshold(dense, cut - 1, 255, cv2.THRESH_BINARY)[1]
        mask = np.zeros((dense.shape[0] + 2, dense.shape[1] + 2), np.uint8)
        flags = 4 | cv2.FLOODFILL_MASK_ONLY | (255 << 8)
        _n, _img, _mask, (x, y, w, h) = cv2.floodFill(patch, mask, (px, py), 128, 0, 0, flags)
        if turn + 1 < limit:  # the next peak is elsewhere (the last turn needs no next peak)
            dense[mask[1:-1, 1:-1] > 0] = 0
        x, y, w, h = x - 4, y - 4, w + 8, h + 8  # the 9x9 window shrank the patch by 4 samples on each side
        if max(w, h) > 2.5 * min(w, h) or min(w, h) * step < min_side * height:
            continue
        boxes.append((max(0, x * step), max(0, y * step), min(width, (x + w) * step), min(height, (y + h) * step)))
    return boxes


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _area(box: Box) -> int:
    return max(0, box[2] - box[0]) * max(0, box[3] - box[1])


def _regions(seen: list[Box], hints: tuple[Box, ...], textured: list[Box], width: int, height: int) -> list[Box]:
    """Return the crops the fallbacks run on, the likeliest first.

    A textured patch first, grown to take in every located symbol it touches: zxing-cpp
    often locates only one finder pattern of a code it cannot read, and a crop around
    that pattern alone would cut the rest of the code off (measured: the merged patch
    recovered 21 of the 35 frames the plain call misses at 640x480, the located symbol
    alone 16).  Then the regions remembered from earlier frames, then the other located
    symbols, largest first.
    """
    regions: list[Box] = []
    merged: set[int] = set()
    for patch in textured:
        box = patch
        for i, symbol in enumerate(seen):
            if _area(symbol) and _overlaps(symbol, patch):
                box = (min(box[0], symbol[0]), min(box[1], symbol[1]), max(box[2], symbol[2]), max(box[3], symbol[3]))
                merged.add(i)
        regions.append(_grow(box, width, height, margin=0.15))
    if any(_overlaps(h, r) for h in hints for r in regions):
        regions.sort(key=lambda r: not any(_overlaps(h, r) for h in hints))  # where the code was, first
    else:  # the gate found nothing where the code was: look there first anyway
        regions[:0] = [_grow(h, width, height, margin=0.3) for h in hints]
    rest = sorted((b for i, b in enumerate(seen) if i not in merged and _area(b)), key=_area, reverse=True)
    regions.extend(_grow(b, width, height) for b in rest if not any(_overlaps(b, r) for r in regions))
    return regions


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
        self._plain_first = attempts[0] == Attempt()

    def decode(self, frame: Image, *, hints: tuple[Box, ...] = (), turn: int = 0, look: bool = True) -> CascadeResult:
        """Return the codes read from ``frame``.

        Whole-frame attempts first.  If none reads: fallbacks on crops around textured
        patches (with ``texture_gate``), the symbols the frame shows and ``hints``
        (regions remembered from earlier frames), starting with fallback number ``turn``
        and going round, until the fallbacks have decoded ``budget`` times the frame's
        area in pixels.  With ``look=False`` the texture gate runs only where something
        was located or remembered (a stream's idle frames: see ``CascadeStream``).
        """
        seen: list[Box] = []
        gray: Image | None = None
        for index, attempt in enumerate(self.attempts):
            if index == 0 and self._plain_first:  # the plain call itself, without prepare_mapped's bookkeeping
                image = frame if frame.ndim == 2 else cast(Image, cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
                gray = image
                dx = dy = 0
                factor = 1.0
            else:
                image, (dx, dy, factor) = attempt.prepare_mapped(frame)
                if attempt.gray and attempt.roi is None and attempt.max_height is None and not attempt.invert:
                    gray = image if not attempt.stretch else None
            reading = self.decoder.read(image)
            if not (reading.detections or reading.found or reading.suspects):
                continue  # no symbol at all: nothing to read, remember or map
            boxes = [_unmap(b, dx, dy, factor) for b in (*reading.found, *reading.suspects)]
            if reading.detections:
                unique = tuple({d.text: d for d in reading.detections}.values())
                return CascadeResult(unique, index, tuple(boxes), "whole frame")
            seen.extend(b for b in boxes if not any(_overlaps(b, s) for s in seen))
        if not self.fallbacks:
            return CascadeResult((), -1, tuple(seen)) if seen else NO_READ
        gate = self.texture_gate and (look or bool(seen) or bool(hints))
        if not gate and not seen and not hints:
            return NO_READ  # an idle camera's frame between two looks: it cost the plain call and no more
        if gray is None:
            gray = frame if frame.ndim == 2 else np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
        height, width = gray.shape[:2]
        regions = _regions(seen, hints, textured_regions(gray) if gate else [], width, height)
        if not regions:
            return NO_READ
        allowance = self.budget * width * height
        first = [i for i, name in enumerate(self.fallbacks) if name in FIRST]
        rest = [i for i, name in enumerate(self.fallbacks) if name not in FIRST]
        for region in regions[: self.max_regions]:
            x0, y0, x1, y1 = region
            crop = np.ascontiguousarray(gray[y0:y1, x0:x1])
            if crop.shape[0] < 16 or crop.shape[1] < 16:
                continue
            area = crop.size  # the budget counts the region's area in the frame, whatever the crop is scaled to
            crop = _fit(crop, MOST_CROP_SIDE)
            order = first + [rest[(turn + k) % len(rest)] for k in range(len(rest))]
            tried = 0
            for i in order:
                name = self.fallbacks[i]
                cost = area * COSTS.get(name, 1)
                if cost > allowance and tried:
                    break  # this frame's budget is spent; a stream tries the rest on the next frames
                prepared = FALLBACKS[name](crop)
                if prepared is None:
                    continue  # does not apply here: nothing decoded, nothing spent
                allowance -= cost
                tried += 1
                found = self.decoder.read(prepared).detections
                if found:
                    unique = tuple({d.text: d for d in found}.values())
                    return CascadeResult(unique, len(self.attempts) + i, (region, *seen), name)
        return CascadeResult((), -1, tuple(seen))

    def stream(self, *, memory: int = 15, look_every: int = 8) -> CascadeStream:
        """Return a stateful decoder for consecutive frames of one camera or video."""
        return CascadeStream(self, memory=memory, look_every=look_every)


def _unmap(box: Box, dx: int, dy: int, factor: float) -> Box:
    x0, y0, x1, y1 = box
    return (int(x0 / factor) + dx, int(y0 / factor) + dy, int(x1 / factor) + dx, int(y1 / factor) + dy)


class CascadeStream:
    """A cascade over a stream of frames: remembers where a code was seen for ``memory`` frames.

    On an idle camera (nothing read, located or remembered) the texture gate looks at
    one frame in ``look_every``: an idle frame then costs the plain call and an eighth of
    the gate (about 1 % at 720p), and a code zxing-cpp cannot even locate waits at most
    ``look_every - 1`` frames (a quarter of a second at 30 fps) for its first fallbacks.
    Not thread-safe; one per pipeline (the decoding thread owns it).
    """

    def __init__(self, cascade: Cascade, *, memory: int = 15, look_every: int = 8) -> None:
        """Decode with ``cascade``; forget a region after ``memory`` frames without a sighting there."""
        if look_every < 1:
            raise ValueError("look_every must be at least 1")
        self.cascade = cascade
        self.memory = memory
        self.look_every = look_every
        self._regions: tuple[Box, ...] = ()
        self._age = 0
        self._turn = 0

    def decode(self, frame: Image) -> CascadeResult:
        """Decode one frame, using (and updating) what the previous frames showed."""
        hints = self._regions if self._regions and self._age < self.memory else ()
        look = self._turn % self.look_every == 0
        result = self.cascade.decode(frame, hints=hints, turn=self._turn, look=look)
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
DEFAULT_FALLBACKS = (
    "unblur",
    "smooth+sharpen",
    "contrast",
    "brighten",
    "pad",
    "sharpen",
    "upscale",
    "darken",
    "otsu",
    "smooth",
)
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
PRESET_BUDGET = 1.0  # measured: 0.45 left half the texture-gated reads unread; 1.0 read 2-3 more a size than 0.8


def make_cascade(decoder: QrDecoder, name: str = DEFAULT_CASCADE) -> Cascade:
    """Return the preset cascade ``name`` around ``decoder``; raises UnknownDecoder for an unknown name."""
    preset = CASCADES.get(name)
    if preset is None:
        raise UnknownDecoder(f"unknown cascade {name!r}; choose one of: {', '.join(CASCADES)}")
    attempts, fallbacks, texture = preset
    return Cascade(decoder, attempts, fallbacks, name=name, texture_gate=texture, budget=PRESET_BUDGET)
