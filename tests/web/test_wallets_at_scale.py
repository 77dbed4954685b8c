"""Wallets at the scale of a school, in real Chromium: N card wallets and their sheet, a class list made into
wallets with My page letters (all or nothing, errors per line in the page's language), the one-time link,
the template, partial search."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from web_harness import Live, shoot, sign_in

from server.db import tables as t
from server.issuer import issuer_key_rows
from server.web.tables import customers, people
from sync.ids import format_short_id
from sync.keys import KeySet, public_key_from_b64
from sync.tokens import WalletFlags, WalletToken, decode_token

pytestmark = pytest.mark.browser


def _decode(locator) -> str:
    import cv2
    import numpy as np

    from scanner.decoders import make_decoder

    image = cv2.imdecode(np.frombuffer(locator.screenshot(), np.uint8), cv2.IMREAD_GRAYSCALE)
    texts = [d.text for d in make_decoder("auto").decode(image)]
    assert len(texts) == 1, texts
    return texts[0]


def _keys(live: Live) -> KeySet:
    with live.db.read() as conn:
        rows = issuer_key_rows(conn)
    return KeySet({r.key_id: public_key_from_b64(r.public_key) for r in rows})


def _count(live: Live, table) -> int:
    with live.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _lang(page, live: Live, lang: str) -> None:
    page.context.add_cookies([{"name": "lang", "value": lang, "url": live.url}])


def test_many_card_wallets_and_their_sheet(page, live: Live) -> None:
    sign_in(page)
    _lang(page, live, "ja")
    before = _count(live, people)
    for bad in ("0", "1001", "十", "-3"):
        page.goto("/admin/wallets")
        page.fill("#cards-form input[name=count]", bad)
        page.click("#cards-create")
        page.wait_for_load_state()
        assert "1〜1,000の整数" in page.inner_text(".error-page")
    assert _count(live, people) == before

    _lang(page, live, "en")
    page.goto("/admin/wallets")
    page.fill("#cards-form input[name=count]", "25")
    page.fill("#cards-form input[name=class_name]", "Gate desk")
    page.click("#cards-create")
    page.wait_for_url("**/admin/wallets/cards?batch=*")
    assert page.locator(".cut-card").count() == 25
    assert page.locator("section.a4").count() == 3  # 10 per A4 sheet
    assert page.locator(".cut-card").first.locator(".cm").count() == 4  # a cut mark at each corner
    assert "25 cards on 3 A4 sheets" in page.inner_text(".actions")
    code = page.locator(".cut-card .shortid").first.inner_text()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]", code)
    # the printed QR is the wallet's signed card token, as the project's scanner reads it
    text = _decode(page.locator(".cut-card .qr").first)
    token = decode_token(text, _keys(live), now=live.clock() // 1000, expect=WalletToken)
    assert format_short_id(token.wallet_id) == code and token.flags & WalletFlags.PRINTED_CARD
    shoot(page, "wallet-cards")
    page.emulate_media(media="print")
    box = page.locator(".cut-card").first.bounding_box()
    assert box and abs(box["width"] - 85.6 / 25.4 * 96) < 3 and abs(box["height"] - 54 / 25.4 * 96) < 3  # real size
    page.emulate_media(media="screen")
    assert _count(live, people) == before + 25


CSV_BAD = "名前,クラス,メール,区分\n山田 花子,2年3組,hanako@example.jp,生徒\n,2年3組,,\n佐藤,2年3組,sato@,魔法使い\n"


def test_class_list_all_or_nothing_letters_and_first_pin(page, browser, live: Live, tmp_path: Path) -> None:
    sign_in(page)
    _lang(page, live, "ja")
    before_people, before_customers = _count(live, people), _count(live, customers)
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV_BAD, encoding="utf-8")
    page.goto("/admin/wallets")
    page.set_input_files("#people-import input[type=file]", str(bad))
    page.click("#people-import-submit")
    page.wait_for_load_state()
    lines = page.inner_text("#error-lines")
    assert "3行目：名前がありません" in lines
    assert "4行目：「sato@」はメールアドレスではありません、不明な区分「魔法使い」" in lines
    assert "何も登録していません" in page.inner_text(".error-page")
    assert (_count(live, people), _count(live, customers)) == (before_people, before_customers)

    good = tmp_path / "class.csv"  # as Excel saves a Japanese CSV: Shift_JIS
    rows = "".join(f"生徒{i:02d},2年3組,,生徒\n" for i in range(1, 31))
    good.write_bytes(("氏名,組,メール,区分\n" + rows + "保護者 太郎,,taro@example.jp,来場者\n").encode("cp932"))
    page.goto("/admin/wallets")
    page.set_input_files("#people-import input[type=file]", str(good))
    page.click("#people-import-submit")
    page.wait_for_selector("#letters-done")
    assert page.locator("article.letter").count() == 31
    assert "31通の案内状" in page.inner_text("#letters-done")
    first = page.locator("article.letter").first
    assert "生徒01" in first.inner_text() and "2年3組" in first.inner_text()
    link = first.locator(".link").inner_text().strip()
    batch = page.get_attribute(".actions a[href*='batch=']", "href").split("batch=")[1]
    assert _decode(first.locator(".letter-qr")) == link  # the letter's QR (a fixed mask) reads as its link
    code = first.locator(".shortid").inner_text().strip()
    shoot(page, "people-letters", full_page=False)
    with live.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(t.staff_roles).where(
            t.staff_roles.c.role == "student")).scalar_one() >= 30  # students may invite guests

    second_link = page.locator("article.letter").nth(1).locator(".link").inner_text().strip()
    phone = browser.new_context(base_url=live.url, viewport={"width": 390, "height": 844}, locale="ja-JP")
    try:
        my = phone.new_page()
        my.goto(link)
        shoot(my, "my-link-phone")
        my.fill("input[name=pin]", "4826")
        my.fill("input[name=pin2]", "4827")
        my.click("#link-submit")
        assert "一致しません" in my.inner_text("#my-error")
        my.fill("input[name=pin]", "4826")
        my.fill("input[name=pin2]", "4826")
        my.click("#link-submit")
        my.wait_for_url("**/my")
        assert my.locator(".qr-img svg").count() == 1
        my.goto(link)  # once only
        assert my.locator("#link-invalid").count() == 1
        my.context.clear_cookies()
        my.goto("/my/signin")
        my.fill("input[name=code]", code)
        my.fill("input[name=pin]", "4826")
        my.click("button.primary")
        my.wait_for_url("**/my")
    finally:
        phone.close()

    # letters again: new links for those who have not chosen a PIN; the first person is done
    page.goto("/admin/wallets")
    page.once("dialog", lambda d: d.accept())
    page.locator(f"#batches tr[data-batch='{batch}'] button").click()
    page.wait_for_selector("#letters-done")
    assert page.locator("article.letter").count() == 30
    assert page.locator("article.letter").first.locator(".link").inner_text().strip() != second_link
    page.goto(second_link)  # the reprint replaced it
    assert page.locator("#link-invalid").count() == 1


def test_template_and_partial_search(page, live: Live) -> None:
    sign_in(page)
    _lang(page, live, "ja")
    page.goto("/admin/wallets")
    with page.expect_download() as download:
        page.click("#people-template")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "名前,クラス,メール,区分"

    page.fill("#wallet-search input[name=q]", "生徒1")  # part of a name
    page.click("#wallet-search button")
    page.wait_for_load_state()
    names = page.locator("#wallet-list tbody tr td:nth-child(2)").all_inner_texts()
    assert names and all("生徒1" in n for n in names) and len(names) == 10  # 生徒10..生徒19
    page.fill("#wallet-search input[name=q]", "2年3")  # part of a class
    page.click("#wallet-search button")
    page.wait_for_load_state()
    assert page.locator("#wallet-list tbody tr").count() == 30
    code = page.locator("#wallet-list .shortid").first.inner_text()
    page.fill("#wallet-search input[name=q]", code[2:7])  # a part of a code, dash and all
    page.click("#wallet-search button")
    page.wait_for_load_state()
    assert code in page.locator("#wallet-list").inner_text()
    page.set_viewport_size({"width": 390, "height": 844})
    shoot(page, "wallets-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
