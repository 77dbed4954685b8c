"""The default decoding path: never fewer reads than one plain zxing-cpp call, fallbacks only where they help."""

from __future__ import annotations

import numpy as np
import pytest

from scanner.cascade import FALLBACKS, Cascade, CascadeStream, _blur_direction, make_cascade, textured_regions
from scanner.corpus import DISTORTIONS, ennichi_text, make_corpus, make_frame, make_negative_frame
from scanner.decoders import Detection, QrDecoder, Reading, make_decoder


class CountingDecoder(QrDecoder):
    """The real zxing-cpp decoder, counting calls and the pixels it was given."""

    name = "zxing-cpp"

    def __init__(self) -> None:
        self.inner = make_decoder("zxing-cpp")
        self.calls: list[tuple[int, int]] = []

    def decode(self, image):
        return list(self.read(image).detections)

    def read(self, image) -> Reading:
        self.calls.append(image.shape[:2])
        return self.inner.read(image)


class CropOnlyDecoder(QrDecoder):
    """A decoder that 'reads' a code only on images smaller than the frame: a crop around where it was."""

    name = "fake"

    def __init__(self, frame_shape: tuple[int, int], box=(100, 100, 300, 300)) -> None:
        self.frame_shape = frame_shape
        self.box = box
        self.found_on_whole_frame = True
        self.crops_read = False
        self.calls: list[tuple[int, int]] = []
        self.crops: list[bytes] = []

    def decode(self, image):
        return list(self.read(image).detections)

    def read(self, image) -> Reading:
        self.calls.append(image.shape[:2])
        whole = image.shape[:2] == self.frame_shape
        if not whole:
            self.crops.append(image.tobytes())
        if whole and self.found_on_whole_frame:
            return Reading((Detection("EW1:CODE", self.name),), found=(self.box,))
        if not whole and self.crops_read:
            return Reading((Detection("EW1:CODE", self.name),))
        return Reading(())


@pytest.fixture(scope="module")
def small_corpus():
    """Two frames per bucket and every kind of empty frame at 640x480; at 1280x720 the buckets where size tells."""
    at_720p = ("small", "offcentre", "edge", "inverted", "motion_blur", "moire")
    return make_corpus(seed=3, per_bucket=2, negatives=12) + make_corpus(
        seed=4, per_bucket=1, size=(1280, 720), negatives=2, distortions=at_720p
    )


def _texts(cascade: Cascade, frame) -> list[str]:
    return [d.text for d in cascade.decode(frame).detections]


def test_default_reads_every_frame_plain_zxing_reads_and_no_wrong_text(small_corpus):
    plain = make_cascade(make_decoder("zxing-cpp"), "plain")
    default = make_cascade(make_decoder("auto"))
    plain_reads = default_reads = 0
    for sample in small_corpus:
        ours = _texts(default, sample.image)
        if sample.text is None:
            assert ours == [], sample.bucket
            continue
        assert all(t == sample.text for t in ours), sample.bucket  # never a wrong text
        if _texts(plain, sample.image) == [sample.text]:
            plain_reads += 1
            assert ours == [sample.text], f"default lost a frame plain zxing-cpp reads ({sample.bucket})"
        default_reads += ours == [sample.text]
    assert default_reads >= plain_reads > len(DISTORTIONS)


@pytest.mark.parametrize(
    ("distortion", "seed", "step"),
    [
        ("moire", 45, None),  # None: some fallback (the order decides which)
        ("defocus", 73, None),
        ("low_light", 123, None),
        ("motion_blur", 7, "unblur"),  # only deblurring reads these
        ("motion_blur", 13, "unblur"),
        ("defocus", 11, "unblur"),
        ("defocus", 24, "unblur"),
    ],
)
def test_fallbacks_read_frames_one_plain_call_misses(distortion, seed, step):
    rng = np.random.default_rng(seed)
    text = ennichi_text(rng)
    frame = make_frame(text, distortion, rng=rng)
    assert _texts(make_cascade(make_decoder("zxing-cpp"), "plain"), frame) == []
    result = make_cascade(make_decoder("zxing-cpp")).decode(frame)
    assert [d.text for d in result.detections] == [text]
    assert result.step in FALLBACKS and result.attempt >= 1  # read by a fallback
    assert step is None or result.step == step


@pytest.mark.parametrize("kind", ["scene", "dark"])
def test_an_idle_frame_costs_one_plain_call(kind, rng):
    counting = CountingDecoder()
    cascade = make_cascade(counting)
    stream = cascade.stream()
    for size in ((640, 480), (1280, 720)):
        frame = make_negative_frame(kind, rng=rng, size=size)
        counting.calls.clear()
        assert cascade.decode(frame).detections == ()
        assert stream.decode(frame).detections == ()
        assert counting.calls == [(size[1], size[0])] * 2  # the whole frame, once, for each


def test_fallbacks_stay_within_the_frame_budget(rng):
    """A covered code zxing-cpp locates but cannot read: the fallbacks run on its crop, within budget."""
    counting = CountingDecoder()
    cascade = make_cascade(counting)
    for _ in range(4):
        frame = make_negative_frame("covered", rng=rng)
        counting.calls.clear()
        assert cascade.decode(frame).detections == ()
        whole, *crops = counting.calls
        assert whole == frame.shape[:2]
        assert sum(h * w for h, w in crops) <= cascade.budget * frame.shape[0] * frame.shape[1] or len(crops) == 1


def test_stream_retries_where_the_code_was_one_fallback_per_frame(rng):
    shape = (480, 640)
    frame = rng.integers(0, 256, size=(*shape, 3), dtype=np.uint8)
    fake = CropOnlyDecoder(shape)
    cascade = Cascade(fake, make_cascade(fake).attempts, ("sharpen", "brighten", "contrast"))
    stream = CascadeStream(cascade, memory=3)
    assert [d.text for d in stream.decode(frame).detections] == ["EW1:CODE"]
    fake.found_on_whole_frame = False  # the code blurs: the whole frame shows nothing now
    for _ in range(3):
        fake.calls.clear()
        result = stream.decode(frame)
        assert result.detections == ()
        whole, *crops = fake.calls
        assert whole == shape and len(crops) == 1  # one fallback, on the crop around the remembered box
        assert crops[0][0] < shape[0] and crops[0][1] < shape[1]
    assert len(set(fake.crops)) == 3  # a different fallback each frame
    fake.calls.clear()
    stream.decode(frame)
    assert fake.calls == [shape]  # forgotten after `memory` frames: an idle frame again
    # Shown again and read on a crop only: the stream finds it through the region it remembers.
    fake.found_on_whole_frame = True
    stream.decode(frame)
    fake.found_on_whole_frame, fake.crops_read = False, True
    result = stream.decode(frame)
    assert [d.text for d in result.detections] == ["EW1:CODE"]
    assert result.step in cascade.fallbacks


def test_stateless_decode_does_not_remember():
    shape = (480, 640)
    frame = np.full((*shape, 3), 128, dtype=np.uint8)
    fake = CropOnlyDecoder(shape)
    cascade = make_cascade(fake)
    assert cascade.decode(frame).detections
    fake.found_on_whole_frame = False
    fake.calls.clear()
    assert cascade.decode(frame).detections == ()
    assert fake.calls == [shape]


def _code_at(corner: str, *, invert: bool = False, blur: float = 0.0, size: tuple[int, int] = (640, 480)):
    """A plain gray frame with a 4 px-module code in ``corner`` ("tl", "br", "centre")."""
    import cv2

    from scanner.corpus import qr_matrix

    width, height = size
    modules = qr_matrix("EW1:GATE-TEST")
    code = np.kron(modules, np.ones((4, 4), dtype=np.uint8))
    code = np.where(code > 0, 30, 220).astype(np.uint8) if not invert else np.where(code > 0, 220, 30).astype(np.uint8)
    frame = np.full((height, width), 120, dtype=np.uint8)
    side = code.shape[0]
    spots = {"tl": (0, 0), "br": (width - side, height - side), "centre": ((width - side) // 2, (height - side) // 2)}
    x, y = spots[corner]
    frame[y : y + side, x : x + side] = code
    if blur:
        frame = cv2.GaussianBlur(frame, (0, 0), blur)
    return frame, (x, y, x + side, y + side)


@pytest.mark.parametrize(
    ("corner", "invert", "blur"), [("tl", False, 0.0), ("br", False, 0.0), ("centre", True, 0.0), ("br", False, 2.0)]
)
def test_texture_gate_finds_codes_in_corners_inverted_and_blurred(corner, invert, blur):
    frame, (x0, y0, x1, y1) = _code_at(corner, invert=invert, blur=blur)
    boxes = textured_regions(frame)
    assert len(boxes) == 1
    bx0, by0, bx1, by1 = boxes[0]
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    assert bx0 <= cx <= bx1 and by0 <= cy <= by1  # the box covers the code's centre


def test_texture_gate_rejects_empty_frames():
    """A dark tent, a flat wall, a smooth gradient, fine sensor noise: no region (a busy desk scene may give one)."""
    rng = np.random.default_rng(7)
    for size in ((640, 480), (1280, 720)):
        assert textured_regions(make_negative_frame("dark", rng=rng, size=size)[..., 0].copy()) == []
    assert textured_regions(np.full((480, 640), 90, dtype=np.uint8)) == []
    gradient = np.tile(np.linspace(40, 200, 640).astype(np.uint8), (480, 1))
    assert textured_regions(gradient) == []
    noisy = np.clip(gradient + rng.normal(0, 1.5, gradient.shape), 0, 255).astype(np.uint8)
    assert textured_regions(noisy) == []


def test_default_reads_at_least_as_many_hard_frames_as_plain_and_no_wrong_text():
    zxing = make_decoder("zxing-cpp")
    plain, default = make_cascade(zxing, "plain"), make_cascade(zxing)
    corpus = [s for s in make_corpus(seed=5, per_bucket=4, negatives=12) if s.bucket in (
        "motion_blur", "defocus", "low_light", "glare", "moire") or s.text is None]
    plain_reads = default_reads = 0
    for sample in corpus:
        ours, theirs = _texts(default, sample.image), _texts(plain, sample.image)
        if sample.text is None:
            assert ours == []
            continue
        assert ours in ([], [sample.text])  # never a wrong text
        plain_reads += theirs == [sample.text]
        default_reads += ours == [sample.text]
    assert default_reads >= plain_reads


def test_an_idle_camera_runs_the_texture_gate_on_one_frame_in_eight(monkeypatch, rng):
    """A stream's idle frames pay the plain call and an eighth of the gate; a single image always gets the gate."""
    import scanner.cascade as cascade_module

    looked: list[tuple[int, int]] = []
    real = cascade_module.textured_regions

    def spy(gray, **kwargs):
        looked.append(gray.shape[:2])
        return real(gray, **kwargs)

    monkeypatch.setattr(cascade_module, "textured_regions", spy)
    cascade = make_cascade(make_decoder("zxing-cpp"))
    frames = [make_negative_frame(kind, rng=rng) for kind in ("scene", "dark") for _ in range(8)]
    stream = cascade.stream()
    assert all(stream.decode(frame).detections == () for frame in frames)
    assert len(looked) == len(frames) // stream.look_every == 2
    looked.clear()
    assert all(cascade.decode(frame).detections == () for frame in frames[:3])
    assert len(looked) == 3
    with pytest.raises(ValueError):
        cascade.stream(look_every=0)


def test_a_stream_finds_a_code_zxing_cannot_locate_within_look_every_frames():
    """A code only a fallback reads, held in front of an idle camera: read within the first eight frames."""
    frame, _box = _code_at("centre")
    shape = frame.shape[:2]
    fake = CropOnlyDecoder(shape)
    fake.found_on_whole_frame, fake.crops_read = False, True
    stream = make_cascade(fake).stream()
    stream.decode(np.full(shape, 120, dtype=np.uint8))  # an idle frame: the gate looked at this one
    reads = [bool(stream.decode(frame).detections) for _ in range(stream.look_every)]
    assert reads.index(True) == stream.look_every - 1  # the next frame the gate looks at
    assert stream.decode(frame).detections  # and from then on where it was read, on every frame


class LocatesOneFinderDecoder(QrDecoder):
    """zxing-cpp as it often is on a hard frame: one finder pattern located, nothing read; crops recorded."""

    name = "fake"

    def __init__(self, frame_shape: tuple[int, int], finder) -> None:
        self.frame_shape = frame_shape
        self.finder = finder
        self.crops: list[tuple[int, int]] = []

    def decode(self, image):
        return list(self.read(image).detections)

    def read(self, image) -> Reading:
        if image.shape[:2] == self.frame_shape:
            return Reading((), suspects=(self.finder,))
        self.crops.append(image.shape[:2])
        return Reading(())


def test_fallbacks_crop_the_whole_code_when_zxing_located_only_one_finder_pattern():
    frame, (x0, y0, x1, y1) = _code_at("centre")
    finder = (x0, y0, x0 + (x1 - x0) // 5, y0 + (y1 - y0) // 5)  # the top-left finder pattern only
    fake = LocatesOneFinderDecoder(frame.shape[:2], finder)
    make_cascade(fake).decode(frame)
    assert fake.crops, "the fallbacks ran"
    height, width = fake.crops[0]
    assert height >= y1 - y0 and width >= x1 - x0  # the first crop holds the whole code, not the finder alone


def test_unblur_declines_crops_that_are_not_blurred_one_way():
    """Deblurring costs several plain calls: a sharp code, a checkerboard, a covered code, a moire screen: skipped."""
    import cv2

    rng = np.random.default_rng(1)
    sharp, _box = _code_at("centre")
    kinds = ("checker", "covered", "screen")
    frames = [sharp] + [cv2.cvtColor(make_negative_frame(kind, rng=rng), cv2.COLOR_BGR2GRAY) for kind in kinds]
    assert all(FALLBACKS["unblur"](frame) is None for frame in frames)
    soft = cv2.GaussianBlur(sharp, (0, 0), 1.0)  # slightly soft, not out of focus: still declined
    assert FALLBACKS["unblur"](soft) is None
    blurred = cv2.filter2D(sharp, -1, np.full((1, 9), 1 / 9, dtype=np.float32))  # 9 px sideways
    out = FALLBACKS["unblur"](blurred)
    assert out is not None and out.dtype == np.uint8 and max(out.shape) <= 360  # worked on a scaled-down crop
    assert _blur_direction(out)[1] > 2 * _blur_direction(blurred)[1]  # the gradients along the blur came back
