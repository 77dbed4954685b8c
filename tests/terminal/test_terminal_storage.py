"""A failing disk on the terminal (issue 23): full, read-only, or its data folder gone.

The terminal's data directory lives on a small real filesystem (a 4 MB tmpfs, or a
loop-mounted 8 MB ext4 image, mounted for the test; root is needed for that, else
the tests skip saying so).
Each failure is a decline with reason ``storage_failed``, never a traceback;
nothing approved is lost; sales resume by themselves when the disk is back.
"""

from __future__ import annotations

import errno
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from terminal_helpers import Env, EventSettings, FakeClock, IssuerKey

from sync.schemas import StatementRow
from terminal.decisions import Cart, DeclineReason
from terminal.engine import Terminal

W = 0x12_3456_789A
R = DeclineReason


def _mount(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30, check=False)


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    point = tmp_path / "mnt"
    point.mkdir()
    done = _mount(["-t", "tmpfs", "-o", "size=4m", "tmpfs", str(point)])
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (root needed): {done.stderr.strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], capture_output=True, timeout=30, check=False)


@pytest.fixture
def env_fs(small_fs: Path) -> Iterator[Env]:
    e = Env(small_fs, FakeClock(), IssuerKey.generate(5),
            EventSettings(floor_limit=1000, offline_limit=10**9, unsynced_cap=10**12, max_offline_s=3600,
                          staff_idle_logout_s=86400))
    yield e
    if e.terminal is not None:
        e.terminal.close()


@pytest.fixture
def term(env_fs: Env) -> Terminal:
    t = env_fs.seed(statements=[StatementRow(wallet_id=W, balance=10**9, seq=1)])
    env_fs.login()
    return t


def _fill(where: Path) -> Path:
    """Write a file until the filesystem says it is full; returns it."""
    filler = where / "filler"
    with filler.open("wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def _approved_ids(term: Terminal) -> set[str]:
    return {r.id for r in term.recent(100_000) if r.kind == "sale"}


def test_a_full_disk_declines_with_a_reason_and_sales_resume_when_space_returns(
        env_fs: Env, term: Terminal, small_fs: Path) -> None:
    wallet = env_fs.wallet(W, 10**9, 1)
    approved: set[str] = set()
    first = term.sell(Cart.amount(100), wallet)
    assert first.approved and first.record_id
    approved.add(first.record_id)
    filler = _fill(small_fs)
    refused = None
    for _ in range(2000):  # SQLite reuses its WAL pages: sell until the disk really refuses
        decision = term.sell(Cart.amount(100), wallet)
        if not decision.approved:
            refused = decision
            break
        assert decision.record_id
        approved.add(decision.record_id)
    assert refused is not None, "the full disk never refused a sale"
    assert refused.reason is R.STORAGE_FAILED and "full" in str(refused.params["error"])
    assert term.sell(Cart.amount(100), wallet).reason is R.STORAGE_FAILED  # still full: still a clear decline
    filler.unlink()  # space returns
    again = term.sell(Cart.amount(100), wallet)
    assert again.approved and again.record_id
    approved.add(again.record_id)
    assert _approved_ids(term) == approved
    term.close()
    env_fs.terminal = None
    reopened = Terminal.open(small_fs / "t1")  # every approved sale survived, nothing else
    try:
        assert _approved_ids(reopened) == approved
        assert reopened.status().unsynced_count == len(approved)
    finally:
        reopened.close()


def test_a_vanished_data_folder_declines_and_sales_resume_when_it_is_back(
        env_fs: Env, term: Terminal, small_fs: Path) -> None:
    wallet = env_fs.wallet(W, 10**9, 1)
    assert term.sell(Cart.amount(100), wallet).approved
    data = small_fs / "t1"
    away = small_fs / "elsewhere"
    data.rename(away)  # e.g. the USB stick pulled, the folder deleted
    gone = term.sell(Cart.amount(100), wallet)
    assert not gone.approved and gone.reason is R.STORAGE_FAILED and "missing" in str(gone.params["error"])
    away.rename(data)
    back = term.sell(Cart.amount(100), wallet)
    assert back.approved
    assert len(_approved_ids(term)) == 2


@pytest.fixture
def ext4_fs(tmp_path: Path) -> Iterator[Path]:
    """A loop-mounted 8 MB ext4 image (it supports the immutable attribute, unlike tmpfs)."""
    image, point = tmp_path / "disk.img", tmp_path / "ext4"
    point.mkdir()
    with image.open("wb") as f:
        f.truncate(8 * 1024 * 1024)
    made = subprocess.run(["mkfs.ext4", "-q", str(image)], capture_output=True, text=True, timeout=60, check=False)
    if made.returncode != 0:
        pytest.skip(f"mkfs.ext4 is not available: {made.stderr.strip()}")
    done = _mount(["-o", "loop", str(image), str(point)])
    if done.returncode != 0:
        pytest.skip(f"cannot loop-mount an ext4 image here (root needed): {done.stderr.strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], capture_output=True, timeout=30, check=False)


def _immutable(files: list[Path], on: bool) -> None:
    flag = "+i" if on else "-i"
    subprocess.run(["chattr", flag, *map(str, files)], check=True, capture_output=True, timeout=30)


def test_a_read_only_disk_declines_and_sales_resume_when_it_is_writable(ext4_fs: Path) -> None:
    """Read-only as the kernel enforces it: the data files made immutable (a ro remount is refused while
    SQLite holds them open for writing, so the immutable attribute stands in for it)."""
    env = Env(ext4_fs, FakeClock(), IssuerKey.generate(5),
              EventSettings(floor_limit=1000, offline_limit=10**9, unsynced_cap=10**12, max_offline_s=3600,
                            staff_idle_logout_s=86400))
    term = env.seed(statements=[StatementRow(wallet_id=W, balance=10**9, seq=1)])
    env.login()
    wallet = env.wallet(W, 10**9, 1)
    try:
        assert term.sell(Cart.amount(100), wallet).approved
        # the database and its WAL; not the -shm index, which SQLite writes through a shared mapping
        files = [ext4_fs / "t1" / "terminal.db", ext4_fs / "t1" / "terminal.db-wal"]
        _immutable(files, True)
        try:
            ro = term.sell(Cart.amount(100), wallet)
            assert not ro.approved and ro.reason is R.STORAGE_FAILED, ro
        finally:
            _immutable(files, False)
        back = term.sell(Cart.amount(100), wallet)
        assert back.approved, back
        assert len(_approved_ids(term)) == 2
    finally:
        term.close()
