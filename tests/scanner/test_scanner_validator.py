"""The validator's rules: stable, alone, not repeated within the cooldown unless it left."""

from __future__ import annotations

from scanner.validator import ScanValidator


def feed_all(validator, frames, *, fps=10.0, t0=0.0):
    """Feed a list of per-frame code lists at ``fps``; return (time, text) for each scan."""
    out = []
    for i, texts in enumerate(frames):
        t = t0 + i / fps
        text = validator.feed(texts, t)
        if text is not None:
            out.append((round(t, 2), text))
    return out


def test_needs_two_stable_frames():
    assert feed_all(ScanValidator(), [["A"], [], [], [], [], [], []]) == []
    assert feed_all(ScanValidator(), [["A"], ["A"]]) == [(0.1, "A")]


def test_a_missed_frame_does_not_break_the_streak():
    assert feed_all(ScanValidator(), [["A"], [], ["A"]]) == [(0.2, "A")]


def test_two_codes_in_view_give_nothing():
    assert feed_all(ScanValidator(), [["A", "B"]] * 10) == []


def test_held_code_repeats_only_after_the_cooldown():
    scans = feed_all(ScanValidator(cooldown=3.0), [["A"]] * 45)
    assert scans == [(0.1, "A"), (3.1, "A")]


def test_held_code_reported_once_without_cooldown():
    assert len(feed_all(ScanValidator(cooldown=None), [["A"]] * 100)) == 1


def test_left_and_back_within_cooldown_is_a_new_scan():
    frames = [["A"]] * 5 + [[]] * 5 + [["A"]] * 5
    assert [t for t, _ in feed_all(ScanValidator(cooldown=10.0), frames)] == [0.1, 1.1]


def test_a_short_dropout_is_not_leaving():
    frames = [["A"]] * 5 + [[]] * 2 + [["A"]] * 5
    assert len(feed_all(ScanValidator(cooldown=10.0), frames)) == 1


def test_switching_codes_scans_each():
    frames = [["A"]] * 3 + [["B"]] * 3
    assert [text for _, text in feed_all(ScanValidator(), frames)] == ["A", "B"]


def test_reset_forgets():
    validator = ScanValidator(cooldown=None)
    feed_all(validator, [["A"]] * 3)
    validator.reset()
    assert feed_all(validator, [["A"]] * 3, t0=1.0) == [(1.1, "A")]
