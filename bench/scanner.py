"""Scanner benchmark: the default decoding path beside one plain zxing-cpp call and one plain pyzbar call.

    .venv/bin/python bench/scanner.py [--per-bucket 20] [--negatives 60] [--per-motion 8] [--seed 1]
                                      [--repeats 3] [--fallbacks] [--instructions]

For 640x480 and 1280x720 it generates a seeded corpus (scanner.corpus: codes
anywhere in the view and partly out of it, inverted, 2-3 px modules, motion and
defocus blur, glare, moire, a finger, rolling shutter, JPEG, noise, ...) and
prints, in one run, on one thread, with one clock (time.perf_counter):

* per bucket, how many frames each path reads exactly (text equal to the
  code's), wrong texts, and reads on frames without a code;
* per-frame p50/p95 milliseconds (each frame timed ``--repeats`` times, the
  fastest kept, so another process on the machine does not decide the tail),
  the cost of an idle frame (median over the empty frames an idle terminal
  sees: a desk scene, a dark tent) and of a busy empty frame (median over the
  code-like empty frames: checkerboard, stripes, a covered code, a lit screen),
  and of an idle *camera* (those idle frames decoded as one stream, where a path
  may spread work over frames: ms per frame and the ratio to the plain call in
  the same pass, median and quartiles over at least 30 interleaved passes);
  ``--instructions`` adds the idle camera's instructions per frame counted by
  valgrind's callgrind, which no other load on the machine changes;
* for short seeded clips (a code brought into view, held, moved or shaken):
  the time from the code's first frame to the scan, simulating a 30 fps
  camera whose newest frame the decoder takes when it is free, through the
  real ScanValidator;
* scan-to-text latency through the real threaded pipeline with a source paced
  at 30 fps (``--latency-runs``; ``--latency-only`` for just that).

``--fallbacks`` adds what each fallback alone recovers on the frames the plain
call misses (the measurement behind the default fallback order).  Figures go
into docs/scanner.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path and its name
# would hide the scanner package; put the repository root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from scanner.cascade import FALLBACKS, PRESET_BUDGET, Attempt, Cascade, make_cascade  # noqa: E402
from scanner.corpus import (  # noqa: E402
    DISTORTIONS,
    SampleFrame,
    SampleSequence,
    ennichi_text,
    make_corpus,
    make_frame,
    make_negative_frame,
    make_sequences,
)
from scanner.decoders import make_decoder  # noqa: E402
from scanner.pipeline import Scan, ScanPipeline  # noqa: E402
from scanner.sources import MemorySource  # noqa: E402
from scanner.validator import ScanValidator  # noqa: E402

SIZES = ((640, 480), (1280, 720))
IDLE = ("negative:scene", "negative:dark")  # what an idle terminal's camera sees
Image = Any
Decode = Callable[[Image], list[str]]


def pct(values: list[float], p: float) -> float:
    """Return the p-th percentile (0-100) of values."""
    return float(np.percentile(values, p)) if values else float("nan")


def _gray(frame: Image) -> Image:
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame


def plain_zxing() -> Callable[[], Decode]:
    """One ``zxingcpp.read_barcodes(gray, formats=QRCode)`` call, zxing-cpp's defaults: the reference."""
    import zxingcpp

    def decode(frame: Image) -> list[str]:
        found = zxingcpp.read_barcodes(_gray(frame), formats=zxingcpp.BarcodeFormat.QRCode)
        return list(dict.fromkeys(str(code.text) for code in found if code.valid))

    return lambda: decode


def plain_pyzbar() -> Callable[[], Decode]:
    """One ``pyzbar.decode(gray, symbols=[QRCODE])`` call."""
    from pyzbar import pyzbar

    def decode(frame: Image) -> list[str]:
        found = pyzbar.decode(_gray(frame), symbols=[pyzbar.ZBarSymbol.QRCODE])
        return list(dict.fromkeys(bytes(code.data).decode("utf-8", errors="replace") for code in found))

    return lambda: decode


def cascade_path(cascade: Cascade) -> Callable[[], Decode]:
    """The cascade as a stream (one per clip); for single frames the stream starts empty, so it is stateless."""

    def fresh() -> Decode:
        stream = cascade.stream()
        return lambda frame: [d.text for d in stream.decode(frame).detections]

    return fresh


def paths() -> dict[str, Callable[[], Decode]]:
    """Return the paths to compare, by name; the first is the project's default."""
    zxing = make_decoder("zxing-cpp")
    found: dict[str, Callable[[], Decode]] = {
        "default": cascade_path(make_cascade(make_decoder("auto"))),
        "zxing-cpp plain": plain_zxing(),
    }
    try:
        found["pyzbar plain"] = plain_pyzbar()
    except ImportError as exc:  # libzbar missing: say so, compare the rest
        print(f"(pyzbar not available: {exc})")
    found["default without texture guesses"] = cascade_path(make_cascade(zxing, "located"))
    found["old centre-crop cascade"] = cascade_path(make_cascade(zxing, "centre"))
    return found


def frame_table(
    size: tuple[int, int], corpus: list[SampleFrame], decoders: dict[str, Callable[[], Decode]], repeats: int
) -> dict[str, dict[str, float]]:
    """Print reads per bucket, wrong texts, false reads and timing for every path; return the figures."""
    buckets = [b for b in DISTORTIONS if any(s.bucket == b for s in corpus)]
    totals = {b: sum(1 for s in corpus if s.bucket == b) for b in buckets}
    negatives = [s for s in corpus if s.text is None]
    coded = [s for s in corpus if s.text is not None]
    figures: dict[str, dict[str, float]] = {}
    camera = idle_streams(negatives, decoders, repeats, seed=size[0])
    print(f"\n### {size[0]}x{size[1]}: {len(coded)} frames with a code, {len(negatives)} without\n")
    print(
        "| path | "
        + " | ".join(b.replace("_", " ") for b in buckets)
        + " | all | wrong | empty-frame reads | p50 ms | p95 ms | idle ms | idle camera ms | idle camera vs plain"
        + " | busy empty ms |"
    )
    print("|---|" + "---:|" * (len(buckets) + 9))
    for name, fresh in decoders.items():
        reads = dict.fromkeys(buckets, 0)
        wrong = false = 0
        times: list[float] = []
        idle: list[float] = []
        busy: list[float] = []
        for sample in corpus:
            best = float("inf")
            texts: list[str] = []
            for _ in range(repeats):
                decode = fresh()
                started = time.perf_counter()
                texts = decode(sample.image)
                best = min(best, (time.perf_counter() - started) * 1000)
            times.append(best)
            if sample.text is None:
                (idle if sample.bucket in IDLE else busy).append(best)
                false += bool(texts)
                continue
            reads[sample.bucket] += texts == [sample.text]
            wrong += any(t != sample.text for t in texts)
        total = sum(reads.values())
        stream_idle, low, ratio, high = camera[name]
        figures[name] = {
            "all": 100.0 * total / len(coded),
            "p95": pct(times, 95),
            "idle": pct(idle, 50),
            "stream idle": stream_idle,
            "stream idle ratio": ratio,
            "stream idle q25": low,
            "stream idle q75": high,
            "reads": float(total),
            "coded": float(len(coded)),
            **{b: float(reads[b]) for b in buckets},
        }
        cells = " | ".join(f"{reads[b]}/{totals[b]}" for b in buckets)
        print(
            f"| {name} | {cells} | {total}/{len(coded)} ({100.0 * total / len(coded):.1f} %) | {wrong} | {false} | "
            f"{pct(times, 50):.2f} | {pct(times, 95):.2f} | {pct(idle, 50):.2f} | {stream_idle:.3f} | "
            f"{ratio:.3f}x | {pct(busy, 50):.2f} |"
        )
    return figures


IdleCamera = dict[str, tuple[float, float, float, float]]  # path -> (ms per frame, ratio to plain: q25, median, q75)


def idle_streams(
    negatives: list[SampleFrame], decoders: dict[str, Callable[[], Decode]], repeats: int, *, seed: int = 0
) -> IdleCamera:
    """Return, per path, what an idle camera costs per frame: the desk and dark-tent frames as one stream.

    A stream decodes consecutive frames, so a path may spread work over them (the default's
    texture gate looks at one idle frame in eight); a pass's total, not a frame's fastest
    time, counts that.  Each path runs the whole stream in its turn (taking turns frame by
    frame would hand each path the caches another path just filled), in a shuffled order
    each pass, at least 30 passes; each pass's time is divided by plain zxing-cpp's time in
    the same pass, so the machine's drift cancels out of the ratio.  Measured: two copies of
    the plain call give a median ratio of 0.998-1.005 this way; the fastest time per frame
    (the earlier method) gave 0.98-1.18 for the same identical work.
    """
    import random

    frames = [s.image for s in negatives if s.bucket in IDLE] * 4
    if not frames:
        return {name: (float("nan"),) * 4 for name in decoders}
    order = list(decoders)
    shuffle = random.Random(seed)
    per_frame: dict[str, list[float]] = {name: [] for name in order}
    for _ in range(max(10 * repeats, 30)):
        shuffle.shuffle(order)
        for name in order:
            warm = decoders[name]()
            for frame in frames[:8]:  # untimed: the caches the previous path left are this path's again
                warm(frame)
            decode = decoders[name]()
            started = time.perf_counter()
            for frame in frames:
                decode(frame)
            per_frame[name].append((time.perf_counter() - started) * 1000 / len(frames))
    plain = per_frame.get("zxing-cpp plain")
    result: IdleCamera = {}
    for name, times in per_frame.items():
        ratios = [t / p for t, p in zip(times, plain, strict=True)] if plain else [float("nan")]
        q25, q50, q75 = (float(q) for q in np.percentile(ratios, [25, 50, 75]))
        result[name] = (float(np.median(times)), q25, q50, q75)
    return result


COUNTED = ("none", "zxing-cpp plain", "default")  # what --instructions runs under callgrind ("none": setup only)


def count_idle(frames_file: str, name: str) -> None:
    """Decode the saved idle frames as one stream, twice, with the path ``name`` (run under callgrind)."""
    cv2.setNumThreads(1)  # OpenCV's worker threads would add their own, varying, instructions
    frames = list(np.load(frames_file))
    decoders = paths()
    if name == "none":
        return
    decode = decoders[name]()
    for _ in range(2):
        for frame in frames:
            decode(frame)


def idle_instructions(negatives: list[SampleFrame]) -> dict[str, float] | None:
    """Return instructions per idle-camera frame per path in ``COUNTED``, counted by callgrind; None without valgrind.

    Instruction counts are the same run after run whatever else the machine does, so they settle
    what a noisy clock cannot: how much the default path adds to the plain call on an idle camera.
    They leave out what the clock sees of cache misses, so they are a floor, not the whole cost.
    """
    import os
    import shutil
    import subprocess
    import tempfile

    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("(valgrind is not installed: no instruction counts)")
        return None
    frames = [s.image for s in negatives if s.bucket in IDLE] * 2
    env = {**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    counts: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        saved = str(Path(tmp) / "idle.npy")
        np.save(saved, np.stack(frames))
        runs = {}
        for i, name in enumerate(COUNTED):
            out = Path(tmp) / f"callgrind.{i}"
            command = [valgrind, "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, __file__]
            runs[name] = (
                out,
                subprocess.Popen(
                    [*command, "--count-idle", saved, name],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                ),
            )
        for name, (out, process) in runs.items():
            if process.wait(timeout=1800) != 0 or not out.exists():
                print(f"(callgrind run for {name!r} failed: no instruction counts)")
                return None
            summary = next(line for line in out.read_text().splitlines() if line.startswith("summary:"))
            counts[name] = float(summary.split()[1])
    return {name: (counts[name] - counts["none"]) / (2 * len(frames)) for name in COUNTED[1:]}


def simulate(clip: SampleSequence, decode: Decode) -> tuple[float | None, bool]:
    """Return seconds from the code's first frame to the scan (None: none), and whether a wrong text scanned.

    A 30 fps camera: frame i is captured at i/fps.  The decoder takes the newest frame
    when it is free and is busy for the measured decode time; the scan is reported
    when the decode of the frame that completes it ends.
    """
    validator = ScanValidator()
    now = 0.0
    index = 0
    shown = clip.first_code_frame / clip.fps
    last = len(clip.frames) - 1
    while index <= last:
        captured = index / clip.fps
        now = max(now, captured)
        started = time.perf_counter()
        texts = decode(clip.frames[index])
        now += time.perf_counter() - started
        text = validator.feed(texts, captured)
        if text is not None:
            return (now - shown, False) if text == clip.text else (None, True)
        index = max(index + 1, min(last + 1, int(now * clip.fps)))
    return None, False


def sequence_table(clips: list[SampleSequence], decoders: dict[str, Callable[[], Decode]]) -> None:
    """Print, per path, how many clips scanned and the time from the code's first frame to the scan."""
    motions = list(dict.fromkeys(c.motion for c in clips))
    print(
        f"\nclips: {len(clips)} ({', '.join(motions)}), {len(clips[0].frames)} frames at {clips[0].fps:.0f} fps, "
        f"code from frame {clips[0].first_code_frame}\n"
    )
    print(
        "| path | "
        + " | ".join(f"{m} scanned" for m in motions)
        + " | scanned within 1 s | p50 ms | p95 ms | wrong scans |"
    )
    print("|---|" + "---:|" * (len(motions) + 4))
    for name, fresh in decoders.items():
        per_motion = dict.fromkeys(motions, 0)
        delays: list[float] = []
        wrong = 0
        for clip in clips:
            delay, mistaken = simulate(clip, fresh())
            wrong += mistaken
            if delay is None:
                continue
            per_motion[clip.motion] += 1
            delays.append(delay * 1000)
        within = sum(1 for d in delays if d <= 1000)
        # p95 over every clip: a clip never scanned counts as slower than any scan
        everything = delays + [float("inf")] * (len(clips) - len(delays))
        p95 = float(np.percentile(everything, 95, method="higher"))
        cells = " | ".join(f"{per_motion[m]}/{sum(1 for c in clips if c.motion == m)}" for m in motions)
        p95_text = f"{p95:.0f}" if p95 != float("inf") else "> clip"
        print(f"| {name} | {cells} | {within}/{len(clips)} | {pct(delays, 50):.0f} | {p95_text} | {wrong} |")


def fallback_table(corpus: list[SampleFrame]) -> None:
    """Print what each fallback alone recovers (whole-frame misses, on regions zxing saw) and what it costs."""
    decoder = make_decoder("zxing-cpp")
    plain = Cascade(decoder, (Attempt(),))
    missed = [s for s in corpus if s.text and [d.text for d in plain.decode(s.image).detections] != [s.text]]
    print(
        f"\nfallbacks on the {len(missed)} coded frames the plain call misses "
        "(single frames, the default's regions: textured patches and located symbols):\n"
    )
    print("| fallback | recovered | buckets | p50 ms on those frames |")
    print("|---|---:|---|---:|")
    for name in FALLBACKS:
        cascade = Cascade(decoder, (Attempt(),), (name,), texture_gate=True, budget=PRESET_BUDGET)
        hits: list[str] = []
        times: list[float] = []
        for sample in missed:
            started = time.perf_counter()
            texts = [d.text for d in cascade.decode(sample.image).detections]
            times.append((time.perf_counter() - started) * 1000)
            if texts == [sample.text]:
                hits.append(sample.bucket)
        print(f"| {name} | {len(hits)} | {', '.join(sorted(set(hits)))} | {pct(times, 50):.2f} |")


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
    print(
        f"\n# scan-to-text at {size[0]}x{size[1]}, 30 fps, default path, threaded pipeline, "
        f"{len(shown_to_scan)}/{runs} runs scanned"
    )
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
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--per-bucket", type=int, default=20)
    parser.add_argument("--negatives", type=int, default=60)
    parser.add_argument("--per-motion", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fallbacks", action="store_true")
    parser.add_argument("--latency-runs", type=int, default=20)
    parser.add_argument("--latency-only", action="store_true", help="only the threaded scan-to-text latency")
    parser.add_argument(
        "--instructions", action="store_true", help="also count an idle camera's instructions under valgrind"
    )
    parser.add_argument("--count-idle", nargs=2, metavar=("FRAMES", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.count_idle:
        count_idle(*args.count_idle)
        return
    print(
        f"# bench/scanner.py --per-bucket {args.per_bucket} --negatives {args.negatives} "
        f"--per-motion {args.per_motion} --seed {args.seed} --repeats {args.repeats}"
    )
    print(
        f"machine: {platform.machine()}, {platform.processor() or '?'}, {_cpus()} CPUs, "
        f"Python {platform.python_version()}, OpenCV {cv2.__version__}"
    )
    if args.latency_only:
        for size in SIZES:
            latency(args.latency_runs, args.seed, size)
        return
    decoders = paths()
    summary: list[str] = []
    overall = [0.0, 0.0, 0.0]  # reads by the default, reads by plain zxing-cpp, frames with a code
    for size in SIZES:
        started = time.perf_counter()
        corpus = make_corpus(seed=args.seed, per_bucket=args.per_bucket, size=size, negatives=args.negatives)
        print(f"\n({size[0]}x{size[1]}: {len(corpus)} frames generated in {time.perf_counter() - started:.0f} s)")
        figures = frame_table(size, corpus, decoders, args.repeats)
        base, ours = figures["zxing-cpp plain"], figures["default"]
        behind = [b for b in DISTORTIONS if b in ours and ours[b] < base[b]]
        summary.append(
            f"{size[0]}x{size[1]}: default {ours['all']:.1f} % vs plain {base['all']:.1f} % "
            f"({ours['all'] - base['all']:+.1f} points); buckets behind plain: {', '.join(behind) or 'none'}; "
            f"p95 {ours['p95']:.2f} vs {base['p95']:.2f} ms ({ours['p95'] / base['p95']:.2f}x); "
            f"idle {ours['idle']:.2f} vs {base['idle']:.2f} ms ({ours['idle'] / base['idle']:.2f}x); "
            f"idle camera {ours['stream idle']:.3f} vs {base['stream idle']:.3f} ms "
            f"({ours['stream idle ratio']:.3f}x, quartiles {ours['stream idle q25']:.3f}-{ours['stream idle q75']:.3f})"
        )
        if args.instructions:
            counted = idle_instructions([s for s in corpus if s.text is None])
            if counted:
                ratio = counted["default"] / counted["zxing-cpp plain"]
                print(
                    f"\nidle camera at {size[0]}x{size[1]}, instructions per frame (callgrind): default "
                    f"{counted['default']:,.0f}, plain zxing-cpp {counted['zxing-cpp plain']:,.0f} ({ratio:.4f}x)"
                )
                summary[-1] += f"; idle camera instructions {ratio:.4f}x"
        overall[0] += ours["reads"]
        overall[1] += base["reads"]
        overall[2] += ours["coded"]
        if args.fallbacks:
            fallback_table(corpus)
        started = time.perf_counter()
        clips = make_sequences(seed=args.seed + 100, per_motion=args.per_motion, size=size)
        print(f"\n({size[0]}x{size[1]}: {len(clips)} clips generated in {time.perf_counter() - started:.0f} s)")
        sequence_table(clips, decoders)
    for size in SIZES:
        latency(args.latency_runs, args.seed, size)
    if overall[2]:
        ours_all, base_all = 100 * overall[0] / overall[2], 100 * overall[1] / overall[2]
        summary.append(
            f"both sizes: default {overall[0]:.0f}/{overall[2]:.0f} ({ours_all:.1f} %) vs plain "
            f"{overall[1]:.0f}/{overall[2]:.0f} ({base_all:.1f} %), {ours_all - base_all:+.1f} points"
        )
    print("\n" + "\n".join(summary))


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


if __name__ == "__main__":
    main()
