"""Preparing a school's people from the dashboard: a class list of N people imported over HTTP, N card wallets.

    .venv/bin/python bench/people_import.py [--people 1000] [--cards 1000] [--engine sqlite|postgres]

Serves the app with uvicorn on loopback, signs in as the admin, uploads a
class-list CSV (``POST /admin/wallets/import``: wallets, My page access,
student roles, one-time links, and the letters page with a QR per person),
then makes N card wallets (``POST /admin/wallets/cards``) and opens their
card sheet (200 cards per page).  Prints the seconds of each step.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from server.testing import fresh_postgres_database, init_test_event, serve_in_thread


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def run(n_people: int, n_cards: int, engine: str) -> None:
    from server.api.app import create_app
    from server.db.engine import Database
    from server.web import include_web

    drop = None
    with tempfile.TemporaryDirectory() as tmp:
        url = ""
        if engine == "postgres":
            url, drop = fresh_postgres_database(os.environ["ENNICHI_TEST_PG_URL"])
        settings, _ = init_test_event(Path(tmp), database_url=url)
        db = Database(settings.url, synchronous=settings.sqlite_synchronous)
        app = create_app(settings, db=db, web=False)
        include_web(app, secret=b"bench-secret-0123456789abcdef")
        base, stop = serve_in_thread(app)
        try:
            with httpx.Client(base_url=base, timeout=600) as client:
                token = _csrf(client.get("/admin/signin").text)
                assert client.post("/admin/signin", data={"login": "admin", "password": "admin-pass",
                                                          "csrf": token}).status_code == 303
                csv = "名前,クラス,メール,区分\n" + "".join(
                    f"生徒{i:04d},{i % 30 + 1}組,,生徒\n" for i in range(n_people))
                token = _csrf(client.get("/admin/wallets").text)
                start = time.perf_counter()
                resp = client.post("/admin/wallets/import", data={"csrf": token, "default_kind": "student"},
                                   files={"file": ("class.csv", csv.encode("utf-8"), "text/csv")})
                took = time.perf_counter() - start
                assert resp.status_code == 200 and resp.text.count('class="letter"') == n_people, resp.text[:300]
                print(f"{engine}: import {n_people} people with letters: {took:.2f} s "
                      f"({len(resp.content) / 1e6:.1f} MB page)")
                token = _csrf(client.get("/admin/wallets").text)
                start = time.perf_counter()
                resp = client.post("/admin/wallets/cards", data={"csrf": token, "count": str(n_cards)})
                made = time.perf_counter() - start
                assert resp.status_code == 303, resp.text[:300]
                start = time.perf_counter()
                sheet = client.get(resp.headers["location"])
                shown = time.perf_counter() - start
                assert sheet.status_code == 200
                cards = sheet.text.count('class="cut-card"')
                print(f"{engine}: make {n_cards} card wallets: {made:.2f} s; first card sheet page "
                      f"({cards} cards): {shown:.2f} s")
                start = time.perf_counter()
                found = client.get("/admin/wallets", params={"q": "生徒05"})
                print(f"{engine}: partial name search: {(time.perf_counter() - start) * 1000:.0f} ms")
                assert found.status_code == 200
        finally:
            stop()
            db.dispose()
            if drop:
                drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--cards", type=int, default=1000)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    run(args.people, args.cards, args.engine)


if __name__ == "__main__":
    main()
