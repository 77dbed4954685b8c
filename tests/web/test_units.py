"""Unit tests of the web machinery: the catalog, signed sessions, CSRF, incremental totals, CSV."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.web.csvout import _cell
from server.web.i18n import ENTRIES, MESSAGES
from server.web.session import Session, SessionCodec

TEMPLATES = Path(__file__).resolve().parents[2] / "server" / "web" / "templates"
ROUTES = Path(__file__).resolve().parents[2] / "server" / "web"


def test_every_catalog_key_has_both_languages_once() -> None:
    keys = [k for k, *_ in ENTRIES]
    assert len(keys) == len(set(keys)), "duplicate catalog keys"
    for key, en, ja in ENTRIES:
        assert en.strip() and ja.strip(), key
        assert set(re.findall(r"{(\w+)}", en)) == set(re.findall(r"{(\w+)}", ja)), key


def test_every_key_used_in_templates_and_code_is_in_the_catalog() -> None:
    used: set[str] = set()
    for path in [*TEMPLATES.glob("*.html"), *ROUTES.rglob("*.py")]:
        text = path.read_text()
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""", text))
    assert used, "the scan found nothing"
    missing = sorted(k for k in used if k not in MESSAGES["en"])
    assert not missing


def test_session_cookie_round_trip_and_refusals() -> None:
    codec = SessionCodec(b"k" * 32)
    session = Session("admin", 42, 1000, 2000, "nonce", "fp")
    cookie = codec.dumps(session)
    assert codec.loads(cookie, now=1500) == session
    assert codec.loads(cookie, now=2000) is None  # expired
    assert SessionCodec(b"x" * 32).loads(cookie, now=1500) is None  # other key
    body, mac = cookie.split(".")
    tampered = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1] + "." + mac
    assert codec.loads(tampered, now=1500) is None
    for junk in ("", "abc", "a.b", "." * 3000, "%%%.%%%"):
        assert codec.loads(junk, now=1500) is None


def test_csrf_token_is_bound_to_the_session() -> None:
    codec = SessionCodec(b"k" * 32)
    one, two = Session("anon", 0, 0, 10, "n1"), Session("anon", 0, 0, 10, "n2")
    assert codec.check_csrf(one, codec.csrf_token(one))
    assert not codec.check_csrf(two, codec.csrf_token(one))
    assert not codec.check_csrf(one, "")
    assert not codec.check_csrf(None, codec.csrf_token(one))


@pytest.mark.parametrize(("value", "expected"), [("=1+1", "'=1+1"), ("+SUM", "'+SUM"), ("@x", "'@x"),
                                                 ("-x", "'-x"), (-5, -5), ("plain", "plain"), (None, "")])
def test_csv_cells_never_run_as_formulas(value: object, expected: object) -> None:
    assert _cell(value) == expected


def test_incremental_totals_equal_a_fresh_count(tmp_path: Path) -> None:
    from server.testing import Seeder, init_test_event
    from server.web import queries
    from server.web.live import LiveTotals

    now = [1_785_200_400_000]
    settings, _ = init_test_event(tmp_path, clock=lambda: now[0])
    seed = Seeder(settings, clock=lambda: now[0])
    try:
        stall = seed.stall("A")
        wallets = seed.wallets(5, balance=1000)
        live = LiveTotals()
        since = now[0] - 3_600_000
        from server.ledger import LedgerBatch
        from server.wallets import admin_adjust

        for step in range(4):
            with seed.db.write() as conn:
                batch = LedgerBatch(conn, lock=False, now_ms=now[0])
                batch.load([("stall_revenue", stall)] + [("wallet", w) for w in wallets])
                for w in wallets:
                    batch.post("sale", [(batch.account("wallet", w), -(10 + step)),
                                        (batch.account("stall_revenue", stall), 10 + step)])
                batch.flush()
                admin_adjust(conn, wallets[0], 5, lock=False, now_ms=now[0], note="x")
            with seed.db.read() as conn:
                day = live.read(conn, since_ms=since, gate_bucket_ms=900_000)
                fresh = queries.transaction_totals(conn, since_ms=since)
                takings = queries.stall_takings(conn, since_ms=since)
            assert {k: (day.counts[k], day.sums[k]) for k in day.counts} == fresh
            assert {(k, s, b): a for k, s, b, a in takings} == dict(day.takings)
            now[0] += 20 * 60_000
    finally:
        seed.close()


def test_whole_number_fields_refuse_in_the_page_language() -> None:
    from server.web.forms import optional_int
    from server.web.render import PageContext

    ja = PageContext(None, lang="ja", now_ms=0)  # type: ignore[arg-type]
    assert optional_int("１２", ja) == 12  # full-width digits
    with pytest.raises(ValueError, match="「12個」は整数ではありません"):
        optional_int("12個", ja)
    with pytest.raises(ValueError, match="範囲外"):
        optional_int("99999999999", ja)
    with pytest.raises(ValueError, match="out of range"):
        optional_int("99999999999")
