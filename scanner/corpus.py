"""Synthetic webcam frames with Ennichi QR codes, for tests, the benchmark and ``ennichi scan`` checks.

Every frame is drawn from a seeded ``numpy.random.Generator``, so a corpus is
the same on every machine.  A frame is a BGR ``uint8`` array the size of a
webcam picture, with the code pasted through a homography onto a textured
background *anywhere* in the view (or partly out of it, bucket ``edge``),
spoiled by one distortion from ``DISTORTIONS``, then passed through the
camera: sensor noise and MJPEG compression, as a USB webcam delivers it.

``make_sequence`` draws a short clip instead: a fixed scene, the code brought
into view after a few empty frames, then held, moved or shaken for about a
second, with the motion blur, defocus and rolling-shutter skew that motion
gives.  The benchmark measures the time from the code's first frame to the
scan on these.
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
    "MOTIONS",
    "NEGATIVES",
    "SampleFrame",
    "SampleSequence",
    "ennichi_text",
    "make_corpus",
    "make_frame",
    "make_negative_frame",
    "make_sequence",
    "make_sequences",
    "qr_matrix",
]

Image = npt.NDArray[np.uint8]
Quad = npt.NDArray[np.float32]

BASE45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
DISTORTIONS = (
    "clean",  # anywhere in the view, fully inside it
    "offcentre",  # its centre in the outer part of the view
    "edge",  # partly out of the view: the quiet zone and up to a module cut off
    "rotation",
    "tilt",
    "small",  # 2-3 px per module, at either size
    "inverted",  # light on dark: a phone in dark mode
    "motion_blur",
    "defocus",
    "noise",
    "low_light",
    "glare",
    "moire",  # a phone screen's pixel grid beating with the sensor's
    "finger",  # a thumb over part of the code
    "rolling_shutter",  # the code moved while the sensor read its rows
    "jpeg",  # a webcam's heavy MJPEG compression
)
NEGATIVES = ("scene", "checker", "covered", "stripes", "screen", "dark")
MOTIONS = ("held", "moving", "shaky")
_PREFIXES = ("EW1:", "ET1:", "ES1:")
_MODULES = 53  # version 7 (45 modules) and the 4-module quiet zone on each side


@dataclass(frozen=True)
class SampleFrame:
    """One generated frame and the text a decoder should read from it (None: no code)."""

    image: Image
    text: str | None
    bucket: str


@dataclass(frozen=True)
class SampleSequence:
    """A short clip: its frames, the code's text, the first frame that shows it, the frame rate."""

    frames: tuple[Image, ...]
    text: str
    motion: str
    first_code_frame: int
    fps: float


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


def _noise(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> npt.NDArray[np.float32]:
    """Return Gaussian noise of ``shape`` (float32), seeded from ``rng`` (OpenCV's generator: fast)."""
    out = np.empty(shape, dtype=np.float32)
    cv2.setRNGSeed(int(rng.integers(2**31 - 1)))
    cv2.randn(out, np.zeros(1), np.full(1, float(sigma)))
    return out


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
    noise = _noise(rng, canvas.shape, 4.0)
    scene: Image = np.clip(canvas + noise, 0, 255).astype(np.uint8)
    return scene


def _shape(side: float, *, angle: float, tilt: float) -> npt.NDArray[np.float64]:
    """Return the code's four corners (clockwise from top-left) around the origin."""
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
    shaped: npt.NDArray[np.float64] = corners @ rot.T
    return shaped


def _place(rng: np.random.Generator, corners: npt.NDArray[np.float64], width: int, height: int, *, where: str) -> Quad:
    """Move the corners to a spot in the frame: ``anywhere`` inside, ``outer`` part only, or over an ``edge``."""
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    span = hi - lo
    margin = 2.0
    x_range = (margin - lo[0], width - margin - hi[0])
    y_range = (margin - lo[1], height - margin - hi[1])
    if x_range[1] < x_range[0]:
        x_range = (width / 2, width / 2)
    if y_range[1] < y_range[0]:
        y_range = (height / 2, height / 2)
    cx, cy = float(rng.uniform(*x_range)), float(rng.uniform(*y_range))
    if where == "outer":
        for _ in range(50):  # keep the centre at least a quarter of the frame away from the middle
            if abs(cx - width / 2) > width / 4 or abs(cy - height / 2) > height / 4:
                break
            cx, cy = float(rng.uniform(*x_range)), float(rng.uniform(*y_range))
    elif where == "edge":
        # The quiet zone (4 modules) and up to one module of the symbol fall outside one side.
        module = float(span.max()) / _MODULES
        cut = module * float(rng.uniform(2.0, 5.0))
        side = int(rng.integers(4))
        if side == 0:
            cx = -lo[0] - cut
        elif side == 1:
            cx = width - hi[0] + cut
        elif side == 2:
            cy = -lo[1] - cut
        else:
            cy = height - hi[1] + cut
    quad: Quad = (corners + np.array([cx, cy])).astype(np.float32)
    return quad


def _paste(canvas: Image, modules: Image, quad: Quad, *, dark: int, light: int) -> Image:
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


def _phone(canvas: Image, quad: Quad, rng: np.random.Generator) -> Image:
    """Draw a phone's dark body around the code (what a dark-mode screen shows around it)."""
    centre = quad.mean(axis=0)
    body = (quad - centre) * np.array([1.25, 1.6]) + centre
    shade = int(rng.integers(5, 30))
    cv2.fillConvexPoly(canvas, body.astype(np.int32), (shade, shade, shade + 5), lineType=cv2.LINE_AA)
    return canvas


def _code_side(rng: np.random.Generator, height: int, distortion: str) -> float:
    """Return the side of the code in pixels: a phone 20-40 cm from a laptop webcam, or tiny."""
    if distortion == "small":
        return _MODULES * float(rng.uniform(2.0, 3.2))
    return height * float(rng.uniform(0.32, 0.6))


def _motion_kernel(length: float, angle: float) -> npt.NDArray[np.float32]:
    """Return a normalised line kernel ``length`` px long at ``angle`` degrees."""
    size = max(3, math.ceil(length) | 1)
    kernel = np.zeros((size, size), dtype=np.float32)
    c = size // 2
    dx, dy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    half = length / 2
    cv2.line(
        kernel,
        (round(c - dx * half), round(c - dy * half)),
        (round(c + dx * half), round(c + dy * half)),
        1.0,
        1,
        cv2.LINE_AA,
    )
    kernel /= max(float(kernel.sum()), 1e-6)
    return kernel


def _defocus_kernel(radius: float) -> npt.NDArray[np.float32]:
    """Return a normalised disk kernel (an out-of-focus lens)."""
    r = max(1, math.ceil(radius))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    disk = np.asarray(xx**2 + yy**2 <= radius**2, dtype=np.float32)
    kernel: npt.NDArray[np.float32] = disk / np.float32(disk.sum())
    return kernel


def _rolling_shutter(img: Any, shift: float) -> Any:
    """Shift each row sideways in proportion to its height: the picture moved during the readout."""
    height, width = img.shape[:2]
    matrix = np.array([[1.0, shift / height, -shift / 2], [0.0, 1.0, 0.0]], dtype=np.float32)
    return cv2.warpAffine(img, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)


def _moire(img: Any, quad: Quad, rng: np.random.Generator) -> Any:
    """Multiply the screen area by the slow beat of two fine grids, and add the fine grid itself."""
    height, width = img.shape[:2]
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    theta = float(rng.uniform(0, math.pi))
    beat = float(rng.uniform(10, 40))  # px per beat period
    fine = float(rng.uniform(2.2, 3.5))
    u = xx * math.cos(theta) + yy * math.sin(theta)
    v = -xx * math.sin(theta) + yy * math.cos(theta)
    pattern = 1.0 + float(rng.uniform(0.2, 0.4)) * np.cos(2 * math.pi * u / beat)
    pattern += float(rng.uniform(0.05, 0.15)) * np.cos(2 * math.pi * v / fine)
    mask = np.zeros((height, width), dtype=np.float32)
    centre = quad.mean(axis=0)
    cv2.fillConvexPoly(mask, ((quad - centre) * 1.3 + centre).astype(np.int32), 1.0)
    factor = 1.0 + (pattern - 1.0) * mask
    return img * factor[:, :, None]


def _finger(img: Any, quad: Quad, rng: np.random.Generator) -> Any:
    """Lay a thumb from outside the code over one of its sides, covering a few per cent of it."""
    centre = quad.mean(axis=0)
    side = float(np.linalg.norm(quad[1] - quad[0]))
    edge = int(rng.integers(4))
    a, b = quad[edge], quad[(edge + 1) % 4]
    along = float(rng.uniform(0.25, 0.75))
    point = a + (b - a) * along
    outward = point - centre
    outward /= max(float(np.linalg.norm(outward)), 1e-6)
    depth = side * float(rng.uniform(0.06, 0.22))  # how far the tip reaches past the code's edge
    axes = (int(side * float(rng.uniform(0.08, 0.12))), int(side * 0.6))
    tip = point - outward * depth
    middle = tip + outward * axes[1]
    angle = math.degrees(math.atan2(outward[1], outward[0])) + 90
    skin = tuple(float(c) for c in rng.uniform([90, 120, 170], [140, 170, 230]))
    cv2.ellipse(img, (int(middle[0]), int(middle[1])), axes, angle, 0, 360, skin, -1, cv2.LINE_AA)
    return img


def _jpeg(image: Image, quality: int) -> Image:
    """Return ``image`` after a JPEG round trip at ``quality``."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        return image
    decoded: Any = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return np.asarray(decoded, dtype=np.uint8)


def _camera(img: Any, rng: np.random.Generator, *, quality: int | None = None) -> Image:
    """Add the sensor's noise and the webcam's MJPEG compression."""
    img = img + _noise(rng, img.shape, 2.0)
    frame: Image = np.clip(img, 0, 255).astype(np.uint8)
    return _jpeg(frame, quality if quality is not None else int(rng.integers(70, 92)))


def _spoil(frame: Image, distortion: str, quad: Quad, *, rng: np.random.Generator, scale: float) -> Image:
    """Apply the optical and sensor part of a distortion, then the camera's noise and compression."""
    img: Any = frame.astype(np.float32)
    height, width = frame.shape[:2]
    quality: int | None = None
    if distortion == "motion_blur":
        img = cv2.filter2D(img, -1, _motion_kernel(float(rng.uniform(3, 10)) * scale, float(rng.uniform(0, 180))))
    elif distortion == "defocus":
        img = cv2.filter2D(img, -1, _defocus_kernel(float(rng.uniform(2.0, 4.0)) * scale))
    elif distortion == "noise":
        img = img + _noise(rng, img.shape, float(rng.uniform(28, 40)))
    elif distortion == "low_light":
        img = img * float(rng.uniform(0.07, 0.14)) + _noise(rng, img.shape, 3.0)
    elif distortion == "glare":
        cx, cy = quad.mean(axis=0) + rng.uniform(-0.35, 0.35, size=2) * float(np.ptp(quad[:, 0]))
        radius = float(np.ptp(quad[:, 0])) * rng.uniform(0.12, 0.25)
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        spot = np.exp(-(((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * radius**2)))
        img = img + float(rng.uniform(180, 300)) * spot[:, :, None]
    elif distortion == "moire":
        img = _moire(img, quad, rng)
    elif distortion == "finger":
        img = _finger(img, quad, rng)
    elif distortion == "rolling_shutter":
        img = _rolling_shutter(img, float(rng.uniform(0.08, 0.2)) * height * float(rng.choice([-1, 1])))
        img = cv2.filter2D(img, -1, _motion_kernel(float(rng.uniform(2, 5)) * scale, 0.0))
    elif distortion == "jpeg":
        quality = int(rng.integers(8, 22))
    return _camera(img, rng, quality=quality)


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
    side = _code_side(rng, height, distortion)
    angle = float(rng.uniform(-8, 8))
    tilt = 0.0
    if distortion == "rotation":
        angle = float(rng.uniform(0, 360))
    elif distortion == "tilt":
        tilt = float(rng.uniform(0.3, 0.5))
        angle = float(rng.uniform(-20, 20))
    where = {"offcentre": "outer", "edge": "edge"}.get(distortion, "anywhere")
    quad = _place(rng, _shape(side, angle=angle, tilt=tilt), width, height, where=where)
    dark, light = int(rng.integers(15, 50)), int(rng.integers(200, 245))
    canvas = _background(rng, width, height)
    if distortion == "inverted":  # a phone in dark mode
        dark, light = light, dark
        canvas = _phone(canvas, quad, rng)
    frame = _paste(canvas, modules, quad, dark=dark, light=light)
    return _spoil(frame, distortion, quad, rng=rng, scale=height / 480)


def make_negative_frame(kind: str, *, rng: np.random.Generator, size: tuple[int, int] = (640, 480)) -> Image:
    """Return a BGR frame with no readable code.

    Kinds: a plain scene, a checkerboard, a code mostly under a thumb, stripes, a lit phone
    screen with moire but no code, a dark tent.  Raises ValueError for an unknown kind.
    """
    if kind not in NEGATIVES:
        raise ValueError(f"unknown negative kind {kind!r}")
    width, height = size
    canvas = _background(rng, width, height)
    img: Any = canvas
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
        quad = _place(
            rng, _shape(height * 0.5, angle=float(rng.uniform(-5, 5)), tilt=0.0), width, height, where="anywhere"
        )
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
        img = canvas
    elif kind == "stripes":
        period = int(rng.integers(4, 12))
        xx = np.arange(width)
        stripes = ((xx // period) % 2 * 200 + 30).astype(np.uint8)
        canvas[height // 3 : 2 * height // 3, :] = stripes[None, :, None]
    elif kind == "screen":
        quad = _place(
            rng, _shape(height * 0.5, angle=float(rng.uniform(-10, 10)), tilt=0.0), width, height, where="anywhere"
        )
        canvas = _phone(canvas, quad, rng)
        cv2.fillConvexPoly(canvas, quad.astype(np.int32), (235, 235, 235))
        img = _moire(canvas.astype(np.float32), quad, rng)
    elif kind == "dark":
        img = canvas.astype(np.float32) * float(rng.uniform(0.05, 0.12)) + _noise(rng, canvas.shape, 3.0)
    return _camera(np.asarray(img, dtype=np.float32), rng)


def make_corpus(
    *,
    seed: int,
    per_bucket: int,
    size: tuple[int, int] = (640, 480),
    negatives: int | None = None,
    distortions: tuple[str, ...] = DISTORTIONS,
) -> list[SampleFrame]:
    """Return ``per_bucket`` frames for every distortion plus negative frames, all from ``seed``."""
    rng = np.random.default_rng(seed)
    frames: list[SampleFrame] = []
    for distortion in distortions:
        for _ in range(per_bucket):
            text = ennichi_text(rng)
            frames.append(SampleFrame(make_frame(text, distortion, rng=rng, size=size), text, distortion))
    count = per_bucket if negatives is None else negatives
    for i in range(count):
        kind = NEGATIVES[i % len(NEGATIVES)]
        frames.append(SampleFrame(make_negative_frame(kind, rng=rng, size=size), None, f"negative:{kind}"))
    return frames


def make_sequence(
    text: str,
    motion: str,
    *,
    rng: np.random.Generator,
    size: tuple[int, int] = (640, 480),
    fps: float = 30.0,
    seconds: float = 1.2,
    lead_in: int = 4,
) -> SampleSequence:
    """Return a clip: ``lead_in`` empty frames, then the code brought in and held, moved or shaken.

    ``held``: a hand holding a phone still (a little tremor); ``moving``: the phone slides
    across the view and slows down; ``shaky``: held but shaking, with motion blur in most
    frames.  The first frames after the code arrives are out of focus while the webcam's
    autofocus settles, and fast frames show rolling-shutter skew.  Raises ValueError for an
    unknown motion.
    """
    if motion not in MOTIONS:
        raise ValueError(f"unknown motion {motion!r}")
    width, height = size
    scale = height / 480
    modules = qr_matrix(text)
    scene = _background(rng, width, height)
    count = round(seconds * fps)
    side = height * float(rng.uniform(0.3, 0.55))
    base_angle = float(rng.uniform(-12, 12))
    shape = _shape(side, angle=base_angle, tilt=float(rng.uniform(0.0, 0.25)))
    rest = _place(rng, shape, width, height, where="anywhere")[0] - shape[0]  # where the hand comes to rest
    start = np.array([rng.choice([-0.6, 1.6]) * width, rest[1] + rng.uniform(-0.2, 0.2) * height])
    dark, light = int(rng.integers(15, 50)), int(rng.integers(200, 245))
    inverted = rng.random() < 0.25
    if inverted:
        dark, light = light, dark
    frames: list[Image] = []
    previous = None
    for i in range(count):
        if i < lead_in:
            frames.append(_camera(scene.astype(np.float32), rng))
            continue
        k = i - lead_in
        t = k / fps
        if motion == "moving":
            # It enters from one side (already partly in view) and slows to a stop in 0.7 s.
            ease = 1 - (1 - min(1.0, t / 0.7)) ** 2
            centre = rest + (start - rest) * 0.35 * (1 - ease)
            wobble = rng.normal(0.0, 1.5 * scale, size=2)
        elif motion == "shaky":
            centre = rest + np.array([math.sin(2 * math.pi * 3.1 * t), math.cos(2 * math.pi * 2.3 * t)]) * 18 * scale
            wobble = rng.normal(0.0, 3.0 * scale, size=2)
        else:
            centre = rest.copy()
            wobble = rng.normal(0.0, 1.0 * scale, size=2)
        centre = centre + wobble
        quad: Quad = (shape + centre).astype(np.float32)
        velocity = np.zeros(2) if previous is None else centre - previous
        previous = centre
        canvas = scene.copy()
        if inverted:
            canvas = _phone(canvas, quad, rng)
        img: Any = _paste(canvas, modules, quad, dark=dark, light=light).astype(np.float32)
        speed = float(np.linalg.norm(velocity))
        if speed > 1.0:
            length = speed * float(rng.uniform(0.4, 0.7))  # exposure is part of the frame time
            img = cv2.filter2D(img, -1, _motion_kernel(length, math.degrees(math.atan2(velocity[1], velocity[0]))))
            img = _rolling_shutter(img, velocity[0] * 0.5)
        focus = max(0.0, 3.5 - 0.5 * k) * scale  # autofocus settles over about seven frames
        if focus > 0.5:
            img = cv2.filter2D(img, -1, _defocus_kernel(focus))
        frames.append(_camera(img, rng))
    return SampleSequence(tuple(frames), text, motion, lead_in, fps)


def make_sequences(*, seed: int, per_motion: int, size: tuple[int, int] = (640, 480)) -> list[SampleSequence]:
    """Return ``per_motion`` seeded clips for every motion in ``MOTIONS``."""
    rng = np.random.default_rng(seed)
    return [
        make_sequence(ennichi_text(rng), motion, rng=rng, size=size) for motion in MOTIONS for _ in range(per_motion)
    ]
