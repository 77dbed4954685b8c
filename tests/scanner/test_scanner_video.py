"""A generated video with codes entering and leaving the view yields the scans a person expects."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from scanner.cli import main
from scanner.corpus import ennichi_text, make_frame, make_negative_frame
from scanner.pipeline import ScanPipeline
from scanner.sources import VideoFileSource
from scanner.validator import ScanValidator

FPS = 15


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    """Write an MJPG video: empty, code A, empty, A again, empty, A and B together, B alone, empty."""
    rng = np.random.default_rng(7)
    a = ennichi_text(rng, prefix="EW1:")
    b = ennichi_text(rng, prefix="ET1:")
    empty = [make_negative_frame("scene", rng=rng) for _ in range(2)]
    with_a = [make_frame(a, "clean", rng=rng) for _ in range(3)]
    with_b = [make_frame(b, "rotation", rng=rng) for _ in range(3)]
    # Two phones side by side, both inside the centre square the cascade looks at first.
    both = []
    for _ in range(3):
        frame = empty[0].copy()
        frame[60:420, 80:560] = np.hstack(
            [make_frame(a, "clean", rng=rng, size=(240, 360)), make_frame(b, "clean", rng=rng, size=(240, 360))]
        )
        both.append(frame)
    # (frames, seconds): the code is held for a second, taken away for a second, shown again.
    script = [
        (empty, 1.0),
        (with_a, 1.0),
        (empty, 1.0),
        (with_a, 1.0),
        (empty, 1.0),
        (both, 1.0),
        (with_b, 1.0),
        (empty, 0.5),
    ]
    path = tmp_path_factory.mktemp("video") / "stall.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (640, 480))
    assert writer.isOpened()
    for frames, seconds in script:
        for i in range(int(seconds * FPS)):
            writer.write(frames[i % len(frames)])
    writer.release()
    return path, a, b


def test_video_yields_one_scan_per_presentation(video, default_cascade):
    path, a, b = video
    with_both = cv2.VideoCapture(str(path))
    with_both.set(cv2.CAP_PROP_POS_FRAMES, int(5.5 * FPS))
    ok, frame = with_both.read()
    with_both.release()
    assert ok and {d.text for d in default_cascade.decode(frame).detections} == {a, b}
    source = VideoFileSource(path)
    scans = []
    pipeline = ScanPipeline(
        source, default_cascade, ScanValidator(cooldown=3.0), on_scan=scans.append, timestamps=source.position
    )
    while not pipeline.capture.finished:
        pipeline.step()
    # A shown, taken away, shown again: two scans.  A and B together: nothing.  B alone: one scan.
    assert [s.text for s in scans] == [a, a, b]
    assert [round(s.captured_at) for s in scans] == [1, 3, 6]


def test_held_code_is_not_repeated_within_the_cooldown(video, default_cascade):
    path, a, _b = video
    source = VideoFileSource(path)
    pipeline = ScanPipeline(source, default_cascade, ScanValidator(leave_after=5.0), timestamps=source.position)
    texts = []
    while not pipeline.capture.finished:
        scan = pipeline.step()
        if scan is not None:
            texts.append(scan.text)
    # With "left the view" set to five seconds, the second showing of A is within the cooldown.
    assert texts.count(a) == 1


def test_cli_prints_scans_and_summary(video, capsys):
    path, a, b = video
    assert main([str(path)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["scan"] for line in lines[:-1]] == [a, a, b]
    assert all(line["decoder"] == "zxing-cpp" and line["ms"] >= 0 for line in lines[:-1])
    summary = lines[-1]["summary"]
    assert summary["frames"] == int(7.5 * FPS)
    assert summary["scans"] == 3
