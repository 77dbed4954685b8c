"""Generated QR frames through the real pipeline: every distortion reads, negatives never scan."""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import pytest

from scanner import decoders
from scanner.cascade import Cascade, make_cascade
from scanner.corpus import NEGATIVES, ennichi_text, make_frame, make_negative_frame
from scanner.decoders import MissingQrDecoderLib, make_decoder
from scanner.errors import UnknownDecoder
from scanner.pipeline import ScanPipeline
from scanner.sources import MemorySource
from scanner.validator import ScanValidator


def _run(frames: list[np.ndarray], cascade: Cascade, clock: Any) -> list[str]:
    """Feed frames at 30 fps through the real pipeline, step by step; return the scans' texts."""
    pipeline = ScanPipeline(MemorySource(frames), cascade, ScanValidator(), clock=clock)
    texts = []
    for _ in range(len(frames) + 1):
        scan = pipeline.step()
        if scan is not None:
            texts.append(scan.text)
        clock.advance(1 / 30)
    return texts


# Buckets where a held code reads in most frames; the blurred, dim, glared and moire buckets
# are measured by bench/scanner.py, not asserted frame by frame.
STEADY = ("clean", "offcentre", "edge", "rotation", "tilt", "small", "inverted", "noise", "rolling_shutter", "jpeg")


@pytest.mark.parametrize("distortion", STEADY)
def test_each_steady_distortion_gives_exactly_one_scan(distortion, default_cascade, clock):
    rng = np.random.default_rng(zlib.crc32(distortion.encode()))
    text = ennichi_text(rng)
    # The phone moves a little between frames; a frame or two may not read, the scan still comes.
    frames = [make_frame(text, distortion, rng=rng) for _ in range(6)]
    assert _run(frames, default_cascade, clock) == [text]


@pytest.mark.parametrize("kind", NEGATIVES)
def test_negative_frames_never_scan(kind, default_cascade, clock, rng):
    frames = [make_negative_frame(kind, rng=rng) for _ in range(4)]
    for frame in frames:
        assert default_cascade.decode(frame).detections == ()
    assert _run(frames, default_cascade, clock) == []


def test_two_codes_in_view_give_no_scan(default_cascade, clock, rng):
    left = make_frame(ennichi_text(rng, prefix="EW1:"), "clean", rng=rng)
    right = make_frame(ennichi_text(rng, prefix="ET1:"), "clean", rng=rng)
    both = np.hstack([left, right])  # two phones side by side
    result = make_cascade(make_decoder("zxing-cpp"), "plain").decode(both)
    assert len(result.detections) == 2
    assert _run([both, both, both], make_cascade(make_decoder("zxing-cpp"), "plain"), clock) == []


@pytest.mark.parametrize("name", ["zxing-cpp", "pyzbar"])
def test_each_library_reads_a_clean_frame(name, rng):
    text = ennichi_text(rng)
    frame = make_frame(text, "clean", rng=rng)
    result = make_cascade(make_decoder(name)).decode(frame)
    assert [(d.text, d.decoder) for d in result.detections] == [(text, name)]


def test_inverted_code_needs_the_inverted_retry(rng):
    text = ennichi_text(rng)
    frame = make_frame(text, "inverted", rng=rng)
    assert decoders.PyzbarDecoder(try_invert=False).decode(frame) == []  # zbar reads dark-on-light only
    result = make_cascade(make_decoder("pyzbar")).decode(frame)
    assert [d.text for d in result.detections] == [text]
    assert [d.text for d in make_cascade(make_decoder("zxing-cpp"), "plain").decode(frame).detections] == [text]


def test_factory_raises_named_error_when_no_library_loads(monkeypatch):
    def refuse(name: str):
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(decoders.importlib, "import_module", refuse)
    with pytest.raises(MissingQrDecoderLib, match="no QR decoder library"):
        make_decoder("auto")
    with pytest.raises(MissingQrDecoderLib):
        make_decoder("pyzbar")


def test_factory_falls_back_to_pyzbar(monkeypatch):
    real = decoders.importlib.import_module

    def no_zxing(name: str):
        if name == "zxingcpp":
            raise ImportError(name)
        return real(name)

    monkeypatch.setattr(decoders.importlib, "import_module", no_zxing)
    assert make_decoder("auto").name == "pyzbar"


def test_unknown_names_are_refused():
    with pytest.raises(UnknownDecoder):
        make_decoder("quagga")
    with pytest.raises(UnknownDecoder):
        make_cascade(make_decoder("auto"), "magic")
