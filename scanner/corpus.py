"""Synthetic camera frames with Ennichi QR codes, for tests, the benchmark and ``ennichi scan`` checks.

Every frame is drawn from a seeded ``numpy.random.Generator``, so a corpus is
the same on every machine.  A frame is a BGR ``uint8`` array the size of a
webcam picture, with the code pasted through a homography onto a textured
background and then spoiled by one distortion from ``DISTORTIONS``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import segno

__all__ = [
    "BASE45_ALPHABET",
    "DISTORTIONS",
    "NEGATIVES",
    "SampleFrame",
    "ennichi_text",
    "make_corpus",
    "make_frame",
    "make_negative_frame",
    "qr_matrix",
]

Image = npt.NDArray[np.uint8]

BASE45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
DISTORTIONS = ("clean", "rotation", "tilt", "blur", "noise", "low_light", "glare", "inverted", "small")
NEGATIVES = ("scene", "checker", "covered", "stripes")
_PREFIXES = ("EW1:", "ET1:", "ES1:")


@dataclass(frozen=True)
class SampleFrame:
    """One generated frame and the text a decoder should read from it (None: no code)."""

    image: Image
    text: str | None
    bucket: str


def ennichi_text(rng: np.random.Generator, *, prefix: str | None = None, length: int = 150) -> str:
    """Return an Ennichi-like payload: a prefix and random base45 text, ``length`` characters in all."""
    chosen = prefix if prefix is not None else _PREFIXES[int(rng.integers(len(_PREFIXES)))]
    body = rng.integers(len(BASE45_ALPHABET), size=max(0, length - len(chosen)))
    return chosen + "".join(BASE45_ALPHABET[int(i)] for i in body)


def qr_matrix(text: str, *, error: str = "m", border: int = 4) -> Image:
    """Return the QR code for ``text`` as a 0/1 module matrix (1 = dark), quiet zone included."""
    code = segno.make_qr(text, error=error, boost_error=False)
    rows = list(code.matrix_iter(scale=1, border=border))
    return np.array(rows, dtype=np.uint8)


def _background(rng: np.random.Generator, width: int, height: int) -> Image:
    """Draw a desk-like scene: a gradient, a few shapes and lines, light noise."""
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)
    base = 90 + 70 * rng.random() * x[None, :] + 60 * rng.random() * y[:, None]
    img = np.repeat(base[:, :, None], 3, axis=2)
    img = img * rng.uniform(0.7, 1.1, size=3).astype(np.float32)
    canvas = np.clip(img, 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(3, 9))):
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        p1 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        p2 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        if rng.random() < 0.5:
            cv2.rectangle(canvas, p1, p2, colour, -1)
        else:
            cv2.line(canvas, p1, p2, colour, int(rng.integers(1, 6)))
    noise = rng.normal(0.0, 4.0, size=canvas.shape)
    scene: Image = np.clip(canvas + noise, 0, 255).astype(np.uint8)
    return scene


def _quad(
    rng: np.random.Generator, width: int, height: int, side: float, *, angle: float, tilt: float
) -> npt.NDArray[np.float32]:
    """Return the four frame corners (clockwise from top-left) where the code lands."""
    half = side / 2
    corners = np.array([[-half, -half], [half, -half], [half, half], [-half, half]], dtype=np.float64)
    if tilt:
        # Turning the card about its vertical axis: one edge gets shorter, farther away.
        shrink = 1.0 - tilt
        corners[1, 1] *= shrink
        corners[2, 1] *= shrink
        corners[1, 0] *= 1.0 - tilt / 2
        corners[2, 0] *= 1.0 - tilt / 2
    theta = math.radians(angle)
    rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    corners = corners @ rot.T
    reach = float(np.abs(corners).max())
    cx = width / 2 + rng.uniform(-1, 1) * max(0.0, width * 0.12 - 0.1 * reach)
    cy = height / 2 + rng.uniform(-1, 1) * max(0.0, height * 0.10 - 0.1 * reach)
    quad: npt.NDArray[np.float32] = (corners + np.array([cx, cy])).astype(np.float32)
    return quad


def _paste(canvas: Image, modules: Image, quad: npt.NDArray[np.float32], *, dark: int, light: int) -> Image:
    """Warp the module matrix onto the canvas at ``quad``."""
    height, width = canvas.shape[:2]
    scale = 4
    card: Any = np.where(modules > 0, dark, light).astype(np.uint8)
    card = cv2.resize(card, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    n = card.shape[0]
    src = np.array([[0, 0], [n, 0], [n, n], [0, n]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(src, quad)
    warped = cv2.warpPerspective(card, matrix, (width, height), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full_like(card, 255), matrix, (width, height), flags=cv2.INTER_AREA)
    alpha = (mask.astype(np.float32) / 255.0)[:, :, None]
    out = canvas.astype(np.float32) * (1 - alpha) + warped[:, :, None].astype(np.float32) * alpha
    result: Image = np.clip(out, 0, 255).astype(np.uint8)
    return result


def make_frame(
    text: str,
    distortion: str,
    *,
    rng: np.random.Generator,
    size: tuple[int, int] = (640, 480),
) -> Image:
    """Return a BGR frame of ``size`` (width, height) showing ``text`` as a QR code, spoiled by ``distortion``.

    Raises ValueError for an unknown distortion.
    """
    if distortion not in DISTORTIONS:
        raise ValueError(f"unknown distortion {distortion!r}")
    width, height = size
    modules = qr_matrix(text)
    # A phone 20-40 cm from a laptop webcam: the code spans about 45-60% of the frame height.
    side = height * rng.uniform(0.45, 0.6)
    if distortion == "small":
        side = height * rng.uniform(0.22, 0.3)
    angle = float(rng.uniform(-8, 8))
    tilt = 0.0
    if distortion == "rotation":
        angle = float(rng.uniform(0, 360))
    elif distortion == "tilt":
        tilt = float(rng.uniform(0.3, 0.5))
        angle = float(rng.uniform(-20, 20))
    dark, light = int(rng.integers(15, 50)), int(rng.integers(200, 245))
    if distortion == "inverted":  # a phone in dark mode
        dark, light = light, dark
    canvas = _background(rng, width, height)
    frame = _paste(canvas, modules, _quad(rng, width, height, side, angle=angle, tilt=tilt), dark=dark, light=light)
    return _spoil(frame, distortion, rng=rng)


def _spoil(frame: Image, distortion: str, *, rng: np.random.Generator) -> Image:
    """Apply the camera-side part of a distortion: blur, noise, darkness, glare."""
    img: Any = frame.astype(np.float32)
    height, width = frame.shape[:2]
    if distortion == "blur":
        sigma = float(rng.uniform(1.6, 2.6)) * height / 480
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    elif distortion == "noise":
        img = img + rng.normal(0.0, rng.uniform(28, 40), size=img.shape)
    elif distortion == "low_light":
        img = img * rng.uniform(0.07, 0.14) + rng.normal(0.0, 3.0, size=img.shape)
    elif distortion == "glare":
        cx = width / 2 + rng.uniform(-0.15, 0.15) * width
        cy = height / 2 + rng.uniform(-0.15, 0.15) * height
        radius = height * rng.uniform(0.1, 0.16)
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        spot = np.exp(-(((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * radius**2)))
        img = img + 255.0 * spot[:, :, None]
    # Every camera adds a little sensor noise and JPEG-ish softness.
    img = img + rng.normal(0.0, 2.0, size=img.shape)
    spoiled: Image = np.clip(img, 0, 255).astype(np.uint8)
    return spoiled


def make_negative_frame(kind: str, *, rng: np.random.Generator, size: tuple[int, int] = (640, 480)) -> Image:
    """Return a BGR frame with no readable code: a plain scene, a checkerboard, a mostly covered code, stripes.

    Raises ValueError for an unknown kind.
    """
    if kind not in NEGATIVES:
        raise ValueError(f"unknown negative kind {kind!r}")
    width, height = size
    canvas = _background(rng, width, height)
    if kind == "checker":
        cell = int(rng.integers(6, 16))
        yy, xx = np.mgrid[0:height, 0:width]
        board = (((yy // cell) + (xx // cell)) % 2 * 200 + 30).astype(np.uint8)
        canvas[height // 4 : 3 * height // 4, width // 4 : 3 * width // 4] = board[
            height // 4 : 3 * height // 4, width // 4 : 3 * width // 4, None
        ]
    elif kind == "covered":
        # A real code with two thirds of it under a thumb: the finder patterns show, the data does not.
        modules = qr_matrix(ennichi_text(rng))
        side = height * 0.5
        quad = _quad(rng, width, height, side, angle=float(rng.uniform(-5, 5)), tilt=0.0)
        canvas = _paste(canvas, modules, quad, dark=30, light=220)
        x0, y0 = quad[:, 0].min(), quad[:, 1].min()
        x1, y1 = quad[:, 0].max(), quad[:, 1].max()
        cv2.rectangle(
            canvas,
            (int(x0 + (x1 - x0) * 0.3), int(y0 + (y1 - y0) * 0.3)),
            (int(x1 + 5), int(y1 + 5)),
            (150, 170, 200),
            -1,
        )
    elif kind == "stripes":
        period = int(rng.integers(4, 12))
        xx = np.arange(width)
        stripes = ((xx // period) % 2 * 200 + 30).astype(np.uint8)
        canvas[height // 3 : 2 * height // 3, :] = stripes[None, :, None]
    return _spoil(canvas, "clean", rng=rng)


def make_corpus(
    *, seed: int, per_bucket: int, size: tuple[int, int] = (640, 480), negatives: int | None = None
) -> list[SampleFrame]:
    """Return ``per_bucket`` frames for every distortion plus negative frames, all from ``seed``."""
    rng = np.random.default_rng(seed)
    frames: list[SampleFrame] = []
    for distortion in DISTORTIONS:
        for _ in range(per_bucket):
            text = ennichi_text(rng)
            frames.append(SampleFrame(make_frame(text, distortion, rng=rng, size=size), text, distortion))
    count = per_bucket if negatives is None else negatives
    for i in range(count):
        kind = NEGATIVES[i % len(NEGATIVES)]
        frames.append(SampleFrame(make_negative_frame(kind, rng=rng, size=size), None, f"negative:{kind}"))
    return frames
