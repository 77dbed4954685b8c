"""Amount and name fields of the dashboard's forms: the one parser, refusals in the page's language."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from web_harness import Live, add_product, sign_in

from server.db import tables as t
from server.testing import Seeder

pytestmark = pytest.mark.browser


def _products(live: Live, stall: int) -> dict[str, int]:
    with live.db.read() as conn:
        rows = conn.execute(select(t.products.c.name, t.products.c.price).where(t.products.c.stall_id == stall))
        return {r.name: r.price for r in rows}


def test_product_prices_and_names(page, live: Live, seed: Seeder) -> None:
    stall = seed.stall("Amounts bar")
    sign_in(page)
    page.context.add_cookies([{"name": "lang", "value": "ja", "url": live.url}])
    page.goto("/admin/stalls")

    add_product(page, stall, "Tea", "4,80")  # JPY, ja_JP marks: refused as ambiguous, never 480
    assert page.locator(".error-page").count() == 1
    assert "あいまい" in page.inner_text(".error-page")
    add_product(page, stall, "Tea", "1.5")  # yen have no decimals
    assert "小数がありません" in page.inner_text(".error-page")
    page.goto("/admin/stalls")
    add_product(page, stall, "   ", "100")
    assert "空白だけの名前" in page.inner_text(".error-page")
    assert _products(live, stall) == {}

    page.context.add_cookies([{"name": "lang", "value": "en", "url": live.url}])
    page.goto("/admin/stalls")
    add_product(page, stall, "Takoyaki", "¥1,200")
    page.wait_for_url("**?done=saved")
    add_product(page, stall, "Ramune", "１５０円")
    page.wait_for_url("**?done=saved")
    assert _products(live, stall) == {"Takoyaki": 1200, "Ramune": 150}

    row = page.locator("tr[data-product=Takoyaki] form.product-form")
    assert row.locator("input[name=price]").input_value() == "1200"  # the same form the parser reads
    row.locator("input[name=name]").fill(" \t ")
    row.locator("button").click()
    page.wait_for_load_state()
    assert "blank or only spaces" in page.inner_text(".error-page")
    assert _products(live, stall) == {"Takoyaki": 1200, "Ramune": 150}

    page.goto("/admin/stalls")
    row = page.locator("tr[data-product=Takoyaki] form.product-form")
    row.locator("input[name=stock]").fill("99999999999")
    row.locator("button").click()
    page.wait_for_load_state()
    assert "out of range" in page.inner_text(".error-page")


def test_staff_csv_upload_all_or_nothing(page, live: Live, seed: Seeder, tmp_path) -> None:
    stall = seed.stall("Import tent")
    sign_in(page)
    page.context.add_cookies([{"name": "lang", "value": "ja", "url": live.url}])
    bad = tmp_path / "bad.csv"
    bad.write_text("name,role,scope,pin\nSora,cashier,Import tent,2468\n  ,cashier,,\nRiku,wizard,,\n",
                   encoding="utf-8")
    page.goto("/admin/staff")
    page.locator("#staff-import").evaluate("f => f.closest('details').open = true")
    page.set_input_files("#staff-import input[type=file]", str(bad))
    page.click("#staff-import button")
    page.wait_for_load_state()
    lines = page.inner_text("#error-lines")
    assert "3行目: 名前がありません" in lines and "4行目: 不明な役割「wizard」" in lines
    with live.db.read() as conn:
        assert conn.execute(select(t.staff.c.id).where(t.staff.c.name == "Sora")).first() is None

    good = tmp_path / "good.csv"
    good.write_text(f"name,role,scope,pin\nSora,cashier,stall:{stall},2468\nRiku,,,\n", encoding="utf-8")
    page.goto("/admin/staff")
    page.locator("#staff-import").evaluate("f => f.closest('details').open = true")
    page.set_input_files("#staff-import input[type=file]", str(good))
    with page.expect_download() as download:
        page.click("#staff-import button")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert "Sora" in text and "Riku" in text and ",yes" in text  # Riku's PIN was generated
    with live.db.read() as conn:
        names = {r.name for r in conn.execute(select(t.staff.c.name))}
    assert {"Sora", "Riku"} <= names
