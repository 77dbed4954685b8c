"""A product's category and button colour: set on the dashboard in real Chromium, pulled by the stall's terminal."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from web_harness import Live, add_product, shoot, sign_in

from server.db import tables as t
from server.testing import Seeder

pytestmark = pytest.mark.browser


def _looks(live: Live, stall: int) -> dict[str, tuple[str, str | None]]:
    p = t.products
    with live.db.read() as conn:
        return {r.name: (r.category, r.colour) for r in conn.execute(
            select(p.c.name, p.c.category, p.c.colour).where(p.c.stall_id == stall))}


def test_categories_and_colours_from_the_dashboard_reach_the_terminal(page, live: Live, seed: Seeder) -> None:
    stall = seed.stall("Café カフェ")
    sign_in(page)
    page.context.add_cookies([{"name": "lang", "value": "ja", "url": live.url}])
    # spaces folded, as a list would show it
    add_product(page, stall, "Cola", "150", category="  Drinks   飲み物 ", colour="red")
    page.wait_for_url("**?done=saved")
    add_product(page, stall, "Yakisoba", "400", category="Food 食べ物", colour="")  # plain
    page.wait_for_url("**?done=saved")
    assert _looks(live, stall) == {"Cola": ("Drinks 飲み物", "red"), "Yakisoba": ("Food 食べ物", None)}
    # the new-product form offers the categories there are, and the colours by their Japanese names
    page.goto("/admin/stalls")
    options = page.locator(f"#categories-{stall} option")
    assert sorted(options.evaluate_all("els => els.map(e => e.value)")) == ["Drinks 飲み物", "Food 食べ物"]
    names = page.locator(f"form[action='/admin/stalls/{stall}/products'] select[name=colour] option").all_inner_texts()
    assert names[:3] == ["なし", "赤", "オレンジ"]
    assert page.locator("tr[data-product=Cola] span.swatch-red").count() == 1

    # change Yakisoba's colour and category in its row; Cola's row untouched keeps its own
    row = page.locator("tr[data-product=Yakisoba] form.product-form")
    row.locator("select[name=colour]").select_option("orange")
    row.locator("input[name=category]").fill("Hot food 温かい物")
    row.locator("button").click()
    page.wait_for_url("**?done=saved")
    assert _looks(live, stall)["Yakisoba"] == ("Hot food 温かい物", "orange")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/admin/stalls")
    shoot(page, "stalls-categories-ja", full_page=False)
    # every heading stands over its column: the heading's cells start where the first row's fields start
    starts = page.evaluate("""() => {
      const xs = el => [...el.children].filter(c => c.type !== "hidden")
                                       .map(c => Math.round(c.getBoundingClientRect().left));
      return [xs(document.querySelector("table.products .product-head")),
              xs(document.querySelector("tr[data-product=Cola] form.product-form"))];
    }""")
    assert len(starts[0]) == len(starts[1]) == 9, starts
    assert all(abs(h - r) <= 2 for h, r in zip(*starts, strict=True)), starts

    # what a hand-edited page sends: a colour not in the palette, a category over 40 characters
    row = page.locator("tr[data-product=Cola] form.product-form")
    row.locator("select[name=colour]").evaluate(
        "s => { s.add(new Option('magenta', 'magenta')); s.value = 'magenta'; }")
    row.locator("button").click()
    page.wait_for_load_state()
    assert "ボタンの色は一覧から選んでください" in page.inner_text(".error-page")
    page.goto("/admin/stalls")
    row = page.locator("tr[data-product=Cola] form.product-form")
    row.locator("input[name=category]").evaluate("i => i.removeAttribute('maxlength')")
    row.locator("input[name=category]").fill("あ" * 41)
    row.locator("button").click()
    page.wait_for_load_state()
    assert "分類は40文字までです" in page.inner_text(".error-page")
    assert _looks(live, stall)["Cola"] == ("Drinks 飲み物", "red")  # refused: nothing changed

    # the stall's terminal pulls both
    term = seed.terminal("stall", stall_id=stall)
    answer = httpx.post(f"{live.url}/api/v1/pull", json={}, headers=term.headers, timeout=10)
    assert answer.status_code == 200, answer.text
    pulled = {p["name"]: (p["category"], p["colour"]) for p in answer.json()["products"] if p["stall_id"] == stall}
    assert pulled == {"Cola": ("Drinks 飲み物", "red"), "Yakisoba": ("Hot food 温かい物", "orange")}
