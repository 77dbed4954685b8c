"""``ennichi scan``: decode QR codes from image files, folders, video files or a camera.

Images (a file, or every image in a folder) are decoded one by one, each on
its own: one JSON line per image with the texts read there (an empty list for
an image without a code, an error for a file that is not an image).  Video
files and cameras go through the scan pipeline (the cascade as a stream, the
two-frame validator with the video's own time stamps): one line per scan, or
every frame's reads with ``--every-frame``.  Then one summary line.  Decode
times are ``time.perf_counter`` around one cascade call on one thread, as in
bench/scanner.py.  Exit status: 0 when it ran, 1 when a path or camera cannot
be used or no decoder loads, 2 for bad arguments (argparse).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, TextIO

import numpy as np

from scanner.capture import Frame
from scanner.cascade import CASCADES, DEFAULT_CASCADE, CascadeResult, make_cascade
from scanner.decoders import DECODER_NAMES, make_decoder
from scanner.errors import ScannerError, SourceLost, SourceUnavailable
from scanner.pipeline import Scan, ScanPipeline
from scanner.sources import CameraSource, FrameSource, ImageFolderSource, open_path
from scanner.status import CameraStatus
from scanner.validator import ScanValidator

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ennichi scan", description="Decode QR codes from image or video files, or a camera."
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="image file, folder of images, or video file")
    parser.add_argument("--camera", metavar="N", help="live diagnostic on camera N (index or device path)")
    parser.add_argument(
        "--duration", type=float, default=10.0, metavar="S", help="seconds to run --camera (default 10)"
    )
    parser.add_argument("--decoder", choices=("auto", *DECODER_NAMES), default="auto")
    parser.add_argument("--cascade", choices=tuple(CASCADES), default=DEFAULT_CASCADE)
    parser.add_argument(
        "--every-frame", action="store_true", help="video/camera: print every frame's detections, not just scans"
    )
    return parser


class _Report:
    """Collects figures and prints JSON lines."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.frames = 0
        self.detections = 0
        self.scans = 0
        self.images = 0
        self.decoded_images = 0
        self.unreadable = 0
        self.streams = 0  # video files and cameras run (scans are counted only for those)
        self.times: list[float] = []

    def line(self, payload: dict[str, Any]) -> None:
        print(json.dumps(payload, ensure_ascii=False), file=self.out, flush=True)

    def summary(self) -> None:
        times = sorted(self.times)

        def pct(p: float) -> float | None:
            return round(times[min(len(times) - 1, int(p * len(times)))], 2) if times else None

        summary: dict[str, Any] = {"frames": self.frames, "detections": self.detections}
        if self.images or self.unreadable:
            summary.update(images=self.images, decoded=self.decoded_images, unreadable=self.unreadable)
        if self.streams:
            summary["scans"] = self.scans
        summary.update(p50_ms=pct(0.5), p95_ms=pct(0.95))
        self.line({"summary": summary})


def _run_images(source: ImageFolderSource, args: argparse.Namespace, report: _Report) -> None:
    """Decode every image of a file or folder on its own (no validator, no memory between images) and report."""
    cascade = make_cascade(make_decoder(args.decoder), args.cascade)
    source.open()  # raises SourceUnavailable for a bad path or a folder without images, before any output
    cascade.decode(np.zeros((64, 64), dtype=np.uint8))  # warm the library up, so the first file's ms is fair
    try:
        while True:
            try:
                image = source.read()
            except SourceLost as exc:
                report.unreadable += 1
                report.line({"source": str(source.current), "error": str(exc)})
                continue
            if image is None:
                break
            started = time.perf_counter()
            result = cascade.decode(image)
            ms = (time.perf_counter() - started) * 1000.0
            texts = [d.text for d in result.detections]
            report.frames += 1
            report.images += 1
            report.decoded_images += bool(texts)
            report.detections += len(texts)
            report.times.append(ms)
            report.line(
                {
                    "source": str(source.current),
                    "texts": texts,
                    "decoder": result.detections[0].decoder if result.detections else None,
                    "step": result.step or None,
                    "ms": round(ms, 2),
                }
            )
    finally:
        source.close()


def _run_source(source: FrameSource, args: argparse.Namespace, report: _Report, *, deadline: float | None) -> None:
    """Decode every frame of a video file (step by step, one thread) or a camera (threads) and report."""
    if isinstance(source, ImageFolderSource):
        _run_images(source, args, report)
        return
    cascade = make_cascade(make_decoder(args.decoder), args.cascade)
    report.streams += 1

    def on_frame(frame: Frame, result: CascadeResult, ms: float) -> None:
        report.frames += 1
        report.times.append(ms)
        report.detections += len(result.detections)
        if args.every_frame:
            for det in result.detections:
                report.line(
                    {
                        "source": source.name,
                        "frame": frame.index,
                        "text": det.text,
                        "decoder": det.decoder,
                        "ms": round(ms, 2),
                    }
                )

    def on_scan(scan: Scan) -> None:
        report.scans += 1
        report.line(
            {
                "source": source.name,
                "scan": scan.text,
                "decoder": scan.decoder,
                "ms": round(scan.decode_ms, 2),
                "at": round(scan.captured_at, 3),
            }
        )

    def on_status(status: CameraStatus) -> None:
        print(f"{source.name}: {status.state.value}: {status.message} {status.detail}".rstrip(), file=sys.stderr)

    if deadline is None:
        source.open()  # raises SourceUnavailable for a bad path, before any output
        source.close()
        pipeline = ScanPipeline(
            source, cascade, ScanValidator(), on_scan=on_scan, on_frame=on_frame, timestamps=source.position
        )
        while not pipeline.capture.finished:
            pipeline.step()
        return
    pipeline = ScanPipeline(source, cascade, ScanValidator(), on_scan=on_scan, on_frame=on_frame, on_status=on_status)
    pipeline.start()
    try:
        while time.monotonic() < deadline and not pipeline.capture.finished:
            time.sleep(0.05)
    finally:
        pipeline.stop()


def main(argv: list[str]) -> int:
    """Run ``ennichi scan`` with ``argv`` (the arguments after ``scan``); return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.paths and args.camera is None:
        parser.error("give at least one PATH, or --camera N")
    if args.duration <= 0:
        parser.error("--duration must be positive")
    report = _Report(sys.stdout)
    status = 0
    try:
        make_decoder(args.decoder)
        for path in args.paths:
            try:
                _run_source(open_path(path), args, report, deadline=None)
            except SourceUnavailable as exc:
                print(f"ennichi scan: {exc}", file=sys.stderr)
                status = 1
        if args.camera is not None:
            device: int | str = int(args.camera) if args.camera.isdigit() else args.camera
            camera = CameraSource(device)
            try:
                camera.open()
            except SourceUnavailable as exc:
                print(f"ennichi scan: {exc}", file=sys.stderr)
                return 1
            camera.close()
            _run_source(camera, args, report, deadline=time.monotonic() + args.duration)
    except ScannerError as exc:
        print(f"ennichi scan: {exc}", file=sys.stderr)
        return 1
    report.summary()
    return status
