"""Listing webcams by name from a sysfs tree (the kernel's view; nothing is opened)."""

from __future__ import annotations

from pathlib import Path

from scanner.sources import CameraInfo, list_cameras


def _node(root: Path, name: str, *, label: str | None, index: str | None) -> None:
    node = root / name
    node.mkdir(parents=True)
    if label is not None:
        (node / "name").write_text(label + "\n")
    if index is not None:
        (node / "index").write_text(index + "\n")


def test_capture_nodes_are_listed_by_number_with_their_names(tmp_path: Path) -> None:
    _node(tmp_path, "video2", label="USB Camera", index="0")
    _node(tmp_path, "video0", label="Integrated Webcam: HD", index="0")
    _node(tmp_path, "video1", label="Integrated Webcam: HD", index="1")  # the metadata node: not a camera
    _node(tmp_path, "video3", label=None, index=None)  # an old driver without the attributes
    _node(tmp_path, "vbi0", label="teletext", index="0")  # not a video node
    _node(tmp_path, "video²", label="odd", index="0")  # not an ASCII number
    assert list_cameras(tmp_path) == [CameraInfo(0, "Integrated Webcam: HD"), CameraInfo(2, "USB Camera"),
                                      CameraInfo(3, "video3")]


def test_no_sysfs_lists_nothing(tmp_path: Path) -> None:
    assert list_cameras(tmp_path / "missing") == []
