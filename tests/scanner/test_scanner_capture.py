"""Capture: newest frame only, camera status, and reopening a camera that comes back."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

from scanner.capture import Capture, Frame, FrameSlot
from scanner.corpus import ennichi_text, make_frame
from scanner.errors import SourceUnavailable
from scanner.pipeline import ScanPipeline
from scanner.sources import CameraSource, ImageFolderSource, MemorySource, VideoFileSource
from scanner.status import CameraState

BLACK = np.zeros((48, 64, 3), dtype=np.uint8)


class FakeCapture:
    """Stands in for cv2.VideoCapture: a camera the test plugs in and out."""

    def __init__(self, camera):
        self.camera = camera
        self.released = False

    def isOpened(self):
        return self.camera.state != "busy"

    def set(self, prop, value):
        return True

    def read(self):
        if self.camera.state != "ok" or self.released:
            return False, None
        return True, BLACK

    def release(self):
        self.released = True


class FakeCamera:
    def __init__(self, state="ok"):
        self.state = state
        self.opens = 0

    def __call__(self, device):
        self.opens += 1
        return FakeCapture(self)


def test_slot_keeps_only_the_newest_frame():
    slot = FrameSlot()
    for i in range(5):
        slot.put(Frame(BLACK, float(i), i))
    assert slot.take(timeout=0).index == 4
    assert slot.take(timeout=0) is None
    assert slot.dropped == 4


def test_unplugged_camera_is_lost_then_reconnects(clock, tmp_path):
    node = tmp_path / "video0"
    node.touch()
    camera = FakeCamera()
    statuses = []
    capture = Capture(CameraSource(str(node), opener=camera), clock=clock, on_status=statuses.append)
    assert capture.step() is not None
    camera.state = "gone"
    assert capture.step() is None and capture.status.state is CameraState.LOST
    assert capture.step() is None and camera.opens == 1  # waits out the retry interval
    clock.advance(1.0)
    capture.step()
    assert capture.status.state is CameraState.RECONNECTING
    camera.state = "ok"
    clock.advance(1.0)
    assert capture.step() is not None
    assert [s.state for s in statuses] == [
        CameraState.LIVE,
        CameraState.LOST,
        CameraState.RECONNECTING,
        CameraState.LIVE,
    ]
    assert "unplugged" in statuses[1].message


def test_busy_camera_says_so_and_opens_when_freed(clock, tmp_path):
    node = tmp_path / "video0"
    node.touch()
    camera = FakeCamera("busy")
    capture = Capture(CameraSource(str(node), opener=camera), clock=clock)
    capture.step()
    assert capture.status.state is CameraState.BUSY
    assert "another program" in capture.status.message
    camera.state = "ok"
    clock.advance(1.0)
    assert capture.step() is not None and capture.status.state is CameraState.LIVE


def test_missing_camera_with_real_opencv(clock, tmp_path):
    capture = Capture(CameraSource(str(tmp_path / "no-such-video")), clock=clock)
    capture.step()
    assert capture.status.state is CameraState.MISSING
    assert capture.status.message_ja


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="device index check is Linux-only")
def test_missing_camera_index(clock):
    with pytest.raises(SourceUnavailable) as info:
        CameraSource(97).open()
    assert not info.value.busy


def test_bad_paths_are_unavailable(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(SourceUnavailable):
        VideoFileSource(tmp_path / "missing.avi").open()
    with pytest.raises(SourceUnavailable):
        VideoFileSource(tmp_path / "notes.txt").open()
    with pytest.raises(SourceUnavailable):
        ImageFolderSource(tmp_path).open()


def test_threaded_pipeline_reports_a_scan_and_ends(rng):
    text = ennichi_text(rng)
    frames = [make_frame(text, "clean", rng=rng) for _ in range(3)]
    done = threading.Event()
    scans = []

    def on_scan(scan):
        scans.append(scan)
        done.set()

    pipeline = ScanPipeline(MemorySource(frames * 10, paced=True), _decoder(), on_scan=on_scan)
    pipeline.start()
    assert done.wait(10)
    assert pipeline.wait(10)
    pipeline.stop()
    assert scans[0].text == text and scans[0].reported_at >= scans[0].captured_at
    assert pipeline.status.state is CameraState.ENDED


def _decoder():
    from scanner.decoders import make_decoder

    return make_decoder()
