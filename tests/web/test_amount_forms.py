"""Amount and name fields of the dashboard's forms: the one parser, refusals in the page's language."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from web_harness import Live, sign_in

from server.db import tables as t
from server.testing import Seeder

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def seed(live: Live):
    seeder = Seeder(live.settings, clock=live.clock)
    yield seeder
    seeder.close()


def _products(live: Live, stall: int) -> dict[str, int]:
    with live.db.read() as conn:
        rows = conn.execute(select(t.products.c.name, t.products.c.price).where(t.products.c.stall_id == stall))
        return {r.name: r.price for r in rows}


def _add(page, stall: int, name: str, price: str) -> None:
    page.goto("/admin/stalls")
    form = page.locator(f"form[action='/admin/stalls/{stall}/products']")
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=price]").fill(price)
    form.locator("button").click()
    page.wait_for_load_state()


def test_product_prices_and_names(page, live: Live, seed: Seeder) -> None:
    stall = seed.stall("Amounts bar")
    sign_in(page)
    page.context.add_cookies([{"name": "lang", "value": "ja", "url": live.url}])
    page.goto("/admin/stalls")

    _add(page, stall, "Tea", "4,80")  # JPY, ja_JP marks: refused as ambiguous, never 480
    assert page.locator(".error-page").count() == 1
    assert "あいまい" in page.inner_text(".error-page")
    _add(page, stall, "Tea", "1.5")  # yen have no decimals
    assert "小数がありません" in page.inner_text(".error-page")
    page.goto("/admin/stalls")
    _add(page, stall, "   ", "100")
    assert "空白だけの名前" in page.inner_text(".error-page")
    assert _products(live, stall) == {}

    page.context.add_cookies([{"name": "lang", "value": "en", "url": live.url}])
    page.goto("/admin/stalls")
    _add(page, stall, "Takoyaki", "¥1,200")
    page.wait_for_url("**?done=saved")
    _add(page, stall, "Ramune", "１５０円")
    page.wait_for_url("**?done=saved")
    assert _products(live, stall) == {"Takoyaki": 1200, "Ramune": 150}

    row = page.locator("tr[data-product=Takoyaki] form.product-form")
    assert row.locator("input[name=price]").input_value() == "1200"  # the same form the parser reads
    row.locator("input[name=name]").fill(" \t ")
    row.locator("button").click()
    page.wait_for_load_state()
    assert "blank or only spaces" in page.inner_text(".error-page")
    assert _products(live, stall) == {"Takoyaki": 1200, "Ramune": 150}
