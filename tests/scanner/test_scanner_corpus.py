"""The seeded webcam corpus: the same everywhere, codes where the bucket says, clips that a stream scans."""

from __future__ import annotations

import numpy as np
import pytest

from scanner.cascade import make_cascade
from scanner.corpus import ennichi_text, make_corpus, make_frame, make_sequence
from scanner.decoders import make_decoder
from scanner.pipeline import ScanPipeline
from scanner.sources import MemorySource
from scanner.validator import ScanValidator


def test_corpus_is_the_same_for_the_same_seed():
    a = make_corpus(seed=8, per_bucket=1, negatives=2, distortions=("clean", "moire", "finger"))
    b = make_corpus(seed=8, per_bucket=1, negatives=2, distortions=("clean", "moire", "finger"))
    assert [s.text for s in a] == [s.text for s in b]
    assert all(np.array_equal(x.image, y.image) for x, y in zip(a, b, strict=True))
    assert [s.bucket for s in a] == ["clean", "moire", "finger", "negative:scene", "negative:checker"]


def test_unknown_names_are_refused(rng):
    with pytest.raises(ValueError, match="distortion"):
        make_frame("x", "sepia", rng=rng)
    with pytest.raises(ValueError, match="motion"):
        make_sequence("x", "juggling", rng=rng)


def test_small_codes_have_two_to_three_pixel_modules_at_720p(rng):
    decoder = make_decoder("zxing-cpp")
    for _ in range(3):
        text = ennichi_text(rng)
        reading = decoder.read(make_frame(text, "small", rng=rng, size=(1280, 720)))
        assert [d.text for d in reading.detections] == [text]
        x0, _y0, x1, _y1 = reading.found[0]
        # 45 modules (version 7) across; a tilt of up to 8 degrees widens the box by up to 15 %.
        assert 2.0 * 0.97 <= (x1 - x0) / 45 <= 3.2 * 1.16


def test_edge_codes_are_partly_out_of_the_frame(rng):
    for _ in range(4):
        frame = make_frame(ennichi_text(rng), "edge", rng=rng)
        reading = make_decoder("zxing-cpp").read(frame)
        for x0, y0, x1, y1 in reading.found:
            module = (x1 - x0) / 45
            # Less than a quiet zone (4 modules) between the symbol and some edge of the frame.
            assert min(x0, y0, 640 - x1, 480 - y1) < 4 * module * 1.2


@pytest.mark.parametrize("motion", ["moving", "shaky"])
def test_a_clip_scans_once_through_the_stream(motion, clock):
    rng = np.random.default_rng(len(motion))
    text = ennichi_text(rng)
    clip = make_sequence(text, motion, rng=rng)
    cascade = make_cascade(make_decoder("zxing-cpp"))
    # Before the code arrives, nothing reads.
    assert all(cascade.decode(f).detections == () for f in clip.frames[: clip.first_code_frame])
    pipeline = ScanPipeline(MemorySource(list(clip.frames)), cascade, ScanValidator(), clock=clock)
    texts = []
    for _ in range(len(clip.frames) + 1):
        scan = pipeline.step()
        if scan is not None:
            texts.append(scan.text)
        clock.advance(1 / clip.fps)
    assert texts == [text]
