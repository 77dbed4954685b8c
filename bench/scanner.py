"""Scanner benchmark: decode rate per distortion bucket and per-frame time, per decoder and cascade.

    .venv/bin/python bench/scanner.py [--per-bucket 20] [--seed 1] [--latency-runs 20]

Generates a seeded corpus at 640x480 and 1280x720 (scanner.corpus), runs each
decoder through each cascade preset, and prints one table row per
(size, decoder, cascade): reads per bucket, false reads on negative frames,
p50/p95 milliseconds per frame.  Then measures scan-to-text latency through
the real threaded pipeline with a camera-paced source at 30 fps: from the
moment the first frame showing the code is captured to the moment on_scan
is called.  Figures go into docs/scanner.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name
# would hide the scanner package; put the repository root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import numpy as np  # noqa: E402

from scanner.cascade import CASCADES, DEFAULT_CASCADE, make_cascade  # noqa: E402
from scanner.corpus import DISTORTIONS, ennichi_text, make_corpus, make_frame, make_negative_frame  # noqa: E402
from scanner.decoders import available_decoders, make_decoder  # noqa: E402
from scanner.pipeline import Scan, ScanPipeline  # noqa: E402
from scanner.sources import MemorySource  # noqa: E402
from scanner.validator import ScanValidator  # noqa: E402

SIZES = ((640, 480), (1280, 720))
# OpenCV's detector is slow; compare it on the two cascades that tell most.
SLOW_DECODER_CASCADES = {"opencv": ("gray", DEFAULT_CASCADE)}


def pct(values: list[float], p: float) -> float:
    """Return the p-th percentile (0-100) of values."""
    return float(np.percentile(values, p)) if values else float("nan")


def decode_table(per_bucket: int, seed: int) -> None:
    """Print decode rates and per-frame times for every size, decoder and cascade."""
    buckets = [*DISTORTIONS, "negative"]
    header = "size      decoder    cascade              " + " ".join(f"{b[:8]:>8}" for b in buckets)
    for size in SIZES:
        started = time.perf_counter()
        corpus = make_corpus(seed=seed, per_bucket=per_bucket, size=size)
        print(f"\n# {size[0]}x{size[1]}: {len(corpus)} frames generated in {time.perf_counter() - started:.1f} s")
        print(header + "   p50 ms   p95 ms")
        for name in available_decoders():
            decoder = make_decoder(name)
            for cascade_name in SLOW_DECODER_CASCADES.get(name, tuple(CASCADES)):
                cascade = make_cascade(decoder, cascade_name)
                reads = dict.fromkeys(buckets, 0)
                totals = dict.fromkeys(buckets, 0)
                times = []
                for sample in corpus:
                    t0 = time.perf_counter()
                    result = cascade.decode(sample.image)
                    times.append((time.perf_counter() - t0) * 1000)
                    texts = [d.text for d in result.detections]
                    bucket = "negative" if sample.text is None else sample.bucket
                    totals[bucket] += 1
                    if sample.text is None:
                        reads[bucket] += bool(texts)  # a false read
                    else:
                        reads[bucket] += texts == [sample.text]
                cells = " ".join(f"{reads[b]:>3}/{totals[b]:<4}" for b in buckets)
                print(
                    f"{size[0]}x{size[1]:<4} {name:<10} {cascade_name:<20} {cells} "
                    f"{pct(times, 50):8.2f} {pct(times, 95):8.2f}"
                )


class _MarkedSource(MemorySource):
    """A paced source that notes when the first frame showing the code was served."""

    def __init__(self, frames: list[np.ndarray], first_code: int) -> None:
        super().__init__(frames, paced=True, fps=30.0)
        self.first_code = first_code
        self.served = 0
        self.code_shown_at: float | None = None

    def read(self) -> np.ndarray | None:
        frame = super().read()
        if self.served == self.first_code:
            self.code_shown_at = time.monotonic()
        self.served += 1
        return frame


def latency(runs: int, seed: int, size: tuple[int, int]) -> None:
    """Print scan-to-text latency through the threaded pipeline (camera paced at 30 fps)."""
    rng = np.random.default_rng(seed + 1)
    empty = [make_negative_frame("scene", rng=rng, size=size) for _ in range(3)]
    shown_to_scan: list[float] = []
    frame_to_scan: list[float] = []
    for _ in range(runs):
        text = ennichi_text(rng)
        code = [make_frame(text, "clean", rng=rng, size=size) for _ in range(3)]
        frames = empty * 2 + code * 5
        source = _MarkedSource(frames, first_code=len(empty) * 2)
        done = threading.Event()
        scans: list[Scan] = []

        def on_scan(scan: Scan, scans: list[Scan] = scans, done: threading.Event = done) -> None:
            scans.append(scan)
            done.set()

        pipeline = ScanPipeline(source, make_cascade(make_decoder()), ScanValidator(), on_scan=on_scan)
        pipeline.start()
        done.wait(5)
        pipeline.stop()
        if scans and source.code_shown_at is not None:
            shown_to_scan.append((scans[0].reported_at - source.code_shown_at) * 1000)
            frame_to_scan.append((scans[0].reported_at - scans[0].captured_at) * 1000)
    print(f"\n# scan-to-text at {size[0]}x{size[1]}, 30 fps, default cascade, {len(shown_to_scan)}/{runs} runs scanned")
    if shown_to_scan:
        print(
            f"code first in view -> scan: p50 {statistics.median(shown_to_scan):.1f} ms, "
            f"p95 {pct(shown_to_scan, 95):.1f} ms (includes the second frame the validator waits for)"
        )
        print(
            f"scanning frame captured -> scan: p50 {statistics.median(frame_to_scan):.1f} ms, "
            f"p95 {pct(frame_to_scan, 95):.1f} ms"
        )


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-bucket", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latency-runs", type=int, default=20)
    args = parser.parse_args()
    print(f"decoders available: {', '.join(available_decoders())}; default cascade: {DEFAULT_CASCADE}")
    decode_table(args.per_bucket, args.seed)
    for size in SIZES:
        latency(args.latency_runs, args.seed, size)


if __name__ == "__main__":
    main()
