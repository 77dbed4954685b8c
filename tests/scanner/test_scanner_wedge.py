"""Keyboard-wedge sequences: bursts with and without Enter, US/JIS mix-ups, slow human typing."""

from __future__ import annotations

import pytest

from scanner.wedge import KeyboardWedge, clean_scan_text, repair_layout

TOKEN = "EW1:6BFOXN*M+L%:2$ABC-./ 9Z" * 5
US_ON_JIS = TOKEN.translate(str.maketrans({":": "+", "*": "(", "+": "~"}))
JIS_ON_US = TOKEN.translate(str.maketrans({":": "'", "*": '"', "+": ":"}))


def burst(wedge, text, t0, gap=0.004):
    """Type ``text`` as a scanner does; return (scans, released text, time after the last key)."""
    scans, released, t = [], "", t0
    for i, ch in enumerate(text):
        t = t0 + i * gap
        out = wedge.feed_key(ch, t)
        scans += out.scans
        released += out.release
    return scans, released, t


def slow(wedge, text, t0, gap=0.18):
    scans, released, t = [], "", t0
    for i, ch in enumerate(text):
        t = t0 + i * gap
        out = wedge.feed_key(ch, t)
        scans += out.scans
        released += out.release
        out = wedge.poll(t + gap / 2)
        scans += out.scans
        released += out.release
    return scans, released, t


def test_burst_ended_by_enter_is_a_scan_at_once():
    wedge = KeyboardWedge()
    scans, released, _ = burst(wedge, TOKEN + "\r", 10.0)
    assert [s.text for s in scans] == [TOKEN] and released == ""
    assert not wedge.holding


@pytest.mark.parametrize("end", ["\t", "\n"])
def test_burst_ended_by_tab_or_newline(end):
    scans, _, _ = burst(KeyboardWedge(), "ET1:ABCDEF" + end, 0.0)
    assert [s.text for s in scans] == ["ET1:ABCDEF"]


def test_burst_without_enter_ends_by_silence():
    wedge = KeyboardWedge(end_gap=0.1)
    scans, released, t = burst(wedge, TOKEN, 5.0)
    assert scans == [] and released == "" and wedge.holding
    assert wedge.poll(t + 0.05).scans == ()
    assert [s.text for s in wedge.poll(t + 0.11).scans] == [TOKEN]


@pytest.mark.parametrize(("garbled", "label"), [(US_ON_JIS, "us-on-jis"), (JIS_ON_US, "jis-on-us")])
def test_layout_mix_up_is_repaired(garbled, label):
    scans, _, _ = burst(KeyboardWedge(), garbled + "\r", 0.0)
    assert [(s.text, s.repaired, s.raw) for s in scans] == [(TOKEN, label, garbled)]


def test_caps_lock_is_repaired_and_percent_survives():
    assert repair_layout("ew1+abc%(~")[0] == "EW1:ABC%*+"


def test_other_text_passes_through_unrepaired():
    url = "https://fair.example/enroll?code=AB+CD'EF"
    scans, _, _ = burst(KeyboardWedge(), url + "\r", 0.0)
    assert [(s.text, s.repaired) for s in scans] == [(url, None)]


def test_control_characters_aim_id_and_eci_are_stripped():
    assert clean_scan_text("]Q1\\000026EW1:\x1dAB\x00C") == "EW1:ABC"
    scans, _, _ = burst(KeyboardWedge(), "]Q1EW1:ABC\x1dDEF\r", 0.0)
    assert [s.text for s in scans] == ["EW1:ABCDEF"]


def test_slow_typing_is_released_not_scanned():
    wedge = KeyboardWedge()
    scans, released, _ = slow(wedge, "tea x2\r", 0.0)
    assert scans == [] and released == "tea x2\r"


def test_scan_interleaved_with_a_person_typing():
    wedge = KeyboardWedge()
    s1, r1, t = slow(wedge, "abc", 0.0)
    s2, r2, t = burst(wedge, US_ON_JIS + "\r", t + 0.3)
    s3, r3, t = slow(wedge, "de", t + 0.4)
    s4, r4, t = burst(wedge, "ET1:XYZ123", t + 0.5)
    last = wedge.poll(t + 1.0)
    assert [s.text for s in s1 + s2 + s3 + s4 + list(last.scans)] == [TOKEN, "ET1:XYZ123"]
    assert r1 + r2 + r3 + r4 + last.release == "abcde"


def test_fast_human_rollover_is_not_a_scan():
    wedge = KeyboardWedge(min_length=6)
    scans, released, t = burst(wedge, "th", 0.0, gap=0.02)
    out = wedge.poll(t + 0.06)
    assert scans == [] and out.scans == () and released + out.release == "th"


def test_bad_configuration_is_refused():
    with pytest.raises(ValueError):
        KeyboardWedge(max_gap=0.2, end_gap=0.1)
