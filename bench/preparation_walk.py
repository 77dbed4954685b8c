"""The organiser's walk, scripted in real Chromium: from an empty event to a prepared festival, in Japanese.

    .venv/bin/python bench/preparation_walk.py [--people 1000] [--stalls 40] [--tickets 5000] [--shots]

Starts where ``ennichi server init`` leaves an event (the one command line),
serves it with uvicorn on loopback and drives the dashboard through
Playwright with clicks and typing only: sign in; event settings; N stalls
with three products each (one form each); two staff per stall from a staff
CSV; a gate and a ticket type; a class list of people (wallets, My page,
letters); tickets from a CSV that names the type and uses local times; card
wallets for visitors.  Prints the seconds of each step and the total; with
``--shots`` saves screenshots as docs/screenshots/walk-*.png.

Not counted: the organiser's own typing and reading (a person needs
minutes for what a script does in seconds), printing, and enrolling the
laptops (each one scans its code on the terminal).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
T0_MS = 1_785_200_400_000  # 2026-07-28 10:00 Asia/Tokyo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--stalls", type=int, default=40)
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--cards", type=int, default=200)
    parser.add_argument("--shots", action="store_true")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from server.api.app import create_app
    from server.bootstrap import init_event
    from server.db.engine import Database
    from server.settings import ServerSettings
    from server.testing import MovableClock, loopback_socket, serve_in_thread
    from server.web import include_web

    timings: list[tuple[str, float]] = []

    def step(name: str, fn, *a):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        result = fn(*a)
        timings.append((name, time.perf_counter() - start))
        print(f"{name:<58} {timings[-1][1]:7.1f} s", flush=True)
        return result

    with tempfile.TemporaryDirectory() as tmp:
        sock = loopback_socket()
        settings = ServerSettings.load(data_dir=Path(tmp), env={}, port=sock.getsockname()[1])
        clock = MovableClock(T0_MS)
        db = Database(settings.url, synchronous=settings.sqlite_synchronous)
        init_event(settings, now_ms=clock(), admin_login="admin", admin_password="walk-admin-password",
                   admin_pin="2468", db=db)
        app = create_app(settings, clock=clock, db=db, web=False)
        include_web(app, secret=b"walk-secret-0123456789abcdef")
        url, stop = serve_in_thread(app, sock=sock)
        exe = os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE", "/usr/bin/chromium")
        work = Path(tmp)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=exe, args=["--headless=new", "--no-sandbox"])
                context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 900}, locale="ja-JP")
                context.set_default_timeout(120_000)
                page = context.new_page()

                def shot(name: str) -> None:
                    if args.shots:
                        page.screenshot(path=str(SHOTS / f"walk-{name}.png"), full_page=False)

                def sign_in() -> None:
                    page.goto("/admin/signin")
                    page.fill("input[name=login]", "admin")
                    page.fill("input[name=password]", "walk-admin-password")
                    page.click("button[type=submit]")
                    page.wait_for_url("**/admin")

                def event_settings() -> None:
                    page.click("nav.main a[data-nav=event]")
                    page.fill("#f-event_name", "みなと高校 文化祭 2026")
                    page.fill("#f-floor_limit", "１，５００")
                    page.fill("#f-offline_limit", "3000円")
                    page.fill("#f-staff_idle_logout_s", "10")
                    page.click("#event-save")
                    page.wait_for_url("**done=saved")
                    shot("1-event")

                def stalls() -> None:
                    for i in range(args.stalls):
                        page.goto("/admin/stalls")
                        page.click("details:has(#stall-create) > summary")  # the form folds away on the page
                        page.fill("#stall-create input[name=name]", f"{i + 1}組 模擬店")
                        page.click("#stall-create button")
                        page.wait_for_url("**done=saved")

                def products() -> None:
                    page.goto("/admin/stalls")
                    actions = [page.locator("form[action$='/products']").nth(i).get_attribute("action")
                               for i in range(page.locator("form[action$='/products']").count())]
                    for action in actions:
                        for name, price in (("焼きそば", "400"), ("ラムネ", "150"), ("チュロス", "300")):
                            form = page.locator(f"form[action='{action}']")
                            form.locator("input[name=name]").fill(name)
                            form.locator("input[name=price]").fill(price)
                            form.locator("button").click()
                            page.wait_for_url("**done=saved")
                    shot("2-stalls")

                def staff() -> None:
                    csv = "name,role,scope,pin\n" + "".join(
                        f"係{i + 1}-{k},cashier,{i + 1}組 模擬店,\n" for i in range(args.stalls) for k in (1, 2))
                    path = work / "staff.csv"
                    path.write_text(csv, encoding="utf-8")
                    page.goto("/admin/staff")
                    page.click("details:has(#staff-import) > summary")
                    page.set_input_files("#staff-import input[type=file]", str(path))
                    with page.expect_download():
                        page.click("#staff-import button")

                def gate_and_type() -> None:
                    page.goto("/admin/tickets")
                    page.fill("#gate-create input[name=name]", "正門")
                    page.click("#gate-create button")
                    page.wait_for_url("**done=saved")
                    page.fill("#type-create input[name=name]", "一般")
                    page.select_option("#type-create select[name=policy]", "reentry")
                    page.click("#type-create button")
                    page.wait_for_url("**done=saved")

                def people() -> None:
                    rows = "".join(f"生徒{i + 1:04d},{i // 40 + 1}年{i % 8 + 1}組,,生徒\n" for i in range(args.people))
                    path = work / "class.csv"
                    path.write_bytes(("氏名,組,メール,区分\n" + rows).encode("cp932"))
                    page.goto("/admin/wallets")
                    page.set_input_files("#people-import input[type=file]", str(path))
                    page.click("#people-import-submit")
                    page.wait_for_selector("#letters-done")
                    assert page.locator("article.letter").count() == args.people
                    shot("3-letters")

                def tickets() -> None:
                    line = "一般,来場者{n},2026/07/29 9:00,2026/07/29 17:00\n"
                    rows = "".join(line.format(n=i + 1) for i in range(args.tickets))
                    path = work / "tickets.csv"
                    path.write_text("種類,名前,開始,終了\n" + rows, encoding="utf-8")
                    page.goto("/admin/tickets")
                    page.set_input_files("#import-form input[name=file]", str(path))
                    page.click("#import-form button")
                    page.wait_for_url("**/admin/tickets/print?batch=*")
                    shot("4-tickets")

                def cards() -> None:
                    page.goto("/admin/wallets")
                    page.fill("#cards-form input[name=count]", str(args.cards))
                    page.fill("#cards-form input[name=class_name]", "当日受付")
                    page.click("#cards-create")
                    page.wait_for_url("**/admin/wallets/cards?batch=*")
                    shot("5-cards")

                step("sign in", sign_in)
                step("event settings (name, limits, idle logout)", event_settings)
                step(f"{args.stalls} stalls, one form each", stalls)
                step(f"{args.stalls * 3} products, one form each", products)
                step(f"{args.stalls * 2} staff from a CSV (PINs made and hashed)", staff)
                step("a gate and a ticket type", gate_and_type)
                step(f"{args.people} people from a class list, with letters", people)
                step(f"{args.tickets} tickets from a CSV (type by name, local times)", tickets)
                step(f"{args.cards} card wallets and their sheet", cards)
                browser.close()
        finally:
            stop()
            db.dispose()
    print(f"{'total':<58} {sum(s for _, s in timings):7.1f} s")


if __name__ == "__main__":
    main()
