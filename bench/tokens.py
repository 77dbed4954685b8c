"""Token codec rates: sign, verify, encode and decode per second.

    .venv/bin/python bench/tokens.py [--seconds 1.0]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sync.keys import IssuerKey, KeySet
from sync.tokens import WalletToken, decode_token, encode_token


def rate(fn: Callable[[], object], seconds: float) -> tuple[float, float]:
    """Run ``fn`` repeatedly for about ``seconds``; return (ops/s, µs/op)."""
    n, start = 0, time.perf_counter()
    while True:
        for _ in range(100):
            fn()
        n += 100
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed, elapsed / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    issuer = IssuerKey.generate(1)
    keys = KeySet([issuer])
    now = int(time.time())
    token = WalletToken(123456789, 5000, 42, now, now + 600, 3000)
    text = encode_token(token, issuer)
    body = b"x" * 33
    sig = issuer.sign(body)
    cases: list[tuple[str, Callable[[], object]]] = [
        ("sign (Ed25519, 33 bytes)", lambda: issuer.sign(body)),
        ("verify (Ed25519)", lambda: keys.verify(1, sig, body)),
        ("encode wallet token (sign + base45)", lambda: encode_token(token, issuer)),
        ("decode wallet token (base45 + verify)", lambda: decode_token(text, keys, now=now)),
    ]
    print(f"{'operation':42} {'ops/s':>10} {'µs/op':>8}")
    for name, fn in cases:
        ops, us = rate(fn, args.seconds)
        print(f"{name:42} {ops:10,.0f} {us:8.1f}")
    print(f"wallet token: {len(text)} characters of QR text")


if __name__ == "__main__":
    main()
