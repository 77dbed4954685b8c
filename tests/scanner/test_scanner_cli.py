"""``ennichi scan`` on image files: JSON lines, summary, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import pytest

from scanner.cli import main
from scanner.corpus import ennichi_text, make_frame, make_negative_frame


def test_folder_of_images(tmp_path, capsys, rng):
    texts = [ennichi_text(rng) for _ in range(2)]
    for i, text in enumerate(texts):
        cv2.imwrite(str(tmp_path / f"{i}.png"), make_frame(text, "clean", rng=rng))
    cv2.imwrite(str(tmp_path / "9-empty.jpg"), make_negative_frame("scene", rng=rng))
    assert main([str(tmp_path), "--decoder", "pyzbar"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    # One line per image, each decoded on its own: no two-frame validator between files.
    assert [(line["texts"], line["decoder"]) for line in lines[:-1]] == [([t], "pyzbar") for t in texts] + [([], None)]
    assert [line["source"].rsplit("/", 1)[-1] for line in lines[:-1]] == ["0.png", "1.png", "9-empty.jpg"]
    summary = lines[-1]["summary"]
    assert summary["frames"] == summary["images"] == 3
    assert summary["decoded"] == 2 and summary["detections"] == 2
    assert "scans" not in summary  # images are not scans


def test_folder_of_unrelated_images_is_reported_per_file(tmp_path, capsys, rng):
    for kind in ("scene", "checker", "dark"):
        cv2.imwrite(str(tmp_path / f"{kind}.jpg"), make_negative_frame(kind, rng=rng))
    (tmp_path / "notes.png").write_bytes(b"not an image at all")
    assert main([str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    lines = [json.loads(line) for line in out]
    by_file = {line["source"].rsplit("/", 1)[-1]: line for line in lines[:-1]}
    assert set(by_file) == {"scene.jpg", "checker.jpg", "dark.jpg", "notes.png"}
    assert all(by_file[f]["texts"] == [] for f in ("scene.jpg", "checker.jpg", "dark.jpg"))
    assert "not a readable image" in by_file["notes.png"]["error"]
    summary = lines[-1]["summary"]
    assert (summary["images"], summary["decoded"], summary["unreadable"]) == (3, 0, 1)


def test_single_hard_image_uses_the_fallbacks(tmp_path, capsys):
    """An image that one plain zxing-cpp call cannot read, but a fallback around the symbol it saw can."""
    frame, text = _hard_frame()
    cv2.imwrite(str(tmp_path / "hard.png"), frame)
    assert main([str(tmp_path / "hard.png")]) == 0
    line = json.loads(capsys.readouterr().out.splitlines()[0])
    assert line["texts"] == [text] and line["step"] not in (None, "whole frame")


def _hard_frame():
    """A seeded moire frame (the same as in test_scanner_cascade.py) that one plain call cannot read."""
    import numpy as np

    from scanner.cascade import make_cascade
    from scanner.decoders import make_decoder

    rng = np.random.default_rng(45)
    text = ennichi_text(rng)
    frame = make_frame(text, "moire", rng=rng)
    assert make_cascade(make_decoder("zxing-cpp"), "plain").decode(frame).detections == ()
    return frame, text


def test_bad_path_is_a_clear_error(tmp_path, capsys):
    assert main([str(tmp_path / "nope.avi")]) == 1
    assert "no such video file" in capsys.readouterr().err


def test_bad_flags_exit_2(capsys):
    for argv in (["--frobnicate"], [], ["x.png", "--decoder", "quagga"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2


def test_missing_camera_is_a_clear_error(tmp_path, capsys):
    assert main(["--camera", str(tmp_path / "video9"), "--duration", "0.1"]) == 1
    assert "no device" in capsys.readouterr().err


def test_import_scanner_leaves_qt_out():
    code = (
        "import sys, scanner, scanner.pipeline, scanner.cli, scanner.wedge, scanner.manual; "
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'terminal', 'server', 'ui'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
