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
    assert [(line["text"], line["decoder"]) for line in lines[:-1]] == [(t, "pyzbar") for t in texts]
    assert lines[-1]["summary"]["frames"] == 3


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
