"""A refused form on the dashboard says why in the reader's language (``server.said.Said``), in Chromium.

The same wrong inputs, once in Japanese and once in English: a cup deposit given a stock count, and
priced at zero (both refused by ``server.web.actions.update_product``). The page answers 422 with the
sentence in that language, and nothing changes.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from web_harness import Live, sign_in

from server.db import tables as t
from server.testing import Seeder

WORDS = {
    "ja": ("保証金の商品には在庫数を設定できません", "保証金の商品は0より大きい価格が必要です"),
    "en": ("a deposit product is not counted in stock", "a deposit product needs a price above zero"),
}


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_refused_forms_say_why_in_the_readers_language(page, live: Live, seed: Seeder, lang: str) -> None:
    stall = seed.stall(f"Bar {lang}")
    cup = seed.product(stall, "Cup カップ", 100, kind="deposit")
    sign_in(page)
    page.context.add_cookies([{"name": "lang", "value": lang, "url": live.url}])
    page.goto("/admin/stalls")
    row = page.locator(f"#stall-{stall} tr[data-product='Cup カップ'] form.product-form")
    row.locator("input[name=stock]").fill("5")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        row.locator("button").click()
    assert answer.value.status == 422
    text = page.inner_text(".error-page")
    assert WORDS[lang][0] in text and (WORDS["en"][0] in text) is (lang == "en")
    page.goto("/admin/stalls")
    row = page.locator(f"#stall-{stall} tr[data-product='Cup カップ'] form.product-form")
    row.locator("input[name=price]").fill("0")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        row.locator("button").click()
    assert answer.value.status == 422
    assert WORDS[lang][1] in page.inner_text(".error-page")
    with seed.db.read() as conn:
        name = conn.execute(select(t.stalls.c.name).where(t.stalls.c.id == stall)).scalar_one()
        cup_row = conn.execute(select(t.products.c.price, t.products.c.stock).where(t.products.c.id == cup)).one()
    assert (name, tuple(cup_row)) == (f"Bar {lang}", (100, None))  # refused: nothing changed
